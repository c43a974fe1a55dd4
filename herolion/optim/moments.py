"""Moment-tracking transforms (Adam, factored RMS, momentum EMA, heavy ball).

optax has all four, but multiplies a low-precision stored moment by its decay in that
low precision (``0.9 * mu_bf16`` rounds to bf16 before the gradient is added). Here every
moment is read, updated and used in float32 (or wider) and only *rounded when stored*,
so ``mu_dtype=bf16`` costs storage precision, never arithmetic precision — the same
rule Lion follows.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


def compute_dtype(dtype):
    return jnp.promote_types(jnp.float32, dtype)


def ema(moment, value, decay):
    """``decay·moment + (1 − decay)·value`` in float32 (or wider)."""
    c = compute_dtype(moment.dtype)
    return decay * moment.astype(c) + (1.0 - decay) * value.astype(c)


def map_leaves(fn, tree, *rest):
    """Apply ``fn`` leafwise over ``tree`` and same-structured trees; ``fn`` returns a
    tuple, and the result is a tuple of trees (one per output)."""
    flat, treedef = jax.tree.flatten(tree)
    others = [treedef.flatten_up_to(r) for r in rest]
    outs = [fn(*args) for args in zip(flat, *others)]
    if not outs:
        return None
    return tuple(jax.tree.unflatten(treedef, list(col)) for col in zip(*outs))


def zeros_like_tree(params, dtype=None):
    return jax.tree.map(lambda p: jnp.zeros(p.shape, dtype or p.dtype), params)


class AdamState(NamedTuple):
    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates


def scale_by_adam(b1, b2, eps, mu_dtype=None) -> optax.GradientTransformation:
    """``m̂/(√v̂ + ε)`` with ``m̂ = m/(1−β1^t)``, ``v̂ = v/(1−β2^t)`` (Algorithm 1)."""

    def init_fn(params):
        return AdamState(jnp.zeros([], jnp.int32), zeros_like_tree(params, mu_dtype),
                         zeros_like_tree(params))

    def update_fn(updates, state, params=None):
        del params
        count = optax.safe_int32_increment(state.count)
        t = count.astype(jnp.float32)
        mu_correction, nu_correction = 1.0 - b1 ** t, 1.0 - b2 ** t

        def leaf(g, m, v):
            c = compute_dtype(g.dtype)
            g = g.astype(c)
            new_m = ema(m, g, b1)
            new_v = ema(v, g * g, b2)
            direction = (new_m / mu_correction) / (jnp.sqrt(new_v / nu_correction) + eps)
            return direction, new_m.astype(m.dtype), new_v.astype(v.dtype)

        out = map_leaves(leaf, updates, state.mu, state.nu)
        if out is None:
            return updates, AdamState(count, state.mu, state.nu)
        directions, mu, nu = out
        return directions, AdamState(count, mu, nu)

    return optax.GradientTransformation(init_fn, update_fn)


class MomentumState(NamedTuple):
    mu: optax.Updates


def momentum_ema(decay, mu_dtype=None) -> optax.GradientTransformation:
    """``m ← decay·m + (1 − decay)·u``; outputs ``m`` (not debiased). Adafactor's momentum."""

    def update_fn(updates, state, params=None):
        del params
        out = map_leaves(lambda u, m: (ema(m, u, decay),) * 2, updates, state.mu)
        if out is None:
            return updates, state
        new, _ = out
        return new, MomentumState(jax.tree.map(lambda n, m: n.astype(m.dtype), new, state.mu))

    return optax.GradientTransformation(
        lambda params: MomentumState(zeros_like_tree(params, mu_dtype)), update_fn)


