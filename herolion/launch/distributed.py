"""Start JAX's multi-process runtime when the environment says this is one of N processes.

``herolion train`` calls :func:`initialize_from_env` before anything touches a JAX
backend, because ``jax.distributed.initialize`` must run first. Where the numbers come
from, in order:

1. explicit flags ``--coordinator HOST:PORT --num-processes N --process-id I``;
2. ``HEROLION_COORDINATOR`` / ``HEROLION_NUM_PROCESSES`` / ``HEROLION_PROCESS_ID``, set by
   our own backends (``local`` starts N processes; the GKE manifest sets them per pod);
3. a cluster JAX detects by itself: SLURM (``srun`` with more than one task) and Cloud
   TPU VMs with several workers — there we call ``jax.distributed.initialize()`` with no
   arguments and let ``jax._src.clusters`` read the environment.

Nothing found means a single process: nothing is initialised.

Which local GPUs a process drives: JAX's SLURM detection gives each task exactly one device
(``local_device_ids=[SLURM_LOCALID]``), so one task per node with 8 GPUs would train on one
of them. Our backends therefore say it: ``HEROLION_LOCAL_DEVICE_IDS`` (``local``: each
process its own slice of ``--gpus-per-node``) or ``HEROLION_GPUS_PER_PROCESS`` (SLURM:
task ``SLURM_LOCALID`` gets that many consecutive GPUs). Neither set: JAX's defaults.

:func:`resolve` is pure
(flags + a mapping of env vars in, a :class:`Spec` out) so every case is unit-tested
without starting a runtime.
"""
from __future__ import annotations

import dataclasses
import logging
import os

from herolion.errors import ConfigError

log = logging.getLogger("herolion")

ENV_COORDINATOR = "HEROLION_COORDINATOR"
ENV_NUM_PROCESSES = "HEROLION_NUM_PROCESSES"
ENV_PROCESS_ID = "HEROLION_PROCESS_ID"
ENV_HEARTBEAT = "HEROLION_HEARTBEAT_TIMEOUT"
ENV_LOCAL_DEVICE_IDS = "HEROLION_LOCAL_DEVICE_IDS"    # "0,1": this process's local GPUs
ENV_GPUS_PER_PROCESS = "HEROLION_GPUS_PER_PROCESS"    # SLURM: GPUs per task, by SLURM_LOCALID
DEFAULT_HEARTBEAT_S = 100     # jax's own default: a dead peer is noticed within this time


@dataclasses.dataclass(frozen=True)
class Spec:
    """How to call ``jax.distributed.initialize``; ``None`` fields are left to JAX's detection."""
    source: str                       # "flags" | "env" | "slurm" | "tpu"
    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    heartbeat_timeout_s: int = DEFAULT_HEARTBEAT_S
    local_device_ids: tuple[int, ...] | None = None   # None: JAX's default

    def kwargs(self) -> dict:
        kw = {"heartbeat_timeout_seconds": self.heartbeat_timeout_s}
        if self.coordinator is not None:
            kw.update(coordinator_address=self.coordinator, num_processes=self.num_processes,
                      process_id=self.process_id)
        if self.local_device_ids is not None:
            kw["local_device_ids"] = list(self.local_device_ids)
        return kw


def add_flags(parser):
    """The explicit flags on ``herolion train``."""
    group = parser.add_argument_group("multi-process (normally set by `herolion submit`)")
    group.add_argument("--coordinator", metavar="HOST:PORT",
                       help="address of process 0's coordination service")
    group.add_argument("--num-processes", type=int, metavar="N")
    group.add_argument("--process-id", type=int, metavar="I")
    group.add_argument("--heartbeat-timeout", type=int, metavar="SECONDS",
                       help=f"a process whose peer died exits after this long "
                            f"(default {DEFAULT_HEARTBEAT_S})")


def resolve(args, environ) -> Spec | None:
    """The multi-process spec for these flags and environment, or None for one process."""
    spec = _resolve_processes(args, environ)
    if spec is None:
        return None
    return dataclasses.replace(spec, local_device_ids=local_device_ids(environ))


