"""XLA flags of the test suite's JAX processes (no side effects: children import it too).

XLA:CPU's code generator runs at optimisation level 0. The suite's models are tiny, so its
time is mostly XLA compiling them, not running them: level 0 compiles ~35 % faster and
runs these models about as fast; a tiny CLI training run costs ~11 instead of ~21 CPU-s.
Tests compare runs made under the same flags, or references with tolerances, so nothing
depends on it. ``tests/conftest.py`` applies it to the pytest processes.
"""
CODEGEN_FLAGS = "--xla_backend_optimization_level=0"


def subprocess_xla_flags(devices: int = 1) -> str:
    """XLA_FLAGS for a child JAX process of the tests: ``devices`` CPU devices (a user's
    one by default), compiled like the rest of the suite."""
    flags = CODEGEN_FLAGS
    if devices > 1:
        flags += f" --xla_force_host_platform_device_count={devices}"
    return flags
