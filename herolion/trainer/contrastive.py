"""Contrastive image–text losses (LiT/CLIP softmax, SigLIP sigmoid) over the global batch.

Why no explicit all-gather: the train step is one ``jax.jit`` over arrays sharded along
the batch axes, so ``zimg @ ztxt.T`` is the *global* ``[B, B]`` similarity matrix;
XLA inserts the collectives (an all-gather of the smaller operand). Every negative in
the global batch counts, exactly as on one device — a test compares 1 and 8 devices.

Embeddings arrive L2-normalised from ``two_towers``; ``t`` is the temperature (already
``exp``-ed) and ``b`` SigLIP's bias.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from herolion.errors import ConfigError


def logits(zimg, ztxt, t, b=None):
    out = jnp.einsum("id,jd->ij", zimg.astype(jnp.float32), ztxt.astype(jnp.float32)) * t
    return out if b is None else out + b


def softmax_contrastive(zimg, ztxt, t, b=None):
    """CLIP/LiT: mean of the image→text and text→image cross-entropies; the i-th image
    and i-th text are the only positives."""
    z = logits(zimg, ztxt, t, b)
    i2t = -jnp.mean(jnp.diagonal(jax.nn.log_softmax(z, axis=1)))
    t2i = -jnp.mean(jnp.diagonal(jax.nn.log_softmax(z, axis=0)))
    return 0.5 * (i2t + t2i)


def sigmoid_contrastive(zimg, ztxt, t, b=None):
    """SigLIP: every (image, text) pair is a binary problem, +1 on the diagonal, −1
    elsewhere; summed over pairs and divided by the batch size (the paper's scaling)."""
    z = logits(zimg, ztxt, t, b)
    signs = 2.0 * jnp.eye(z.shape[0], dtype=z.dtype) - 1.0
    return -jnp.sum(jax.nn.log_sigmoid(signs * z)) / z.shape[0]


LOSSES = {"softmax_contrastive": softmax_contrastive, "sigmoid_contrastive": sigmoid_contrastive}


def get(name: str):
    if name not in LOSSES:
        raise ConfigError(f"config.loss: unknown contrastive loss {name!r}; known: "
                          + ", ".join(LOSSES))
    return LOSSES[name]


def is_contrastive(config) -> bool:
    """Whether a config trains two towers contrastively (its ``loss`` names one)."""
    return config.get("loss") in LOSSES
