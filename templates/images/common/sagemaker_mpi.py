"""Runs one MPI training command across the hosts of a SageMaker training job.

Shared by the tensorpack and aws-samples images (stackctl image build copies it into each
build). SageMaker gives a custom image its job through files, not environment variables:
/opt/ml/input/config/resourceconfig.json (current_host, hosts, network_interface_name) and
hyperparameters.json, the channels under /opt/ml/input/data/<name>, the model directory
/opt/ml/model (SAGEMAKER_BASE_DIR replaces /opt/ml, for tests).

What the tutorials' entrypoint got wrong, fixed here:
- the training process's exit code is the container's exit code (the tutorial forced 0, so a
  crashed training was reported Completed);
- stderr is kept (the tutorial sent it to /dev/null, so the traceback never reached CloudWatch);
- SIGTERM (StopTrainingJob, a spot interruption) is passed on to mpirun instead of ending in
  SIGKILL.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

SSH_PORT = 22
BASE = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")


def _config(name, default):
    try:
        with open(os.path.join(BASE, "input", "config", name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def hyperparameters():
    """hyperparameters.json: every value is a string."""
    return {k: str(v) for k, v in _config("hyperparameters.json", {}).items()}


def resources():
    return _config("resourceconfig.json", {"current_host": "algo-1", "hosts": ["algo-1"]})


def hosts():
    return sorted(resources().get("hosts", ["algo-1"]))


def channel(name):
    return os.path.join(BASE, "input", "data", name)


def model_dir():
    return os.path.join(BASE, "model")


def gpus_per_host():
    """GPUs of this host (nvidia-smi -L prints one line per GPU); 1 process without GPUs."""
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=True)
        count = sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
    except (OSError, subprocess.CalledProcessError):
        count = 0
    return max(count, 1)


def wait_for_ssh(host, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, SSH_PORT), timeout=5):
                return
        except OSError:
            time.sleep(2)
    sys.exit(f"host {host} did not open its SSH port within {timeout} s")


def mpi_running():
    return subprocess.run(["pgrep", "-f", "orted|prted"], stdout=subprocess.DEVNULL).returncode == 0


def run(command, cwd=None):
    """On the first host: mpirun the command on every GPU of every host and return its exit
    code. On the other hosts: serve SSH until the first host's MPI processes here have ended."""
    config = resources()
    all_hosts = hosts()
    current = config.get("current_host", all_hosts[0])
    interface = config.get("network_interface_name", "eth0")
    gpus = gpus_per_host()
    multi = len(all_hosts) > 1
    if multi:
        subprocess.Popen(["/usr/sbin/sshd", "-D", "-p", str(SSH_PORT)], start_new_session=True)
    if current != all_hosts[0]:
        deadline = time.time() + 1800
        while not mpi_running():
            if time.time() > deadline:
                sys.exit("the first host never started MPI processes on this host")
            time.sleep(2)
        while mpi_running():
            time.sleep(2)
        return 0
    for host in all_hosts[1:]:
        wait_for_ssh(host)
    placement = ",".join(f"{h}:{gpus}" for h in all_hosts) if multi else f"localhost:{gpus}"
    mpirun = [
        "mpirun", "--allow-run-as-root",
        "--host", placement,
        "-np", str(gpus * len(all_hosts)),
        "-bind-to", "none", "-map-by", "slot",
        "-mca", "pml", "ob1", "-mca", "btl", "^openib",
        "-mca", "btl_tcp_if_include", interface,
        "-mca", "oob_tcp_if_include", interface,
        "-mca", "plm_rsh_no_tree_spawn", "1",
        "-x", "NCCL_SOCKET_IFNAME=" + interface,
        "-x", "NCCL_DEBUG=INFO",
        "-x", "LD_LIBRARY_PATH", "-x", "PATH",
        "--tag-output", "--timestamp-output",
    ]
    if cwd and not os.path.isdir(cwd):
        print(f"warning: working directory {cwd} does not exist; using {os.getcwd()}", flush=True)
        cwd = None
    print("running:", " ".join(mpirun + command), flush=True)
    # stdout and stderr both go to the container's output, which SageMaker sends to
    # CloudWatch; the exit code is the training's.
    child = subprocess.Popen(mpirun + command, cwd=cwd, stderr=subprocess.STDOUT)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    code = child.wait()
    print(f"training exited with {code}", flush=True)
    return code
