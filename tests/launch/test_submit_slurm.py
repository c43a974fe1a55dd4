"""`herolion submit --cluster slurm` against a real slurmctld/slurmd (scripts/local_slurm.sh).

One submission covers both acceptance paths, to keep the suite short: 2 tasks start and
train; ``scancel --signal=TERM`` (what ``--signal=TERM@120`` does before a time limit)
makes both save and exit 75; the batch script requeues the job; the requeued job resumes
from that checkpoint and finishes. SLURM holds a requeued batch job for ~2 minutes
(EligibleTime); the test releases it after 5 s with ``scontrol update StartTime=now+5``,
as an operator could, which changes nothing about what is tested. Not ``now``: slurmd
rejects a job credential created in the same second as the requeue revoked the old one
("Job credential revoked"), and the job then fails without running.

Skipped only outside CI when ``sbatch`` is not installed; with sbatch but no running cluster
it fails, and under CI (``CI`` set, as in .ci/run) a missing sbatch fails too.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from tests.launch.cli_helpers import run_cli

# CI (.ci/run) starts a real SLURM cluster first, so there the test must run: a missing
# sbatch fails it. Only a developer machine without SLURM skips.
pytestmark = pytest.mark.skipif(shutil.which("sbatch") is None and not os.environ.get("CI"),
                                reason="sbatch not installed (scripts/local_slurm.sh start)")

DEMO = "herolion/configs/demo.py"
STEPS = 100


def job_state(job_id):
    """The job's queue state; "GONE" once it left the queue, "UNKNOWN" if squeue failed.

    A loaded slurmctld can time out a query; that must not read as "the job finished".
    """
    proc = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        return "GONE" if "Invalid job id" in proc.stderr else "UNKNOWN"
    return proc.stdout.strip() or "GONE"


def finished(job_id, log):
    """Both tasks of the requeued run printed their final step and the job left the queue."""
    return log.read_text().count(f"done: step={STEPS}") == 2 and job_state(job_id) == "GONE"


def wait_for(predicate, timeout, what, job_id=None, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    detail = ""
    if job_id is not None:      # what SLURM and the job said, to diagnose a timeout
        detail += subprocess.run(["scontrol", "show", "job", job_id], capture_output=True,
                                 text=True).stdout
    if log is not None and log.exists():
        detail += log.read_text()[-3000:]
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


def test_slurm_job_trains_is_preempted_requeues_and_finishes(digits_dir, tmp_path):
    workdir = tmp_path / "slurm"
    proc = run_cli("submit", "--cluster", "slurm", "--num-processes", "2", "--name", "hl-test",
                   "--config", f"{DEMO}:steps={STEPS},width=16,depth=1,batch=32,"
                   f"data_dir={digits_dir}", "--workdir", workdir, "--config.log_steps=5",
                   "--config.ckpt_steps=50", "--config.async_checkpoints=False")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    job_id = json.loads((workdir / "launch" / "slurm.json").read_text())["job_id"]
    log = workdir / "logs" / f"slurm-{job_id}.out"
    try:
        # train steps are running (the preemption guard is installed): preempt
        wait_for(lambda: (workdir / "metrics.jsonl").exists(), 240, "the first metrics")
        subprocess.run(["scancel", "--signal=TERM", job_id], check=True)
        wait_for(lambda: "requeueing job" in log.read_text(), 120, "the requeue", job_id, log)
        wait_for(lambda: job_state(job_id) == "PENDING", 30, "the job to be pending", job_id, log)
        subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now+5"],
                       check=True)
        wait_for(lambda: finished(job_id, log), 400, "the requeued job to finish", job_id,
                 log)
    finally:
        subprocess.run(["scancel", job_id], capture_output=True)
    text = log.read_text()
    assert text.count("exiting with 75") == 2, text[-3000:]      # both tasks saved and left
    assert "restart 1 on" in text and "resumed from step" in text, text[-3000:]
    assert text.count(f"done: step={STEPS}") == 2, text[-3000:]
    ckpt = workdir / "checkpoints"
    steps = sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit())
    assert steps[-1] == STEPS
    rows = [json.loads(l) for l in (workdir / "metrics.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in rows) == STEPS
    status = run_cli("status", "--workdir", workdir)
    assert f"slurm job {job_id}: not in queue" in status.stdout, status.stdout
    assert f"checkpoint: step {STEPS}" in status.stdout
