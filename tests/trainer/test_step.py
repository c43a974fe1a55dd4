"""The pure train step: learning happens, accumulation is exact, FSDP equals one device."""
import jax
import numpy as np
import pytest
from ml_collections import ConfigDict

from herolion.trainer import losses, mesh as mesh_lib, setup
from herolion.trainer.step import make_eval_step, make_train_step
from tests.trainer.steps import run_steps


def tiny_config(**kw):
    base = dict(seed=0, total_steps=20, optimizer="lion", lr=3e-3, wd=0.1,
                schedule=dict(decay_type="cosine", warmup_steps=2),
                model_name="vit",
                model=dict(patch_size=(4, 4), width=32, depth=2, mlp_dim=64, num_heads=2,
                           num_classes=10, pool_type="gap"),
                input=dict(batch_size=16), mesh="data=-1")
    base.update(kw)
    return ConfigDict(base)


def batches(n, batch=16, seed=0):
    """Learnable synthetic data: each of 4 classes is a fixed random image plus noise."""
    templates = np.random.default_rng(123).normal(size=(4, 16, 16, 3)).astype(np.float32)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        labels = rng.integers(0, 4, batch)
        images = templates[labels] + rng.normal(0, 0.5, (batch, 16, 16, 3)).astype(np.float32)
        out.append({"image": images, "labels": np.eye(10, dtype=np.float32)[labels]})
    return out


def run(config, data, devices=None, accum_steps=1):
    mesh = mesh_lib.make_mesh(config.mesh, devices)
    built = setup.build(config, mesh, data[0]["image"])
    step = make_train_step(built.model, built.tx, built.schedule, losses.softmax_xent,
                           accum_steps=accum_steps)
    state, history = run_steps(step, built, mesh, config, built.init(), data)
    return state, history, built, mesh


def test_loss_goes_down_and_metrics_are_finite():
    data = batches(40)
    state, history, built, mesh = run(tiny_config(total_steps=40), data)
    assert int(state.step) == 40
    assert history[-1]["loss"] < 0.4 * history[0]["loss"]
    for m in history:
        assert all(np.isfinite(v) for v in m.values())
    assert history[0]["lr"] == 0.0 and history[2]["lr"] == pytest.approx(3e-3)
    eval_step = jax.jit(make_eval_step(built.model))
    test = batches(1, batch=64, seed=9)[0]
    sums = eval_step(state.params, state.model_state, test)
    assert float(sums["correct"]) / float(sums["count"]) > 0.9


def test_gradient_accumulation_matches_one_big_batch():
    # AdamW, not Lion: a sign() flips on float-rounding-sized gradient differences.
    data, cfg = batches(3), tiny_config(optimizer="adamw", lr=1e-3)
    one, h1, _, _ = run(cfg, data, devices=jax.devices()[:1])
    acc, h2, _, _ = run(cfg, data, devices=jax.devices()[:1], accum_steps=4)
    np.testing.assert_allclose([m["loss"] for m in h1], [m["loss"] for m in h2], rtol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5), one.params, acc.params)


def test_fsdp_on_8_devices_matches_one_device():
    data = batches(5)
    single, h1, _, _ = run(tiny_config(optimizer="adamw", lr=1e-3), data, devices=jax.devices()[:1])
    fsdp, h8, built, mesh = run(tiny_config(optimizer="adamw", lr=1e-3, mesh="data=2,fsdp=4"), data)
    np.testing.assert_allclose([m["loss"] for m in h1], [m["loss"] for m in h8], rtol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5),
                 single.params, jax.device_get(fsdp.params))
    # optimizer state really is split: the MLP kernel's momentum holds 1/4 per device.
    mu = fsdp.opt_state[0].mu["Transformer"]["encoderblock_0"]["MlpBlock_0"]["Dense_0"]["kernel"]
    assert mu.shape == (32, 64)
    assert {s.data.shape for s in mu.addressable_shards} == {(8, 64)}
