"""LiT end to end through the CLI: lock the demo's ViT, train a text tower on digits_captions,
zero-shot classify digits with held-out prompts, reproduce the logged accuracy, bad input."""
import json

import jax
import numpy as np
import pytest

from herolion import checkpoints
from herolion.launch import cli
from tests.launch.cli_helpers import run_cli


@pytest.fixture(scope="module")
def lit_run(digits_dir, tmp_path_factory):
    # Two runs of 100 and 200 steps: XLA's default code generation (running outweighs
    # compiling here; see tests/launch/cli_helpers.py). The LiT demo's 300 steps reach
    # the same zero-shot accuracy (0.844) at 200.
    root = tmp_path_factory.mktemp("lit")
    image, lit = root / "image", root / "lit"
    proc = run_cli("train", "--config", f"herolion/configs/demo.py:steps=100,data_dir={digits_dir}",
                   "--workdir", image, "--config.log_steps=100", optimized=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = run_cli("train", "--config",
                   f"herolion/configs/lit.py:variant=demo,init={image},data_dir={digits_dir},steps=200",
                   "--workdir", lit, "--config.log_steps=100", optimized=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return image, lit, proc.stdout


def test_lit_demo_zero_shot_with_held_out_prompts_and_retrieval(lit_run):
    image, lit, stdout = lit_run
    assert f"initialised from img: {image}" in stdout
    evals = json.loads((lit / "eval.json").read_text())
    assert evals["zeroshot/examples"] == 359
    assert evals["zeroshot/prec@1"] >= 0.8          # chance: 0.1
    # 359 test pairs: a random ranking puts the pair first with chance ~1/359, top-10 ~10/359
    chance = 1 / 359
    assert evals["retrieval/i2t_recall@1"] > 10 * chance
    assert evals["retrieval/t2i_recall@10"] > 5 * 10 * chance
    assert evals["retrieval/i2t_recall@10"] >= evals["retrieval/i2t_recall@1"]


def test_locked_tower_is_bitwise_the_loaded_one_and_has_no_optimizer_state(lit_run):
    image, lit, _ = lit_run
    loaded = checkpoints.read_params(image)
    trained = checkpoints.read_params(lit)
    loaded.pop("head")   # the LiT image tower is the pre-logits: no classification head
    flat_old = _flat(loaded)
    flat_new = _flat(trained["img"])
    assert flat_old.keys() == flat_new.keys()
    for key in flat_old:
        np.testing.assert_array_equal(flat_old[key], flat_new[key], err_msg=key)
    opt = checkpoints.read_params(lit, item="opt_state")
    momentum_values = sum(np.size(v) for v in jax.tree.leaves(opt)
                          if np.asarray(v).dtype == np.float32)
    trainable = sum(v.size for k, v in _flat(trained).items() if not k.startswith("img/"))
    assert momentum_values == trainable


def test_zeroshot_command_reproduces_the_logged_accuracy(lit_run, tmp_path):
    _, lit, _ = lit_run
    logged = json.loads((lit / "eval.json").read_text())["zeroshot/prec@1"]
    out = tmp_path / "zs.json"
    # compiled as the training run's evaluator was: the accuracy must match exactly
    proc = run_cli("zeroshot", "--workdir", lit, "--dataset", "digits:test", "--output", out,
                   optimized=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["zeroshot/prec@1"] == logged
    assert result["zeroshot/examples"] == 359 and result["zeroshot/prec@5"] >= logged


def test_zeroshot_bad_input_is_one_line(lit_run, tmp_path, capsys):
    image, lit, _ = lit_run
    wrong = tmp_path / "names.txt"
    wrong.write_text("zero\none\ntwo\n")
    empty = tmp_path / "prompts.txt"
    empty.write_text("\n")
    cases = [
        (["--workdir", lit, "--classnames", wrong], "classnames"),
        (["--workdir", lit, "--prompts", empty], "prompts"),
        (["--workdir", image], "two-tower"),
        (["--checkpoint", tmp_path / "nowhere"], "--checkpoint"),
    ]
    # in-process (a console-script start costs ~8 s of imports each); the first case also
    # goes through the real console script, for its exit status and stderr
    proc = run_cli("zeroshot", *cases[0][0], "--dataset", "digits:test")
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and cases[0][1] in lines[0], proc.stderr
    for args, needle in cases:
        capsys.readouterr()
        status = cli.main(["zeroshot", *map(str, args), "--dataset", "digits:test"])
        lines = capsys.readouterr().err.strip().splitlines()
        assert status == 2, (args, lines)
        assert len(lines) == 1 and needle in lines[0], (args, lines)


def _flat(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, path + "/"))
        else:
            out[path] = np.asarray(value)
    return out
