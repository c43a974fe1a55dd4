"""Decoupled weight decay and per-leaf scaling: the transforms every optimizer ends with.

The paper's Algorithms 1-2 update ``θ ← θ − η_t (u + λ θ)``: decay is added to the
optimizer's direction ``u`` *before* the learning rate, so the effective decay is
``η_t·λ`` (Table 5's convention). :func:`with_decay_and_lr` appends exactly that.
"""
import numbers

import jax
import jax.numpy as jnp
import optax

from herolion.optim.tree_paths import is_masked


def _per_leaf(value, updates, params):
    """``value`` — a scalar, a pytree of scalars, or a callable of params — as one
    entry per leaf of ``updates`` (leaves hidden by ``multi_transform`` included)."""
    if callable(value):
        value = value(params)
    n = len(jax.tree.leaves(updates, is_leaf=is_masked))
    treedef = jax.tree.structure(value, is_leaf=lambda x: x is None)
    if jax.tree_util.treedef_is_leaf(treedef):
        return [value] * n
    leaves = jax.tree.leaves(value, is_leaf=lambda x: x is None)
    if len(leaves) != n:
        raise ValueError(f"per-leaf values have {len(leaves)} leaves, the updates {n}")
    return leaves


def _is_static_zero(x) -> bool:
    return x is None or x is False or (isinstance(x, numbers.Number) and x == 0)


def add_decayed_weights(weight_decay=0.0, mask=None) -> optax.GradientTransformation:
    """``u ← u + λ·θ`` per leaf.

    ``weight_decay`` is a scalar, a pytree of scalars shaped like the params, or a
    callable ``params -> either``; ``mask`` (optax convention) says which leaves decay.
    Leaves whose decay is statically zero cost nothing: no read of θ, no multiply.
    The sum is formed in float32 (or wider) so a bf16 parameter is rounded only once,
    when ``optax.apply_updates`` writes it back.
    """

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("add_decayed_weights needs params")
        flat_u, treedef = jax.tree.flatten(updates, is_leaf=is_masked)
        flat_p = jax.tree.leaves(params, is_leaf=is_masked)
        decays = _per_leaf(weight_decay, updates, params)
        masks = _per_leaf(True if mask is None else mask, updates, params)
        out = []
        for u, p, wd, keep in zip(flat_u, flat_p, decays, masks):
            if is_masked(u) or _is_static_zero(wd) or _is_static_zero(keep):
                out.append(u)
            else:
                compute = jnp.promote_types(jnp.float32, u.dtype)
                out.append(u.astype(compute) + wd * p.astype(compute))
        return jax.tree.unflatten(treedef, out), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def scale_per_leaf(multipliers) -> optax.GradientTransformation:
    """``u ← m·u`` with a static multiplier per leaf (lr_mults); ``m == 1`` costs nothing."""

    def update_fn(updates, state, params=None):
        flat_u, treedef = jax.tree.flatten(updates, is_leaf=is_masked)
        mults = _per_leaf(multipliers, updates, params)
        out = [u if is_masked(u) or m == 1 else u * jnp.asarray(m, u.dtype)
               for u, m in zip(flat_u, mults)]
        return jax.tree.unflatten(treedef, out), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def with_decay_and_lr(direction: optax.GradientTransformation, learning_rate,
                      weight_decay=0.0, mask=None) -> optax.GradientTransformation:
    """``θ ← θ − η_t (direction(g) + λ θ)``: the shape of all four optimizers."""
    return optax.chain(
        direction,
        add_decayed_weights(weight_decay, mask),
        optax.scale_by_learning_rate(learning_rate),
    )
