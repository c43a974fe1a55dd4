"""The `herolion` console script: the demo trains for real; bad input is one line, exit 2."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.xla_flags import subprocess_xla_flags

HEROLION = Path(sys.executable).with_name("herolion")


def run_cli(*args, timeout=300):
    env = dict(os.environ, XLA_FLAGS=subprocess_xla_flags())
    return subprocess.run([str(HEROLION), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_demo_trains_each_optimizer_to_high_accuracy():
    proc = run_cli("demo", "--steps", "200", "--json")
    assert proc.returncode == 0, proc.stderr
    results = {r["optimizer"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert set(results) == {"lion", "adamw", "adafactorw", "sgdm"}
    for name, r in results.items():
        assert r["test_accuracy"] >= 0.9, (name, r)
    per_param = {n: r["state_bytes"] / r["params"] for n, r in results.items()}
    assert per_param["lion"] == pytest.approx(4.0, abs=0.01)
    assert per_param["adamw"] == pytest.approx(8.0, abs=0.01)


@pytest.mark.parametrize("args, field", [
    (["demo", "--optimizers", "lion,lamb"], "--optimizers"),
    (["demo", "--steps", "0"], "--steps"),
])
def test_bad_input_is_one_line_and_exit_2(args, field):
    proc = run_cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], proc.stderr
