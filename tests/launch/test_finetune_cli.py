"""Fine-tune stage: pre-train at 16 px, fine-tune at 32 px from the checkpoint with Polyak."""
import json

import numpy as np

from herolion import checkpoints
from tests.launch.cli_helpers import run_cli

TINY = "width=16,depth=1,batch=32"


def test_pretrain_low_res_then_finetune_high_res_with_polyak(digits_dir, tmp_path):
    pre, ft = tmp_path / "pre16", tmp_path / "ft32"
    proc = run_cli("train", "--config", f"herolion/configs/demo.py:steps=30,res=16,{TINY},"
                   f"data_dir={digits_dir}", "--workdir", pre, "--config.log_steps=10")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = run_cli("train", "--config", f"herolion/configs/finetune.py:init={pre},steps=20,"
                   f"{TINY},data_dir={digits_dir}", "--workdir", ft, "--config.log_steps=10")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"initialised from {pre}" in proc.stdout
    assert "eval (polyak params)" in proc.stdout
    evals = json.loads((ft / "eval.json").read_text())
    assert evals["step"] == 20 and 0.0 <= evals["test/prec@1"] <= 1.0
    old = checkpoints.read_params(pre)
    new = checkpoints.read_params(ft)
    polyak = checkpoints.read_params(ft, item="polyak")
    # 16 px / patch 8 = 2x2 grid -> 32 px = 4x4 grid: the posemb was resampled.
    assert old["pos_embedding"].shape == (1, 4, 16)
    assert new["pos_embedding"].shape == (1, 16, 16)
    assert polyak["pos_embedding"].shape == (1, 16, 16)
    assert not np.allclose(polyak["head"]["kernel"], new["head"]["kernel"])
    assert json.loads((ft / "config.json").read_text())["polyak"]["decay"] == 0.98

    # `herolion eval` on the saved run reproduces the training-time evaluation exactly.
    proc = run_cli("eval", "--workdir", ft, "--output", tmp_path / "eval.json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    again = json.loads((tmp_path / "eval.json").read_text())
    assert again["params"] == "polyak" and again["step"] == 20
    assert again["test/prec@1"] == evals["test/prec@1"]
    assert again["test/examples"] == 359
