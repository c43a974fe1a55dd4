"""Run the real `herolion` console script in a subprocess (one CPU device, like a user)."""
import os
import subprocess
import sys
from pathlib import Path

from tests.xla_flags import subprocess_xla_flags

HEROLION = Path(sys.executable).with_name("herolion")


# JAX's persistent compilation cache, shared by every CLI process of this test run (fresh
# in each clone): most CLI tests train the same tiny demo, so later processes load its
# compiled steps instead of compiling them again (~10 s each on 2 cores). It is what a
# user gets from JAX_COMPILATION_CACHE_DIR (README); results are the same executables.
COMPILATION_CACHE = Path(__file__).resolve().parents[2] / ".pytest_cache" / "jax-compilation"


def cli_env(devices: int = 1, optimized: bool = False):
    """The CLI's environment: ``devices`` CPU devices, compiled like the rest of the suite
    (``tests/xla_flags.py``) unless ``optimized``: XLA's default code generation, for the
    few runs of hundreds of steps, where running time outweighs compiling."""
    flags = subprocess_xla_flags(devices)
    if optimized:
        flags = " ".join(f for f in flags.split() if "optimization_level" not in f)
    env = dict(os.environ, XLA_FLAGS=flags)
    env["JAX_PLATFORMS"] = "cpu"
    env.setdefault("JAX_COMPILATION_CACHE_DIR", str(COMPILATION_CACHE))
    return env


def run_cli(*args, timeout=600, devices=1, optimized=False):
    return subprocess.run([str(HEROLION), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=cli_env(devices, optimized))


def start_cli(*args, devices=1, log=None):
    return subprocess.Popen([str(HEROLION), *map(str, args)], env=cli_env(devices),
                            stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


#: A tiny demo run's flags: logs every 5 steps, synchronous checkpoints every 10.
TINY = ["--config.log_steps=5", "--config.ckpt_steps=10", "--config.async_checkpoints=False"]


def tiny_args(digits_dir, workdir, steps=40):
    """`herolion train` arguments of a tiny demo (width 16, depth 1, batch 32)."""
    return ["train", "--config", f"herolion/configs/demo.py:steps={steps},width=16,depth=1,"
            f"batch=32,data_dir={digits_dir}", "--workdir", workdir, *TINY]
