"""`herolion cancel --workdir DIR`: stop the run submitted into DIR.

Local: SIGTERM to the `herolion submit` process and the recorded train processes (each
saves a checkpoint and exits 75; submit does not requeue after a cancel). SLURM:
``scancel`` the recorded job. A resubmission resumes from the checkpoint either way.
"""
import os
import shutil
import signal
import subprocess

from herolion.errors import ConfigError
from herolion.launch import runstate


def register(sub):
    p = sub.add_parser("cancel", help="stop a submitted run", description=__doc__.splitlines()[0])
    p.add_argument("--workdir", required=True)
    p.set_defaults(func=run)


def run(args):
    workdir = runstate.workdir_path(args.workdir)
    record = runstate.launch_record(workdir)
    if record is None:
        raise ConfigError(f"--workdir: {workdir} has no submission record (launch/*.json)")
    if record.get("cluster") == "slurm":
        scancel = shutil.which("scancel")
        if scancel is None:
            raise ConfigError("--workdir: a SLURM run, but `scancel` is not on PATH")
        return subprocess.run([scancel, record["job_id"]]).returncode
    pids = ([record["submit_pid"]] if "submit_pid" in record else []) + record.get("pids", [])
    signalled = []
    for pid in pids:
        if runstate.alive(pid):
            try:
                os.kill(pid, signal.SIGTERM)
                signalled.append(pid)
            except ProcessLookupError:
                pass
    print(f"sent SIGTERM to {len(signalled)} process(es)" + (f": {signalled}" if signalled else
                                                             " (none alive)"))
    return 0
