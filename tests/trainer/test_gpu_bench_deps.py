"""Issue 5: the GPU benchmark must run on an image with only jax, flax and optax.

``bench/train_step.py --gpu-child`` (what ``--gpu`` runs per optimizer) is run on CPU with
a tiny ViT (mu/16) in a fresh interpreter where grain, tensorflow, tfds, clu and orbax cannot be
imported at all; it must still build, compile and time the step and print its JSON line.
"""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
ABSENT = ("grain", "tensorflow", "tensorflow_datasets", "clu", "orbax", "array_record",
          "ml_collections")

# Installed in the child before anything else: importing any ABSENT package fails as if
# it were not installed.
BLOCKER = f"""
import importlib.abc, runpy, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {ABSENT!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
        return None
sys.meta_path.insert(0, Absent())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_gpu_child_runs_without_the_data_and_checkpoint_stack():
    cmd = [sys.executable, "-c", BLOCKER, str(ROOT / "bench" / "train_step.py"),
           "--gpu-child", "lion", "--gpu-variant", "mu/16", "--gpu-batches", "2",
           "--gpu-steps", "1", "--gpu-rounds", "1"]
    # One CPU device, as on the one-GPU machine the bench is for.
    flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split()
                     if "device_count" not in f)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": flags})
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    assert result["optimizer"] == "lion" and result["batch"] == 2
    assert result["failed_batches"] == [] and result["step_s"] > 0
    # The step's FLOPs (XLA's count, the MFU numerator) against the matmul count of a
    # ViT (width 32, depth 2, mlp 64 at 224 px, 1000 classes): 2 per MAC forward, x3
    # with the backward pass.
    n, d, m, depth = 197, 32, 64, 2
    macs = 196 * 16 * 16 * 3 * d + depth * (4 * n * d * d + 2 * n * n * d + 2 * n * d * m) \
        + d * 1000
    assert 0.9 < result["flops"] / (2 * 3 * macs * 2) < 1.15, result


def test_the_blocker_really_blocks():
    code = BLOCKER.replace("sys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], "
                           "run_name=\"__main__\")\n", "import grain\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "blocked by the test" in out.stderr
