"""Test-wide setup, before jax is imported anywhere (CLI subprocesses inherit it):

* an 8-device CPU mesh, so sharding tests have devices to shard over;
* XLA:CPU's code generator at optimisation level 0. The suite's models are tiny, so its
  time is mostly XLA compiling them, not running them: level 0 compiles ~35 % faster and
  runs these models about as fast (test_contrastive + test_cross_mesh_cli 189 s -> 126 s;
  test_train_cli, which trains the demo to 90 %, 111 s either way). Tests compare runs
  made under the same flags, or references with tolerances, so nothing depends on it.
"""
import os

_FLAGS = os.environ.get("XLA_FLAGS", "")
_FLAGS += " --xla_force_host_platform_device_count=8"
if "xla_backend_optimization_level" not in _FLAGS:
    _FLAGS += " --xla_backend_optimization_level=0"
os.environ["XLA_FLAGS"] = _FLAGS.strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
