"""Save on an 8-device FSDP mesh, resume on 2 devices: the run continues as if uninterrupted."""
import shutil

import jax
import numpy as np

from herolion import checkpoints
from tests.launch.cli_helpers import run_cli


def train(digits_dir, workdir, mesh, devices):
    # AdamW, not Lion: sign() would flip on float-rounding-sized differences between meshes.
    return run_cli("train", "--config", f"herolion/configs/demo.py:steps=14,width=16,depth=1,"
                   f"batch=32,optimizer=adamw,data_dir={digits_dir}", "--workdir", workdir,
                   "--config.log_steps=7", "--config.ckpt_steps=10",
                   "--config.async_checkpoints=False", f"--config.mesh={mesh}", devices=devices)


def test_checkpoint_from_8_devices_resumes_on_2(digits_dir, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    proc = train(digits_dir, straight, "data=2,fsdp=4", devices=8)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    shutil.copytree(straight, resumed)
    shutil.rmtree(resumed / "checkpoints" / "14")      # as if preempted after step 10's save
    saved_at_10 = checkpoints.read_params(resumed)
    proc = train(digits_dir, resumed, "data=1,fsdp=2", devices=2)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "resumed from step 10" in proc.stdout
    # the step-10 checkpoint was read, not rewritten, and the run ended where the straight one did
    jax.tree.map(np.testing.assert_array_equal, saved_at_10,
                 checkpoints.read_params(straight, 10))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5),
                 checkpoints.read_params(straight, 14), checkpoints.read_params(resumed, 14))
