"""AdamW against Algorithm 1 (numpy, float64) and against optax.adamw."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from herolion import optim
from tests.optim import reference as ref
from tests.optim.conftest import assert_tree_close, grad_sequence, reference_run, run_optax

LR, WD, EPS = 0.01, 0.1, 1e-8


def reference_adamw(params, grads, mu_dtype=None):
    """First moment stored in ``mu_dtype`` (else the param's dtype), second in the param's."""

    def step(p, g, state, t, dtype):
        m, v = state
        new_p, m, v = ref.adamw_step(p, g, m, v, t, LR, 0.9, 0.999, EPS, WD)
        return new_p, (ref.store(m, mu_dtype or dtype), ref.store(v, dtype))

    return reference_run(params, grads, lambda p: (np.zeros_like(p), np.zeros_like(p)), step)


@pytest.mark.parametrize("mu_dtype", [None, ref.BF16], ids=["mu_f32", "mu_bf16"])
def test_adamw_matches_algorithm_1(tree, mu_dtype):
    grads = grad_sequence(tree)
    tx = optim.adamw(LR, eps=EPS, weight_decay=WD,
                     mu_dtype=None if mu_dtype is None else jnp.bfloat16)
    history, _ = run_optax(tx, tree, grads)
    expected = reference_adamw(tree, grads, mu_dtype)
    for actual, want in zip(history, expected):
        assert_tree_close(actual, want, rtol=1e-5, atol=1e-6,
                          outlier_fraction=1e-3, outlier_atol=LR * 2 ** -8)


def test_adamw_equals_optax_adamw(tree):
    tree = {k: v for k, v in tree.items() if k != "bf16"}
    grads = grad_sequence(tree)
    ours, _ = run_optax(optim.adamw(LR, weight_decay=WD), tree, grads)
    theirs, _ = run_optax(optax.adamw(LR, weight_decay=WD), tree, grads)
    for a, b in zip(ours, theirs):
        jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7), a, b)


def test_bad_beta_names_the_field():
    with pytest.raises(ValueError, match="^b2: must be in"):
        optim.adamw(1e-3, b2=1.5)