def heavy_ball(momentum, nesterov=False, mu_dtype=None) -> optax.GradientTransformation:
    """``m ← μ·m + g``; outputs ``m`` or, with Nesterov, ``g + μ·m``."""

    def update_fn(updates, state, params=None):
        del params

        def leaf(g, m):
            c = compute_dtype(g.dtype)
            new_m = momentum * m.astype(c) + g.astype(c)
            direction = g.astype(c) + momentum * new_m if nesterov else new_m
            return direction, new_m.astype(m.dtype)

        out = map_leaves(leaf, updates, state.mu)
        if out is None:
            return updates, state
        directions, mu = out
        return directions, MomentumState(mu)

    return optax.GradientTransformation(
        lambda params: MomentumState(zeros_like_tree(params, mu_dtype)), update_fn)


class FactoredRmsState(NamedTuple):
    count: jax.Array
    v_row: optax.Updates  # factored leaves: g² means over the largest axis; else shape (1,)
    v_col: optax.Updates  # factored leaves: g² means over the second-largest axis
    v: optax.Updates      # unfactored leaves: full g² average; factored leaves: shape (1,)


def factored_dims(shape, min_dim_size_to_factor):
    """(second-largest axis, largest axis) when both are >= the threshold, else None."""
    if len(shape) < 2:
        return None
    order = np.argsort(shape, kind="stable")
    small, large = int(order[-2]), int(order[-1])
    return (small, large) if shape[small] >= min_dim_size_to_factor else None


def scale_by_factored_rms(decay_fn, min_dim_size_to_factor, eps) -> optax.GradientTransformation:
    """Adafactor's ``g/√v̂``: v̂ = outer(row, col)/mean(row) for large tensors, else full v.

    ``decay_fn(step)`` gives β2 for the update at 0-based ``step``.
    """

    def init_leaf(p):
        dims = factored_dims(p.shape, min_dim_size_to_factor)
        dummy = jnp.zeros((1,), p.dtype)
        if dims is None:
            return dummy, dummy, jnp.zeros(p.shape, p.dtype)
        small, large = dims
        row = jnp.zeros(np.delete(p.shape, large), p.dtype)
        col = jnp.zeros(np.delete(p.shape, small), p.dtype)
        return row, col, dummy

    def init_fn(params):
        out = map_leaves(init_leaf, params)
        rows, cols, vs = out if out is not None else (params, params, params)
        return FactoredRmsState(jnp.zeros([], jnp.int32), rows, cols, vs)

    def update_fn(updates, state, params=None):
        del params
        beta2 = decay_fn(state.count)

        def leaf(g, row, col, v):
            c = compute_dtype(g.dtype)
            g = g.astype(c)
            g2 = g * g + eps
            dims = factored_dims(g.shape, min_dim_size_to_factor)
            if dims is None:
                new_v = ema(v, g2, beta2)
                return g / jnp.sqrt(new_v), row, col, new_v.astype(v.dtype)
            small, large = dims
            new_row = ema(row, g2.mean(axis=large), beta2)
            new_col = ema(col, g2.mean(axis=small), beta2)
            # v̂ = row ⊗ col / mean(g²), where mean(row) is that mean as an EMA. The rsqrt
            # is taken per factor: cheap (vectors, not the full tensor), and no product of
            # two tiny statistics can underflow to 0 and turn a zero gradient into 0/0.
            row_axis_small = small if small < large else small - 1
            row_factor = jax.lax.rsqrt(new_row / new_row.mean(axis=row_axis_small, keepdims=True))
            col_factor = jax.lax.rsqrt(new_col)
            direction = g * jnp.expand_dims(row_factor, large) * jnp.expand_dims(col_factor, small)
            return direction, new_row.astype(row.dtype), new_col.astype(col.dtype), v

        out = map_leaves(leaf, updates, state.v_row, state.v_col, state.v)
        count = optax.safe_int32_increment(state.count)
        if out is None:
            return updates, state._replace(count=count)
        directions, rows, cols, vs = out
        return directions, FactoredRmsState(count, rows, cols, vs)

    return optax.GradientTransformation(init_fn, update_fn)
