"""Frozen parameters (``lr_mults`` entries with ``None``): no optimizer state, no gradient.

Why a split instead of a zero learning rate: differentiating only with respect to the
trainable leaves lets JAX prune the whole backward pass through a frozen subtree (LiT's
locked image tower costs one forward), and the frozen leaves are carried to the new
state untouched, so they stay bitwise equal to what was loaded.

A mask is a params-shaped tree of bools, ``True`` = frozen; ``None`` means nothing is.
"""
from __future__ import annotations

import jax


def mask_from_config(config, params):
    """The frozen mask the optimizer builder derives from ``config.lr_mults`` (or None)."""
    from herolion.optim.builder import lr_multipliers
    mults = lr_multipliers(config, params)
    mask = jax.tree.map(lambda m: m is None, mults, is_leaf=lambda x: x is None)
    return mask if any(jax.tree.leaves(mask)) else None


def partition(params, mask):
    """``(trainable, frozen)``: two trees shaped like ``params`` with ``None`` holes."""
    trainable = jax.tree.map(lambda p, m: None if m else p, params, mask)
    frozen = jax.tree.map(lambda p, m: p if m else None, params, mask)
    return trainable, frozen


def combine(mask, trainable, frozen):
    """The inverse of :func:`partition`."""
    return jax.tree.map(lambda m, a, b: b if m else a, mask, trainable, frozen,
                        is_leaf=lambda x: x is None)
