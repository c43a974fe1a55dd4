"""``herolion train --cpu-devices N|auto``: split a CPU run's batch over single-threaded
XLA devices, one per core.

Why: one XLA:CPU device runs the big matmuls on all cores but much of the rest of a step
(elementwise fusions, small ops) on one, so a small model barely uses a second core. With
one single-threaded device per core and the batch split over the mesh's data axis, each
core works on its own slice: on the 2-core development VM the demo trains ~1.7x faster,
ViT-S/16 at 224 px 0-7 % (``bench/train_step.py``, ``docs/trainer.md``).

The step is the same, sharded: results equal a one-device run's up to float rounding, so
a resumed run is bitwise exact when it uses the same device count. XLA reads its flags
when JAX creates its CPU backend, so this must run before anything touches a backend.
"""
import os

from herolion.errors import ConfigError

_REPLACED = ("--xla_force_host_platform_device_count", "--xla_cpu_multi_thread_eigen")


def device_count(spec: str, batch: int, cores: int, processes: int = 1) -> int:
    """Devices per process: ``N``, or for ``auto`` the most (at most ``cores``) that split
    the global ``batch`` evenly over ``processes`` x devices."""
    if spec == "auto":
        return next(d for d in range(max(cores, 1), 0, -1) if batch % (processes * d) == 0)
    try:
        n = int(spec)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"--cpu-devices: {spec!r} is neither a positive integer nor 'auto'")
    return n


def xla_flags(current: str, devices: int) -> str:
    """``current`` XLA_FLAGS with ``devices`` single-threaded host devices (a count of 1
    keeps XLA's default: one device on all cores)."""
    keep = [f for f in current.split() if not f.startswith(_REPLACED)]
    if devices == 1:
        return " ".join(keep)
    return " ".join(keep + [f"--xla_force_host_platform_device_count={devices}",
                            "--xla_cpu_multi_thread_eigen=false"])


def use(spec: str, batch: int, processes: int = 1, environ=None) -> int:
    """Sets XLA_FLAGS in ``environ`` (default ``os.environ``) for :func:`device_count`
    devices; returns the count. Refused once this process has created a JAX backend."""
    environ = os.environ if environ is None else environ
    try:
        batch = int(batch)
    except (TypeError, ValueError):   # the trainer names a bad input.batch_size itself
        batch = 0
    n = device_count(spec, batch, os.cpu_count() or 1, processes)
    from jax._src import xla_bridge
    if xla_bridge.backends_are_initialized():
        raise ConfigError("--cpu-devices: JAX's backend already exists in this process; "
                          "set XLA_FLAGS before it starts (docs/trainer.md)")
    environ["XLA_FLAGS"] = xla_flags(environ.get("XLA_FLAGS", ""), n)
    return n
