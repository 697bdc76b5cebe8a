"""Runs one MPI training command across the hosts of a SageMaker training job.

Shared by the tensorpack and aws-samples images (stackctl image build copies it into each
build). What the tutorials' entrypoint got wrong, fixed here:
- the training process's exit code is the container's exit code (the tutorial forced 0, so a
  crashed training was reported Completed);
- stderr is kept (the tutorial sent it to /dev/null, so the traceback never reached CloudWatch);
- workers wait for the master's MPI processes to end instead of sleeping in 300 s steps.
"""

import json
import os
import socket
import subprocess
import sys
import time

SSH_PORT = 22


def env_json(name, default):
    value = os.environ.get(name)
    return json.loads(value) if value else default


def hyperparameters():
    """SageMaker passes hyperparameters as strings in SM_HPS (JSON)."""
    return {k: str(v) for k, v in env_json("SM_HPS", {}).items()}


def hosts():
    return sorted(env_json("SM_HOSTS", ["algo-1"]))


def wait_for_ssh(host, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, SSH_PORT), timeout=5):
                return
        except OSError:
            time.sleep(2)
    sys.exit(f"host {host} did not open its SSH port within {timeout} s")


def start_sshd():
    subprocess.Popen(["/usr/sbin/sshd", "-D", "-p", str(SSH_PORT)], start_new_session=True)


def orted_running():
    return subprocess.run(["pgrep", "-f", "orted"], stdout=subprocess.DEVNULL).returncode == 0


def run(command, cwd=None, extra_env=()):
    """On the master: mpirun the command on every GPU of every host and exit with its code.
    On the other hosts: serve SSH until the master's MPI processes have come and gone."""
    all_hosts = hosts()
    current = os.environ.get("SM_CURRENT_HOST", all_hosts[0])
    gpus = int(os.environ.get("SM_NUM_GPUS", "1"))
    interface = os.environ.get("SM_NETWORK_INTERFACE_NAME", "eth0")
    if len(all_hosts) > 1:
        start_sshd()
    if current != all_hosts[0]:
        # Wait for the master to start ranks here, then for them to finish.
        deadline = time.time() + 1800
        while not orted_running():
            if time.time() > deadline:
                sys.exit("the master never started MPI processes on this host")
            time.sleep(5)
        while orted_running():
            time.sleep(5)
        return 0
    for host in all_hosts[1:]:
        wait_for_ssh(host)
    mpirun = [
        "mpirun", "--allow-run-as-root",
        "--host", ",".join(f"{h}:{gpus}" for h in all_hosts),
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
    for name in extra_env:
        mpirun += ["-x", name]
    if cwd and not os.path.isdir(cwd):
        print(f"warning: working directory {cwd} does not exist; using {os.getcwd()}", flush=True)
        cwd = None
    print("running:", " ".join(mpirun + command), flush=True)
    # stdout and stderr both go to the container's output, which SageMaker sends to
    # CloudWatch; the exit code is the training's.
    code = subprocess.call(mpirun + command, cwd=cwd, stderr=subprocess.STDOUT)
    print(f"training exited with {code}", flush=True)
    return code
