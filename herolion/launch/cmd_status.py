"""`herolion status --workdir DIR`: the run's newest checkpoint, last metrics and processes.

For a local submission it says which recorded processes are alive; for SLURM it asks
``squeue`` about the recorded job (when ``squeue`` is installed). ``--json`` prints one
object for scripts.
"""
import json
import shutil
import subprocess

from herolion.launch import runstate


def register(sub):
    p = sub.add_parser("status", help="step, metrics and processes of a run",
                       description=__doc__.splitlines()[0])
    p.add_argument("--workdir", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def collect(workdir) -> dict:
    record = runstate.launch_record(workdir) or {}
    info = {"workdir": str(workdir), "checkpoint_step": runstate.latest_checkpoint(workdir),
            "last_metrics": runstate.last_metrics(workdir), "cluster": record.get("cluster")}
    if record.get("cluster") == "local":
        info["processes"] = {str(pid): runstate.alive(pid) for pid in record.get("pids", [])}
        if "status" in record:
            info["exit_status"] = record["status"]
    elif record.get("cluster") == "slurm":
        info["job_id"] = record["job_id"]
        squeue = shutil.which("squeue")
        if squeue:
            out = subprocess.run([squeue, "-h", "-j", record["job_id"], "-o", "%T"],
                                 capture_output=True, text=True).stdout.strip()
            info["job_state"] = out or "not in queue (finished)"
    return info


def run(args):
    info = collect(runstate.workdir_path(args.workdir))
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"workdir: {info['workdir']}")
    print(f"checkpoint: step {info['checkpoint_step']}" if info["checkpoint_step"] is not None
          else "checkpoint: none yet")
    metrics = info["last_metrics"]
    if metrics:
        print("last metrics: " + " ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
    if "processes" in info:
        live = [pid for pid, up in info["processes"].items() if up]
        print(f"local processes: {len(live)} of {len(info['processes'])} alive"
              + (f" ({', '.join(live)})" if live else ""))
        if "exit_status" in info:
            print(f"finished with status {info['exit_status']}")
    if "job_id" in info:
        print(f"slurm job {info['job_id']}: {info.get('job_state', 'unknown (no squeue)')}")
    return 0
