"""`herolion train` end to end: the demo learns; resume after SIGKILL/SIGTERM is exact; the
same run on two single-threaded CPU devices (``--cpu-devices 2``) logs the same losses."""
import json
import signal
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from herolion import checkpoints
from tests.launch.cli_helpers import run_cli, start_cli, tiny_args

DEMO = "herolion/configs/demo.py"


def test_demo_trains_to_90_percent_and_writes_everything(digits_dir, tmp_path):
    workdir = tmp_path / "demo"
    # as `make demo` runs it (README): one single-threaded CPU device per core
    proc = run_cli("train", "--config", f"{DEMO}:steps=300,data_dir={digits_dir}",
                   "--workdir", workdir, "--config.ckpt_steps=150", "--cpu-devices", "auto",
                   optimized=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    evals = json.loads((workdir / "eval.json").read_text())
    assert evals["step"] == 300 and evals["test/prec@1"] >= 0.90, evals
    assert evals["test/examples"] == 359
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train_rows][:3] == [50, 100, 150]
    assert {"loss", "lr", "grad_norm", "param_norm", "update_norm", "steps_per_sec",
            "images_per_sec_per_device", "eta_seconds"} <= set(train_rows[-1])
    assert train_rows[-1]["loss"] < train_rows[0]["loss"]
    assert list(workdir.glob("events.out.tfevents.*")), "no TensorBoard event file"
    assert json.loads((workdir / "config.json").read_text())["optimizer"] == "lion"
    ckpt = workdir / "checkpoints"
    assert sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) == [150, 300]
    params = checkpoints.read_params(workdir)
    assert params["head"]["kernel"].shape == (64, 10)
    assert "ETA" in proc.stdout and "img/s/device" in proc.stdout




def committed(workdir):
    ckpt = Path(workdir) / "checkpoints"
    return sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) if ckpt.exists() else []


def wait_for_checkpoint(workdir, step, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if step in committed(workdir):
            return
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.stdout.read()[-2000:]}")
        time.sleep(0.05)
    raise AssertionError("no checkpoint in time")


def assert_same_final_state(a, b, step):
    for item in ("params", "opt_state"):
        x = checkpoints.read_params(a, step, item=item)
        y = checkpoints.read_params(b, step, item=item)
        flat_x, flat_y = _flat(x), _flat(y)
        assert flat_x.keys() == flat_y.keys()
        for key in flat_x:
            np.testing.assert_array_equal(flat_x[key], flat_y[key], err_msg=f"{item}/{key}")


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_flat(v, f"{prefix}/{k}"))
        return out
    if isinstance(tree, (list, tuple)):
        out = {}
        for i, v in enumerate(tree):
            out.update(_flat(v, f"{prefix}/{i}"))
        return out
    return {prefix: np.asarray(tree)}


def test_resume_after_sigkill_is_bitwise_exact(digits_dir, tmp_path, straight_run):
    workdir = tmp_path / "killed"
    proc = start_cli(*tiny_args(digits_dir, workdir))
    wait_for_checkpoint(workdir, 20, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert max(committed(workdir)) < 40
    resumed = run_cli(*tiny_args(digits_dir, workdir))
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert "resumed from step" in resumed.stdout
    assert_same_final_state(straight_run, workdir, 40)


def test_sigterm_saves_exits_75_and_resumes_exactly(digits_dir, tmp_path, straight_run):
    workdir = tmp_path / "preempted"
    proc = start_cli(*tiny_args(digits_dir, workdir))
    wait_for_checkpoint(workdir, 10, proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == checkpoints.PREEMPTED_EXIT_CODE, out[-3000:]
    stopped_at = max(committed(workdir))
    assert stopped_at > 10 or stopped_at == 10 and "preempted at step 10" in out
    resumed = run_cli(*tiny_args(digits_dir, workdir))
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert_same_final_state(straight_run, workdir, 40)


def test_nan_loss_stops_naming_the_step_and_keeps_the_good_checkpoint(digits_dir, tmp_path):
    workdir = tmp_path / "nan"
    ok = run_cli(*tiny_args(digits_dir, workdir, steps=20))
    assert ok.returncode == 0, ok.stdout[-3000:]
    before = checkpoints.read_params(workdir, 20)
    # continue the run to step 40 with an absurd learning rate: the params blow up at once.
    proc = run_cli(*tiny_args(digits_dir, workdir, steps=40), "--config.lr=1e30")
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    message = proc.stderr.strip().splitlines()[-1]
    assert "step 21: non-finite" in message, message
    assert committed(workdir) == [10, 20]
    after = checkpoints.read_params(workdir, 20)
    np.testing.assert_array_equal(before["head"]["kernel"], after["head"]["kernel"])
    again = run_cli(*tiny_args(digits_dir, workdir, steps=20))
    assert again.returncode == 0 and "resumed from step 20" in again.stdout


def logged_losses(workdir):
    rows = [json.loads(line) for line in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def test_two_cpu_devices_train_like_one(digits_dir, tmp_path, straight_run):
    workdir = tmp_path / "two"
    proc = run_cli(*tiny_args(digits_dir, workdir), "--cpu-devices", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "--cpu-devices 2: 2 single-threaded CPU device(s) per process" in proc.stdout
    # the checkpoint's arrays were sharded over a 2-device mesh
    meta = ocp.StandardCheckpointHandler().metadata(workdir / "checkpoints" / "40" / "params")
    assert {tuple(m.sharding.shape) for m in jax.tree.leaves(meta)} == {(2,)}
    one, two = logged_losses(straight_run), logged_losses(workdir)
    assert one.keys() == two.keys() and len(one) >= 8
    np.testing.assert_allclose([two[s] for s in sorted(two)], [one[s] for s in sorted(one)],
                               rtol=1e-5)
