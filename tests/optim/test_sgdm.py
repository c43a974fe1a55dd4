"""SGD with momentum (heavy ball and Nesterov) against numpy, and against optax.sgd."""
import jax
import numpy as np
import optax
import pytest

from herolion import optim
from tests.optim import reference as ref
from tests.optim.conftest import assert_tree_close, grad_sequence, reference_run, run_optax

LR, WD = 0.01, 0.05


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgdm_matches_formula(tree, nesterov):
    grads = grad_sequence(tree)
    history, _ = run_optax(optim.sgdm(LR, 0.9, nesterov=nesterov, weight_decay=WD), tree, grads)

    def step(p, g, m, t, dtype):
        new_p, m = ref.sgdm_step(p, g, m, LR, 0.9, nesterov, WD)
        return new_p, ref.store(m, dtype)

    expected = reference_run(tree, grads, np.zeros_like, step)
    for actual, want in zip(history, expected):
        assert_tree_close(actual, want, rtol=1e-5, atol=1e-6)


def test_sgdm_without_decay_equals_optax_sgd(tree):
    tree = {k: v for k, v in tree.items() if k != "bf16"}
    grads = grad_sequence(tree)
    ours, _ = run_optax(optim.sgdm(LR, 0.9), tree, grads)
    theirs, _ = run_optax(optax.sgd(LR, momentum=0.9), tree, grads)
    for a, b in zip(ours, theirs):
        jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7), a, b)


def test_bad_momentum_names_the_field():
    with pytest.raises(ValueError, match="^momentum: "):
        optim.sgdm(1e-3, momentum=1.0)
