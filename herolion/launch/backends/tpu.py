"""``--cluster tpu``: run the same command on every worker of a Cloud TPU VM.

``gcloud compute tpus tpu-vm ssh NAME --zone Z --worker=all --command CMD`` starts one
process per TPU host; JAX's Cloud TPU detection supplies coordinator, count and id. With
``--queued`` the TPU is first requested with ``gcloud compute tpus queued-resources
create`` (it starts when capacity is granted; spot/preemptible capacity is the usual
reason to use it).

CMD is one shell string that runs on each worker: a loop that restarts training after
exit 75 (the host was preempted and came back, checkpoint saved) at most
``--max-restarts`` times. Every user value in it is ``shlex``-quoted.
"""
from __future__ import annotations

import shlex
import subprocess

from herolion.checkpoints import PREEMPTED_EXIT_CODE
from herolion.launch import distributed
from herolion.launch.backends.job import Job, require, tool, train_argv


def remote_command(job: Job) -> str:
    """The shell line every worker runs."""
    train = shlex.join(train_argv(job))
    return (f"cd {shlex.quote(job.cwd)} && export {distributed.ENV_HEARTBEAT}="
            f"{job.heartbeat_timeout} && for attempt in $(seq 0 {job.max_restarts}); do "
            f"{train}; status=$?; [ $status -eq {PREEMPTED_EXIT_CODE} ] || exit $status; "
            f"done; exit $status")


def ssh_argv(job: Job) -> list[str]:
    name = require(job.tpu_name, "--tpu-name", "tpu")
    zone = require(job.zone, "--zone", "tpu")
    return ["gcloud", "compute", "tpus", "tpu-vm", "ssh", name, f"--zone={zone}",
            "--worker=all", f"--command={remote_command(job)}"]


def queued_argv(job: Job) -> list[str]:
    name = require(job.tpu_name, "--tpu-name", "tpu")
    zone = require(job.zone, "--zone", "tpu")
    accelerator = require(job.accelerator_type, "--accelerator-type", "tpu")
    return ["gcloud", "compute", "tpus", "queued-resources", "create", f"{name}-qr",
            f"--node-id={name}", f"--zone={zone}", f"--accelerator-type={accelerator}",
            f"--runtime-version={job.runtime_version}"]


def commands(job: Job) -> list[list[str]]:
    return ([queued_argv(job)] if job.queued else []) + [ssh_argv(job)]


def render(job: Job) -> str:
    return "".join(shlex.join(argv) + "\n" for argv in commands(job))


def submit(job: Job) -> int:
    argvs = commands(job)
    if job.dry_run:
        print(render(job), end="")
        return 0
    gcloud = tool("gcloud", "tpu")
    for argv in argvs:
        status = subprocess.run([gcloud, *argv[1:]]).returncode
        if status:
            return status
    return 0
