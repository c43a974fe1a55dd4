"""`herolion repro`: the quick protocol end to end, and the pieces it rests on.

The end-to-end test runs the real console script once per module (a few minutes on 2 shared cores)
and checks behaviour, not numbers: structure, ranges, better than chance, sane figures,
flatness that grows with σ. The unit tests pin the two claims the repro depends on: a
vmapped grid cell is the same run as a plain loop with the same herolion optimizer, and
the ablation is exactly signed momentum.
"""
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from herolion import optim
from herolion.launch import cli
from herolion.optim.tree_paths import tree_paths
from herolion.repro import flatness, grid, train
from tests.launch.cli_helpers import run_cli

OPTIMIZERS = ("adamw", "lion", "signum")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from herolion.data.prepare import prepare
    data_dir = tmp_path_factory.mktemp("tfds")
    prepare("digits", data_dir)
    out = tmp_path_factory.mktemp("repro")
    # The real console script, one device at XLA's default code generation: ~70 instead of
    # ~90 s in this 8-device, level-0 pytest process (200 steps x 12 cells run long).
    r = run_cli("repro", "--quick", "--out", out, "--data-dir", data_dir, optimized=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out, json.loads((out / "results.json").read_text())


def test_results_structure_and_ranges(quick):
    _, r = quick
    assert set(r["optimizers"]) == set(OPTIMIZERS)
    assert r["quick"] is True and r["seeds"] == [0]
    for name, o in r["optimizers"].items():
        assert len(o["cells"]) == len(o["grid"]["lr"]) * len(o["grid"]["wd"])
        for cell in o["cells"]:
            assert 0.0 <= cell["test_acc_mean"] <= 1.0 and 0.0 <= cell["val_acc_mean"] <= 1.0
            assert cell["test_acc_std"] >= 0.0
        best = o["best"]
        assert best["val_acc_mean"] == max(c["val_acc_mean"] for c in o["cells"])
        assert len(o["curve"]["step"]) == len(o["curve"]["test_acc_mean"])
        assert all(0.0 <= a <= 1.0 for a in o["curve"]["test_acc_mean"])
    assert r["optimizers"]["signum"]["betas"] == {"b1": 0.9, "b2": 0.9}


def test_lion_and_adamw_learn(quick):
    _, r = quick
    for name in ("adamw", "lion"):  # 10 classes: chance is 0.1
        assert r["optimizers"][name]["best"]["test_acc_mean"] > 0.6, name


def test_figures_open(quick):
    from PIL import Image
    out, r = quick
    assert r["figures"]
    for name in r["figures"]:
        with Image.open(out / name) as im:
            im.verify()
        with Image.open(out / name) as im:
            assert 300 <= im.size[0] <= 2000 and 200 <= im.size[1] <= 2000, (name, im.size)


def test_flatness_grows_with_sigma(quick):
    _, r = quick
    f = r["flatness"]
    assert f["sigma"][0] == 0.0 and f["draws"] >= 1
    for name in ("adamw", "lion"):
        loss = f["optimizers"][name]["loss_mean"]
        assert len(loss) == len(f["sigma"])
        assert loss[-1] > loss[0] and loss[-1] >= max(loss[:-1]), (name, loss)


def _tiny_setup():
    return train.Setup(steps=4, batch=8, warmup=1, eval_every=2, model=dict(
        patch_size=(4, 4), width=8, depth=1, mlp_dim=16, num_heads=2, num_classes=10,
        pool_type="gap", posemb="learn", head_zeroinit=False))


@pytest.mark.parametrize("name", ["adamw", "lion"])
def test_vmapped_cell_equals_plain_run(name):
    setup = _tiny_setup()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 10, 40).astype(np.int32)
    data = {"train": (x, y), "evals": {"test": (x[:16], y[:16])}}
    lrs, wds, seeds = [1e-3, 3e-3], [0.1, 0.3], [0, 1]
    params, _ = train.train_grid(name, setup, data, lrs, wds, seeds)

    # The same run as plain Python over steps, float hyperparameters, no vmap.
    model = train.make_model(setup)
    p = train.init_params(model, 1, x.shape[1:])
    tx = train.make_tx(name, lrs[1], wds[1], setup)
    state = tx.init(p)
    key = jax.random.fold_in(jax.random.PRNGKey(1), 1)

    @jax.jit
    def step(p, state, xb, yb):
        grads = jax.grad(lambda q: train.mean_loss(model, q, xb, yb))(p)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state

    for t in range(setup.steps):
        idx = jax.random.randint(jax.random.fold_in(key, t), (setup.batch,), 0, len(x))
        p, state = step(p, state, x[idx], y[idx])
    cell = jax.tree.map(lambda a: a[1, 1], params)
    for path, got, want in zip(tree_paths(p), jax.tree.leaves(cell), jax.tree.leaves(p)):
        # The key bias's gradient is zero up to rounding (softmax ignores a shift shared by
        # all keys), and AdamW/Lion scale that rounding noise up to ±lr: not comparable.
        if not path.endswith("key/bias"):
            np.testing.assert_allclose(got, want, atol=1e-5, err_msg=path)


def test_signum_is_signed_momentum():
    """Section 3.2's ablation: m = 0.9·m + 0.1·g; θ -= lr·(sign(m) + λθ)."""
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(5, 3)).astype(np.float32)
    lr, wd = 0.01, 0.5
    tx = optim.lion(lr, **train.OPTIMIZERS["signum"][1], weight_decay=wd)
    params, state = jnp.asarray(theta), tx.init(jnp.asarray(theta))
    ref, m = theta.astype(np.float64), np.zeros_like(theta, np.float64)
    for _ in range(6):
        g = rng.normal(size=theta.shape)
        updates, state = tx.update(jnp.asarray(g, jnp.float32), state, params)
        params = optax.apply_updates(params, updates)
        m = 0.9 * m + 0.1 * g
        ref = ref - lr * (np.sign(m) + wd * ref)
    np.testing.assert_allclose(np.asarray(params), ref, atol=1e-5)


def test_grids_follow_paper_convention():
    g = grid.grids()
    for (a_lr, a_wd), (l_lr, l_wd) in zip(zip(*g["adamw"].cells()), zip(*g["lion"].cells())):
        assert 2.99 <= a_lr / l_lr <= 10.01 and 2.99 <= l_wd / a_wd <= 10.01
        assert np.isclose(a_lr * a_wd, l_lr * l_wd, rtol=0.15)
    assert g["signum"] == g["lion"]


def test_relative_noise_scale():
    w = {"a": jnp.full((200, 100), 3.0), "b": jnp.full((50,), -0.5)}
    assert flatness.perturb(w, jax.random.PRNGKey(0), 0.0)["a"][0, 0] == 3.0
    noisy = flatness.perturb(w, jax.random.PRNGKey(0), 0.1)
    for k in w:
        ratio = jnp.linalg.norm(noisy[k] - w[k]) / jnp.linalg.norm(w[k])
        assert 0.07 < float(ratio) < 0.13, (k, float(ratio))


@pytest.mark.parametrize("argv,flag", [(["--seeds", "0"], "--seeds"),
                                       (["--out", __file__], "--out")])
def test_bad_input_names_the_flag(argv, flag, capsys):
    assert cli.main(["repro", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag in err
