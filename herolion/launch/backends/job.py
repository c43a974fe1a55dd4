"""What to run and where: the validated, backend-independent description of one submission.

Built once from the parsed ``herolion submit`` flags (:func:`from_args`), so every backend
sees absolute paths and checked numbers, and every bad flag is reported the same way: a
:class:`ConfigError` naming it.
"""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

from herolion.errors import ConfigError

# Values that go into `#SBATCH` directives or resource names are not shell-quoted by the
# tools that read them, so they are restricted to characters that need no quoting.
_PLAIN = re.compile(r"^[A-Za-z0-9_.,:@%+=/-]+$")
_TIME = re.compile(r"^(\d+-)?\d{1,3}(:\d{2}){0,2}$")
_DNS = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")


@dataclasses.dataclass(frozen=True)
class Job:
    cluster: str
    config: str                   # FILE.py[:ARGS] with FILE absolute
    workdir: str                  # absolute
    overrides: tuple = ()         # ("--config.a.b=V", ...), passed through unchanged
    name: str = "herolion"
    nodes: int = 1
    processes_per_node: int = 1
    gpus_per_node: int = 0
    time: str | None = None
    partition: str | None = None
    account: str | None = None
    image: str | None = None
    tpu_name: str | None = None
    zone: str | None = None
    accelerator_type: str | None = None
    runtime_version: str = "tpu-ubuntu2204-base"
    queued: bool = False
    python: str = "python3"
    cwd: str = "."
    max_restarts: int = 3
    heartbeat_timeout: int = 100
    devices_per_process: int = 0  # local CPU runs: XLA host devices per process (0: default)
    port: int = 8476              # coordinator port on GKE/TPU (SLURM derives its own)
    dry_run: bool = False

    @property
    def num_processes(self) -> int:
        return self.nodes * self.processes_per_node


def train_argv(job: Job, python: str | None = None) -> list[str]:
    """The ``herolion train`` command each process runs (an argv list, never a shell string)."""
    return [python or job.python, "-m", "herolion.launch.cli", "train", "--config", job.config,
            "--workdir", job.workdir, *job.overrides]


def from_args(args) -> Job:
    """Checks the flags (one ConfigError per bad one) and makes paths absolute."""
    from herolion.launch import backends
    cluster = args.cluster or "local"
    if cluster not in backends.NAMES:
        raise ConfigError(f"--cluster: unknown cluster {cluster!r} "
                          f"(choose from {', '.join(backends.NAMES)})")
    nodes = _positive(args.nodes, "--nodes")
    per_node = _positive(args.processes_per_node, "--processes-per-node")
    if args.num_processes is not None:
        total = _positive(args.num_processes, "--num-processes")
        if total % nodes or (per_node != 1 and per_node * nodes != total):
            raise ConfigError(f"--num-processes: {total} does not split into --nodes {nodes} "
                              f"x --processes-per-node")
        per_node = total // nodes
    if cluster in ("gke", "tpu") and per_node != 1:
        raise ConfigError(f"--processes-per-node: --cluster {cluster} runs one process per "
                          f"host, driving all its accelerators (got {per_node} per host; "
                          f"use --nodes for more hosts)")
    if cluster == "local" and nodes != 1:
        raise ConfigError(f"--nodes: the local cluster is this one machine, got {nodes}")
    gpus = _non_negative(args.gpus_per_node, "--gpus-per-node")
    if gpus % per_node and cluster in ("local", "slurm"):
        raise ConfigError(f"--gpus-per-node: {gpus} GPUs do not split evenly over {per_node} "
                          f"processes per node")
    file, sep, arg = args.config.partition(":")
    config_file = Path(file)
    if not config_file.is_file():
        raise ConfigError(f"--config: no such file {file!r}")
    from herolion.config import load_config   # a config that does not load fails here, once
    from herolion.trainer.loop import CONFIG_KEYS
    load_config(args.config, args.config_overrides, known_keys=CONFIG_KEYS)
    for flag, value in (("--time", args.time),):
        if value is not None and not _TIME.match(value):
            raise ConfigError(f"{flag}: expected [D-]HH:MM:SS, got {value!r}")
    for flag in ("partition", "account", "zone", "accelerator_type", "runtime_version"):
        value = getattr(args, flag)
        if value is not None and not _PLAIN.match(value):
            raise ConfigError(f"--{flag.replace('_', '-')}: unexpected characters in {value!r}")
    name = args.name or "herolion"
    if not _DNS.match(name):
        raise ConfigError(f"--name: must be lowercase letters, digits and '-' (at most 40), "
                          f"got {name!r}")
    workdir = str(Path(args.workdir).expanduser().absolute())
    if "\n" in workdir or "\n" in str(config_file):
        raise ConfigError("--workdir: a newline in a path is not supported")
    python = args.python or (sys.executable if cluster in ("local", "slurm") else "python3")
    return Job(cluster=cluster, config=str(config_file.absolute()) + sep + arg,
               workdir=workdir, overrides=tuple(args.config_overrides), name=name,
               nodes=nodes, processes_per_node=per_node, gpus_per_node=gpus, time=args.time,
               partition=args.partition, account=args.account, image=args.image,
               tpu_name=args.tpu_name, zone=args.zone, accelerator_type=args.accelerator_type,
               runtime_version=args.runtime_version or Job.runtime_version,
               queued=args.queued, python=python, cwd=str(Path.cwd()),
               max_restarts=_non_negative(args.max_restarts, "--max-restarts"),
               heartbeat_timeout=_positive(args.heartbeat_timeout, "--heartbeat-timeout"),
               devices_per_process=_non_negative(args.devices_per_process,
                                                 "--devices-per-process"),
               dry_run=args.dry_run)


def require(value, flag, cluster):
    if value is None:
        raise ConfigError(f"{flag}: required for --cluster {cluster}")
    return value


def _positive(value, flag) -> int:
    if value is None or value < 1:
        raise ConfigError(f"{flag}: must be >= 1, got {value}")
    return value


def _non_negative(value, flag) -> int:
    if value is None or value < 0:
        raise ConfigError(f"{flag}: must be >= 0, got {value}")
    return value


def tool(name, cluster) -> str:
    """The cluster tool's path, or one clear error (``--dry-run`` never needs it)."""
    import shutil
    path = shutil.which(name)
    if path is None:
        raise ConfigError(f"--cluster: {cluster} needs `{name}` on PATH (not found); "
                          f"use --dry-run to only print the {cluster} artefact")
    return path
