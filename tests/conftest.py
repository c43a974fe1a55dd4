"""Test-wide setup, before jax is imported anywhere (child processes get the same code
generation from ``tests.xla_flags.subprocess_xla_flags``):

* an 8-device CPU mesh, so sharding tests have devices to shard over;
* XLA:CPU's code generator at optimisation level 0 (why: ``tests/xla_flags.py``).
"""
import os

from tests.xla_flags import CODEGEN_FLAGS

_FLAGS = os.environ.get("XLA_FLAGS", "")
_FLAGS += " --xla_force_host_platform_device_count=8"
if "xla_backend_optimization_level" not in _FLAGS:
    _FLAGS += " " + CODEGEN_FLAGS
os.environ["XLA_FLAGS"] = _FLAGS.strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
