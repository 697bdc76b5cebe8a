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
  SIGKILL (the image's entrypoint execs this process, so it is PID 1's handler that runs);
- with a CheckpointConfig (managed spot), checkpoints go to /opt/ml/checkpoints, which
  SageMaker copies to S3 while the job runs and back before a restarted job starts, and the
  training resumes from the newest one (class Checkpoints).
"""

import glob
import json
import os
import re
import shutil
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


def checkpoint_dir():
    """The checkpoint directory (CheckpointConfig.LocalPath, stackctl sends /opt/ml/checkpoints)."""
    return os.path.join(BASE, "checkpoints")


# tensorpack's ModelSaver names a checkpoint after the global step: model-<step>.index,
# model-<step>.data-*, and a `checkpoint` file per directory.
_CHECKPOINT = re.compile(r"model-(\d+)\.index$")


def newest_checkpoint(root):
    """(prefix, step) of the checkpoint with the highest step under root, or None. The step,
    not the file time: a restore from S3 does not keep modification times."""
    best = None
    for index in glob.glob(os.path.join(root, "**", "model-*.index"), recursive=True):
        match = _CHECKPOINT.search(os.path.basename(index))
        if match and (best is None or int(match.group(1)) > best[1]):
            best = (index[: -len(".index")], int(match.group(1)))
    return best


class Checkpoints:
    """Where a run writes its checkpoints and what it resumes from.

    Only when the job has a CheckpointConfig: SageMaker then creates the local path (and fills
    it from S3 on a restart); without one, checkpoints stay in the log directory as before.
    Each run gets a fresh log directory under it, because tensorpack's `--logdir` deletes an
    existing one (`set_logger_dir(logdir, 'd')`), and the newest checkpoint of any earlier run
    is loaded with the epoch after it as TRAIN.STARTING_EPOCH. A checkpoint is written at the
    end of an epoch, so its step is a multiple of steps_per_epoch."""

    def __init__(self, steps_per_epoch):
        root = checkpoint_dir()
        self.enabled = os.path.isdir(root)
        self.load = None
        self.starting_epoch = None
        self.logdir = None
        if not self.enabled:
            return
        runs = [int(m.group(1)) for m in
                (re.fullmatch(r"run-(\d+)", d) for d in os.listdir(root)) if m]
        self.logdir = os.path.join(root, f"run-{max(runs, default=0) + 1}")
        newest = newest_checkpoint(root)
        if newest:
            self.load, step = newest
            self.starting_epoch = step // max(steps_per_epoch, 1) + 1
            print(f"resuming from {self.load} (step {step}) at epoch {self.starting_epoch}",
                  flush=True)

    def config(self):
        """The --config items that continue the schedule (last, so that they win)."""
        return [f"TRAIN.STARTING_EPOCH={self.starting_epoch}"] if self.load else []

    def keep_in_model_dir(self):
        """After a successful run: the newest checkpoint into /opt/ml/model, which SageMaker
        uploads as model.tar.gz (the checkpoints themselves stay under the S3 checkpoint URI)."""
        newest = newest_checkpoint(checkpoint_dir()) if self.enabled else None
        if not newest:
            return
        os.makedirs(model_dir(), exist_ok=True)
        for path in glob.glob(glob.escape(newest[0]) + ".*"):
            shutil.copy2(path, model_dir())
        with open(os.path.join(model_dir(), "checkpoint"), "w") as f:
            name = os.path.basename(newest[0])
            f.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')


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
    # First thing: PID 1 ignores a signal it has no handler for. SIGTERM before the training
    # started ends here with 143; after, it goes to mpirun, which passes it to every rank.
    child = None

    def stop(*_):
        if child is None:
            sys.exit(128 + signal.SIGTERM)
        child.terminate()

    signal.signal(signal.SIGTERM, stop)
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
    code = child.wait()
    # Killed by a signal: the shell's convention (128 + signal), not Popen's negative number.
    code = 128 - code if code < 0 else code
    print(f"training exited with {code}", flush=True)
    return code
