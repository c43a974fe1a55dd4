"""AdafactorW (big_vision's Adafactor + decoupled decay) against a numpy reference."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion import optim
from tests.optim import reference as ref
from tests.optim.conftest import assert_tree_close, grad_sequence, reference_run, run_optax

LR, WD = 0.01, 0.1
HP = dict(momentum=0.9, decay_rate=0.8, beta2_cap=0.999, min_dim=32, eps=1e-30)


def reference_adafactorw(params, grads, mu_dtype, momentum=0.9):
    """Second-moment statistics stored in the param's dtype, momentum in ``mu_dtype``."""

    def init(p):
        return ref.adafactor_init(p, HP["min_dim"]), np.zeros_like(p)

    def step(p, g, state, t, dtype):
        stats, mom = state
        new_p, stats, mom = ref.adafactor_step(
            p, g, stats, mom, t, LR, WD, momentum, HP["decay_rate"], HP["beta2_cap"],
            HP["min_dim"], HP["eps"], mu_dtype)
        stats = tuple(ref.store(s, dtype) for s in stats) if isinstance(stats, tuple) else (
            ref.store(stats, dtype))
        return new_p, (stats, mom)

    return reference_run(params, grads, init, step)


@pytest.mark.parametrize("mu_dtype", [ref.BF16, np.float32], ids=["mu_bf16", "mu_f32"])
def test_adafactorw_matches_reference(tree, mu_dtype):
    grads = grad_sequence(tree)
    tx = optim.adafactorw(LR, weight_decay=WD, mu_dtype=jnp.dtype(mu_dtype))
    history, state = run_optax(tx, tree, grads)
    expected = reference_adafactorw(tree, grads, mu_dtype)
    for actual, want in zip(history, expected):
        assert_tree_close(actual, want, rtol=2e-5, atol=2e-6,
                          outlier_fraction=1e-3, outlier_atol=LR * 2 ** -8)


def test_adafactorw_without_momentum(tree):
    grads = grad_sequence(tree, steps=20)
    history, _ = run_optax(optim.adafactorw(LR, weight_decay=WD, momentum=None), tree, grads)
    expected = reference_adafactorw(tree, grads, None, momentum=None)
    for actual, want in zip(history, expected):
        assert_tree_close(actual, want, rtol=2e-5, atol=2e-6)


def test_factoring_rule_and_state_shapes(tree):
    """Only tensors whose two largest dims are >= 32 get row/column statistics."""
    state = optim.adafactorw(LR).init(jax.tree.map(jnp.asarray, tree))
    rms, momentum = state[0]
    # (48, 40): factored -> statistics without the largest axis, and without the second.
    assert rms.v_row["dense"]["kernel"].shape == (40,)
    assert rms.v_col["dense"]["kernel"].shape == (48,)
    assert rms.v["dense"]["kernel"].size == 1
    # (40, 4, 36): the two largest dims are 40 and 36 -> factored over them.
    assert rms.v_row["attn"]["kernel"].shape == (4, 36)
    assert rms.v_col["attn"]["kernel"].shape == (40, 4)
    # (6, 5), bias and scalar: full second moment.
    assert rms.v["small"].shape == (6, 5)
    assert rms.v["dense"]["bias"].shape == (40,)
    assert rms.v["scale"].shape == ()
    assert momentum.mu["dense"]["kernel"].dtype == jnp.bfloat16


def test_second_moment_decay_is_capped():
    decay = optim.adafactorw.__globals__["capped_power_decay"](0.999)
    steps = np.array([0, 1, 9, 10**6])
    want = np.minimum(0.999, 1 - (steps + 1.0) ** -0.8)
    np.testing.assert_allclose(np.asarray(decay(steps, 0.8)), want, rtol=1e-6)
    assert float(decay(0, 0.8)) == 0.0  # the first step sees only g²


def test_wide_matrix_and_zero_gradient_rows():
    """Largest axis last (the other orientation), and rows whose gradient is always 0
    (e.g. image-corner pixels): the update must match the reference and stay finite."""
    rng = np.random.default_rng(3)
    params = {"w": rng.normal(size=(32, 80)).astype(np.float32)}
    grads = []
    for _ in range(12):
        g = rng.normal(size=(32, 80)).astype(np.float32) * 1e-4
        g[:5] = 0.0
        grads.append({"w": g})
    history, _ = run_optax(optim.adafactorw(LR, weight_decay=WD, mu_dtype=jnp.float32),
                           params, grads)
    assert all(np.isfinite(np.asarray(h["w"])).all() for h in history)
    expected = reference_adafactorw(params, grads, np.float32)
    for actual, want in zip(history, expected):
        assert_tree_close(actual, want, rtol=2e-5, atol=2e-6)
