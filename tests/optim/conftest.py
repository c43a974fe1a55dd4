"""Shared fixtures: a random parameter pytree with every kind of leaf the optimizers see."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.optim.reference import BF16

STEPS = 24


def make_tree(seed=0):
    """Matrices (one big enough to factor), a 3-D kernel, vectors, a scalar, a bf16 leaf."""
    rng = np.random.default_rng(seed)
    return {
        "dense": {"kernel": rng.normal(size=(48, 40)).astype(np.float32),
                  "bias": rng.normal(size=(40,)).astype(np.float32)},
        "attn": {"kernel": rng.normal(size=(40, 4, 36)).astype(np.float32)},
        "small": rng.normal(size=(6, 5)).astype(np.float32),
        "scale": np.float32(rng.normal()),
        "bf16": rng.normal(size=(7, 3)).astype(BF16),
    }


def grad_sequence(tree, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [jax.tree.map(lambda p: rng.normal(size=np.shape(p)).astype(np.asarray(p).dtype), tree)
            for _ in range(steps)]


def run_optax(tx, params, grads):
    """Apply ``tx`` for every gradient in ``grads``; returns the list of param trees."""
    params = jax.tree.map(jnp.asarray, params)
    state = tx.init(params)

    @jax.jit
    def step(params, state, g):
        updates, state = tx.update(g, state, params)
        return optax_apply(params, updates), state

    history = []
    for g in grads:
        params, state = step(params, state, jax.tree.map(jnp.asarray, g))
        history.append(params)
    return history, state


def optax_apply(params, updates):
    import optax
    return optax.apply_updates(params, updates)


def assert_tree_close(actual, expected, rtol=1e-5, atol=1e-6, bf16_ulps=1,
                      outlier_fraction=0.0, outlier_atol=0.0):
    """f32 leaves within rtol/atol; bf16 leaves within ``bf16_ulps`` units in the last place.

    A momentum stored in bf16 is rounded from a float32 value here and a float64 value in
    the reference: once in a few thousand elements the two land on opposite sides of a
    rounding boundary. ``outlier_fraction``/``outlier_atol`` admit exactly those rare,
    small, isolated differences; a systematic error touches far more elements.
    """
    for path, a in jax.tree_util.tree_flatten_with_path(actual)[0]:
        e = expected
        for k in path:
            e = e[k.key]
        name = jax.tree_util.keystr(path)
        a64 = np.asarray(np.asarray(a), np.float64)
        if np.asarray(a).dtype == BF16:
            ulp = np.maximum(np.abs(e), 1e-3) * 2.0 ** -7
            assert np.all(np.abs(a64 - e) <= bf16_ulps * ulp + 1e-12), name
            continue
        off = np.abs(a64 - e) > atol + rtol * np.abs(e)
        assert off.mean() <= outlier_fraction, f"{name}: {off.sum()} of {off.size} differ"
        np.testing.assert_allclose(a64, e, rtol=rtol, atol=max(atol, outlier_atol), err_msg=name)


@pytest.fixture
def tree():
    return make_tree()


def reference_run(params, grads, init, step):
    """Run a per-leaf numpy reference over ``grads``; returns the list of param trees.

    ``init(p64) -> state``; ``step(p64, g64, state, t, dtype) -> (new_p64, state)`` where
    ``dtype`` is the leaf's storage dtype (the step rounds the state it stores to it).
    New params are rounded to the leaf's own dtype after every step, as storage does.
    """
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    dtypes = [np.asarray(v).dtype for _, v in flat]
    p = [np.asarray(v, np.float64) for _, v in flat]
    states = [init(v) for v in p]
    out = []
    for t, g_tree in enumerate(grads, start=1):
        g = [np.asarray(v, np.float64) for v in jax.tree.leaves(g_tree)]
        for i in range(len(p)):
            new_p, states[i] = step(p[i], g[i], states[i], t, dtypes[i])
            p[i] = store_as(new_p, dtypes[i])
        out.append(jax.tree.unflatten(treedef, list(p)))
    return out


def store_as(x, dtype):
    return np.asarray(np.asarray(x).astype(dtype), np.float64)
