"""``--cluster slurm``: an sbatch script with one ``srun`` task per JAX process.

Inside ``srun`` JAX's own SLURM detection finds the coordinator (first node of the step),
process count and id, so the script only says how many tasks to start. Preemption:

* ``--signal=TERM@120`` makes SLURM send SIGTERM to every task 120 s before the time
  limit (and ``scancel --signal=TERM`` does the same on demand); each ``herolion train``
  then saves a checkpoint and exits 75;
* the batch shell sees ``srun`` exit 75 and runs ``scontrol requeue $SLURM_JOB_ID``;
  ``--requeue`` allows it, and the requeued job resumes from the checkpoint by itself.
  ``--max-restarts`` bounds the requeues through ``SLURM_RESTART_COUNT``.

User values reach the script in two ways, both safe: ``#SBATCH`` values are restricted to
plain characters by :mod:`job`, and the train command is ``shlex``-quoted word by word.
"""
from __future__ import annotations

import shlex
import subprocess

from herolion.checkpoints import PREEMPTED_EXIT_CODE
from herolion.errors import ConfigError
from herolion.launch import distributed
from herolion.launch.backends.job import Job, tool, train_argv

SIGNAL_LEAD_S = 120


def directives(job: Job) -> list[str]:
    """The ``#SBATCH`` lines."""
    if any(c in job.workdir for c in "\n\"'"):
        raise ConfigError("--workdir: quotes are not supported in a SLURM workdir")
    lines = [f"--job-name={job.name}", f"--nodes={job.nodes}",
             f"--ntasks-per-node={job.processes_per_node}"]
    if job.gpus_per_node:
        lines.append(f"--gpus-per-node={job.gpus_per_node}")
    for flag, value in (("time", job.time), ("partition", job.partition),
                        ("account", job.account)):
        if value:
            lines.append(f"--{flag}={value}")
    lines += ["--requeue", f"--signal=TERM@{SIGNAL_LEAD_S}", "--open-mode=append",
              f'--output="{job.workdir}/logs/slurm-%j.out"']
    return [f"#SBATCH {line}" for line in lines]


def render(job: Job) -> str:
    """The whole sbatch script (``--dry-run`` prints it; ``bash -n`` accepts it)."""
    train = shlex.join(train_argv(job))
    return "\n".join([
        "#!/bin/bash",
        f"# herolion submit --cluster slurm: {job.num_processes} processes "
        f"({job.nodes} nodes x {job.processes_per_node})",
        *directives(job),
        "",
        f"cd {shlex.quote(job.cwd)}",
        f"export {distributed.ENV_HEARTBEAT}={job.heartbeat_timeout}",
        *([f"export {distributed.ENV_GPUS_PER_PROCESS}="
           f"{job.gpus_per_node // job.processes_per_node}"] if job.gpus_per_node else []),
        'echo "herolion: job $SLURM_JOB_ID restart ${SLURM_RESTART_COUNT:-0} on"'
        ' "$SLURM_JOB_NODELIST"',
        f"srun --kill-on-bad-exit=0 {train}",
        "status=$?",
        f"if [ $status -eq {PREEMPTED_EXIT_CODE} ]; then",
        f"    if [ \"${{SLURM_RESTART_COUNT:-0}}\" -lt {job.max_restarts} ]; then",
        '        echo "herolion: preempted; requeueing job $SLURM_JOB_ID"',
        "        scontrol requeue \"$SLURM_JOB_ID\"",
        "    else",
        '        echo "herolion: preempted, but the requeue limit is reached"',
        "    fi",
        "fi",
        "exit $status",
        "",
    ])


def submit(job: Job) -> int:
    script = render(job)
    if job.dry_run:
        print(script, end="")
        return 0
    sbatch = tool("sbatch", "slurm")
    from pathlib import Path
    (Path(job.workdir) / "logs").mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sbatch, "--parsable"], input=script, text=True,
                          capture_output=True)
    if proc.returncode:
        print(proc.stderr.strip())
        return proc.returncode
    job_id = proc.stdout.strip().split(";")[0]
    _record(job, job_id, script)
    print(f"submitted SLURM job {job_id}; logs: {job.workdir}/logs/slurm-{job_id}.out",
          flush=True)
    return 0


def _record(job, job_id, script):
    import json
    from pathlib import Path
    state = Path(job.workdir) / "launch"
    state.mkdir(parents=True, exist_ok=True)
    (state / "slurm.sbatch").write_text(script)
    (state / "slurm.json").write_text(json.dumps({"cluster": "slurm", "job_id": job_id}) + "\n")
