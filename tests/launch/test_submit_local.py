"""`herolion submit --cluster local`: 2 real processes, one JAX runtime over gloo, equal to
one process with the same global batch.

Why ``input.shuffle=False``: the pipeline gives process ``i`` the slice ``ds[i::n]`` and
shuffles it with a per-process seed, so with shuffling a 2-process run sees a different
(equally valid) stream from a 1-process run. Unshuffled, global batch ``t`` holds the
same 32 examples in both runs (process ``i`` takes ``32t + i + 2k``), and the demo's
preprocessing is deterministic, so the runs differ only in the order of a sum: equal
within 1e-5 (in practice bitwise).

One exception, for a real reason: the attention *key bias*. Its true gradient is exactly
zero (adding ``q·b`` to every score of a softmax row changes nothing), so what the
runs compute for it is float noise of either sign around 0, and Lion's ``sign()`` turns
that noise into full ``±lr`` steps. Those parameters cannot affect the model's outputs;
they are compared for shape only, every other parameter (and all optimizer state, whose
momentum for them stays at noise level) within 1e-5.
"""
import json

import numpy as np
import pytest

from herolion import checkpoints
from tests.launch.cli_helpers import run_cli

DEMO = "herolion/configs/demo.py"
STEPS = 20


def tiny(digits_dir):
    return ["--config", f"{DEMO}:steps={STEPS},width=16,depth=1,batch=32,data_dir={digits_dir}",
            "--config.log_steps=5", "--config.ckpt_steps=10", "--config.async_checkpoints=False",
            "--config.input.shuffle=False"]


@pytest.fixture(scope="module")
def one_process(digits_dir, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("one")
    proc = run_cli("train", "--workdir", workdir, *tiny(digits_dir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


def test_two_local_processes_train_like_one(digits_dir, tmp_path, one_process):
    workdir = tmp_path / "two"
    proc = run_cli("submit", "--cluster", "local", "--num-processes", "2", "--workdir", workdir,
                   *tiny(digits_dir))
    logs = {i: (workdir / "logs" / f"process_{i}.log") for i in (0, 1)}
    text = {i: p.read_text() if p.exists() else "" for i, p in logs.items()}
    assert proc.returncode == 0, proc.stdout + text[0][-2000:] + text[1][-2000:]
    for i in (0, 1):
        assert "done: step=20" in text[i], text[i][-2000:]
    # process 0 alone prints progress and writes metrics: each step logged exactly once
    assert "step 5/20" in text[0] and "step 5/20" not in text[1]
    rows = [json.loads(l) for l in (workdir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [5, 10, 15, 20]
    ckpt = workdir / "checkpoints"
    assert sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) == [10, 20]
    assert json.loads((workdir / "launch" / "local.json").read_text())["status"] == 0
    for item in ("params", "opt_state"):
        two = _flat(checkpoints.read_params(workdir, STEPS, item=item))
        one = _flat(checkpoints.read_params(one_process, STEPS, item=item))
        assert two.keys() == one.keys()
        for key in one:
            if one[key] is None or two[key] is None:     # empty optax states
                assert one[key] is two[key] is None, key
                continue
            if item == "params" and key.endswith("/key/bias"):
                assert two[key].shape == one[key].shape
                continue
            np.testing.assert_allclose(two[key], one[key], atol=1e-5, rtol=0,
                                       err_msg=f"{item}{key}")

    status = run_cli("status", "--workdir", workdir)
    assert status.returncode == 0
    assert "checkpoint: step 20" in status.stdout and "0 of 2 alive" in status.stdout


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}/{key}").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, sub in enumerate(tree) for k, v in _flat(sub, f"{prefix}/{i}").items()}
    return {prefix: None if tree is None else np.asarray(tree)}