def local_device_ids(environ) -> tuple[int, ...] | None:
    """This process's local GPUs from our backends' variables, or None (JAX decides)."""
    ids = environ.get(ENV_LOCAL_DEVICE_IDS)
    if ids is not None:
        try:
            parsed = tuple(int(i) for i in ids.split(","))
        except ValueError:
            parsed = ()
        if not parsed or min(parsed) < 0 or len(set(parsed)) != len(parsed):
            raise ConfigError(f"{ENV_LOCAL_DEVICE_IDS}: expected distinct device numbers "
                              f"like '0,1', got {ids!r}")
        return parsed
    per = _int(environ.get(ENV_GPUS_PER_PROCESS), ENV_GPUS_PER_PROCESS)
    if per is None:
        return None
    if per < 1:
        raise ConfigError(f"{ENV_GPUS_PER_PROCESS}: must be >= 1, got {per}")
    rank = _int(environ.get("SLURM_LOCALID", "0"), "SLURM_LOCALID")
    return tuple(range(rank * per, (rank + 1) * per))


def _resolve_processes(args, environ) -> Spec | None:
    heartbeat = _heartbeat(getattr(args, "heartbeat_timeout", None), environ)
    flags = (getattr(args, "coordinator", None), getattr(args, "num_processes", None),
             getattr(args, "process_id", None))
    if any(v is not None for v in flags):
        return _explicit("flags", flags, ("--coordinator", "--num-processes", "--process-id"),
                         heartbeat)
    env = tuple(environ.get(k) for k in (ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID))
    if any(v is not None for v in env):
        names = (ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID)
        return _explicit("env", (env[0], _int(env[1], names[1]), _int(env[2], names[2])),
                         names, heartbeat)
    if _slurm_multi_task(environ):
        return Spec("slurm", heartbeat_timeout_s=heartbeat)
    if len([h for h in environ.get("TPU_WORKER_HOSTNAMES", "").split(",") if h]) > 1:
        return Spec("tpu", heartbeat_timeout_s=heartbeat)
    return None


def initialize_from_env(args, environ=None) -> Spec | None:
    """Calls ``jax.distributed.initialize`` when :func:`resolve` finds a multi-process job."""
    spec = resolve(args, os.environ if environ is None else environ)
    if spec is None:
        return None
    import jax
    # CPU devices of different processes talk through gloo; harmless on GPU/TPU, where
    # the accelerator's own collectives are used.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(**spec.kwargs())
    log.info("jax.distributed: process %d of %d (from %s)", jax.process_index(),
             jax.process_count(), spec.source)
    return spec


def _explicit(source, values, names, heartbeat) -> Spec:
    coordinator, num, pid = values
    for value, name in zip(values, names):
        if value is None:
            raise ConfigError(f"{name}: missing (set together with {', '.join(names)})")
    host, sep, port = str(coordinator).rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"{names[0]}: must be HOST:PORT, got {coordinator!r}")
    if num < 1:
        raise ConfigError(f"{names[1]}: must be >= 1, got {num}")
    if not 0 <= pid < num:
        raise ConfigError(f"{names[2]}: must be in [0, {num}), got {pid}")
    return Spec(source, coordinator, num, pid, heartbeat)


def _int(text, name):
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}: must be an integer, got {text!r}") from None


def _heartbeat(flag, environ) -> int:
    value = flag if flag is not None else _int(environ.get(ENV_HEARTBEAT), ENV_HEARTBEAT)
    if value is None:
        return DEFAULT_HEARTBEAT_S
    if value < 1:
        raise ConfigError(f"--heartbeat-timeout: must be >= 1 second, got {value}")
    return value


def _slurm_multi_task(environ) -> bool:
    """Inside ``srun`` with more than one task (``sbatch``'s batch shell alone has no PROCID)."""
    try:
        tasks = int(environ.get("SLURM_NTASKS", environ.get("SLURM_STEP_NUM_TASKS", "1")))
    except ValueError:
        return False
    return tasks > 1 and "SLURM_PROCID" in environ and "SLURM_STEP_NODELIST" in environ
