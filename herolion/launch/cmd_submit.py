"""`herolion submit --cluster local|slurm|gke|tpu --config FILE.py[:ARGS] --workdir DIR ...`.

The same config and ``--config.a.b=VALUE`` overrides as ``herolion train``, run as one
multi-process JAX job on a cluster engine that already exists (see docs/launch.md).
``--dry-run`` prints the artefact (sbatch script, JobSet YAML, gcloud command, process
list) without needing the cluster's tool. Exit status: the job's for ``local`` (0, 75
after the last requeue, or the failing process's), else the submitting tool's.
"""
from herolion.launch import backends


def register(sub):
    p = sub.add_parser("submit", help="run a config as a multi-process job on a cluster",
                       description=__doc__.splitlines()[0])
    p.add_argument("--cluster", default="local", help="local (default) | slurm | gke | tpu")
    p.add_argument("--config", required=True, help="FILE.py[:ARGS]")
    p.add_argument("--workdir", required=True, help="shared by all processes")
    p.add_argument("--dry-run", action="store_true", help="print what would be submitted")
    p.add_argument("--name", help="job name (lowercase, digits, '-')")
    size = p.add_argument_group("size")
    size.add_argument("--nodes", type=int, default=1)
    size.add_argument("--processes-per-node", type=int, default=1)
    size.add_argument("--num-processes", type=int,
                      help="total processes (local: how many to start; default nodes x "
                           "processes-per-node)")
    size.add_argument("--gpus-per-node", type=int, default=0)
    size.add_argument("--devices-per-process", type=int, default=0,
                      help="local CPU runs: XLA host devices per process")
    run = p.add_argument_group("run")
    run.add_argument("--max-restarts", type=int, default=3,
                     help="requeues after a preemption (exit 75)")
    run.add_argument("--heartbeat-timeout", type=int, default=100,
                     help="seconds after which a process whose peer died exits")
    run.add_argument("--python", help="interpreter on the hosts (default: this one for "
                                      "local/slurm, python3 for gke/tpu)")
    slurm = p.add_argument_group("slurm")
    slurm.add_argument("--time", help="[D-]HH:MM:SS")
    slurm.add_argument("--partition")
    slurm.add_argument("--account")
    gke = p.add_argument_group("gke")
    gke.add_argument("--image", help="container image with herolion installed")
    tpu = p.add_argument_group("tpu")
    tpu.add_argument("--tpu-name")
    tpu.add_argument("--zone")
    tpu.add_argument("--accelerator-type", help="e.g. v5litepod-16 (queued resources)")
    tpu.add_argument("--runtime-version", help="TPU VM image (queued resources)")
    tpu.add_argument("--queued", action="store_true",
                     help="create the TPU with queued-resources first")
    p.set_defaults(func=run_submit, accepts_config_overrides=True)


def run_submit(args):
    from herolion.launch.backends.job import from_args
    job = from_args(args)
    return backends.get(job.cluster).submit(job)
