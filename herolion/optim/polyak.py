"""Polyak averaging: an exponential moving average of the *parameters* (not the updates).

Fine-tuning evaluates the average instead of the last iterate (the paper's Table 1 rows
marked with Polyak averaging). Pure functions so the train step can carry the average
in its state, shard it like the params, and checkpoint it as its own item.
"""
import jax
import jax.numpy as jnp

from herolion.optim import _validate


def init(params, dtype=None):
    """Start the average at the current params (no zero bias, so no debiasing needed)."""
    return jax.tree.map(lambda p: jnp.asarray(p, dtype or p.dtype), params)


def update(average, params, decay: float):
    """``avg ← decay·avg + (1 − decay)·params``, computed in float32, stored in avg's dtype.

    ``decay`` may be a traced scalar (e.g. 0 before a start step, to copy the params).
    """
    if isinstance(decay, (int, float)):
        _validate.check_nonnegative(decay, "polyak.decay")
        if decay > 1:
            _validate.check_beta(decay, "polyak.decay")

    def leaf(avg, p):
        compute = jnp.promote_types(jnp.float32, avg.dtype)
        new = decay * avg.astype(compute) + (1.0 - decay) * p.astype(compute)
        return new.astype(avg.dtype)

    return jax.tree.map(leaf, average, params)
