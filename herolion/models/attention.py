"""Multi-head dot-product attention with logical axis names on every kernel.

The parameter layout is flax's ``nn.MultiHeadDotProductAttention`` (query/key/value kernels
[embed, heads, kv], out kernel [heads, kv, embed]), so big_vision checkpoints map 1:1; it is
written out here because flax's module takes one ``kernel_init`` for all four projections
and the sharding names differ between them. An optional additive ``bias`` (CoAtNet's
relative positions) is added to the logits; softmax runs in float32.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from herolion.models.common import Dtype, annotated


class MultiHeadDotProductAttention(nn.Module):
    num_heads: int
    qkv_features: int | None = None  # heads * head_dim; defaults to the input width
    out_features: int | None = None  # defaults to the input width
    dtype: Dtype = jnp.float32
    kernel_init: nn.initializers.Initializer = nn.initializers.xavier_uniform()

    @nn.compact
    def __call__(self, inputs_q, inputs_kv, bias=None):
        qkv_features = self.qkv_features or inputs_q.shape[-1]
        out_features = self.out_features or inputs_q.shape[-1]
        head_dim = qkv_features // self.num_heads

        def proj(name):
            return nn.DenseGeneral(
                (self.num_heads, head_dim), axis=-1, dtype=self.dtype, name=name,
                kernel_init=annotated(self.kernel_init, ("embed", "heads", "kv")),
                bias_init=annotated(nn.initializers.zeros, ("heads", "kv")))

        q = proj("query")(inputs_q) / jnp.sqrt(head_dim).astype(self.dtype)
        k = proj("key")(inputs_kv)
        v = proj("value")(inputs_kv)
        y = attend(q, k, v, bias, self.dtype)
        return nn.DenseGeneral(
            out_features, axis=(-2, -1), dtype=self.dtype, name="out",
            kernel_init=annotated(self.kernel_init, ("heads", "kv", "embed")),
            bias_init=annotated(nn.initializers.zeros, ("embed",)))(y)


def attend(q, k, v, bias, dtype):
    """``softmax(q kᵀ + bias) v`` per head: ``q [..., q, h, d]``, ``k, v [..., k, h, d]``.

    Why head-major copies: written as one einsum over ``...qhd,...khd``, XLA:CPU runs the
    batched dots with the head axis inside the sequence axis at ~1/4 of the speed of the
    same dots on ``[..., h, s, d]`` operands (``bench/attention.py``); the transposes cost
    far less than they save, and on GPU/TPU XLA picks the same layouts either way.
    """
    qh, kh, vh = (jnp.swapaxes(a, -3, -2) for a in (q, k, v))     # [..., h, s, d]
    logits = (qh @ jnp.swapaxes(kh, -1, -2)).astype(jnp.float32)    # [..., h, q, k]
    if bias is not None:
        logits = logits + bias
    weights = jax.nn.softmax(logits, axis=-1).astype(dtype)
    return jnp.swapaxes(weights @ vh, -3, -2)                       # [..., q, h, d]


def attend_einsum(q, k, v, bias, dtype):
    """The same as :func:`attend`, written as flax writes it (the reference in tests)."""
    logits = jnp.einsum("...qhd,...khd->...hqk", q, k).astype(jnp.float32)
    if bias is not None:
        logits = logits + bias
    weights = jax.nn.softmax(logits, axis=-1).astype(dtype)
    return jnp.einsum("...hqk,...khd->...qhd", weights, v)
