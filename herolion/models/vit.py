"""Vision Transformer in big_vision's parameter layout.

``create('vit', variant='B/16', num_classes=1000, pool_type='tok')``. Called as
``model.apply(vars, images[B, H, W, 3], train=bool)`` and returns logits ``[B, num_classes]``;
with ``num_classes=0`` (or None) it returns the pooled representation ``[B, width]`` instead
(what LiT's image tower projects, and what linear probes read).

Parameters: ``embedding`` (conv patchifier), ``cls`` (tok pooling only), ``pos_embedding``
``[1, tokens, width]`` covering the class token too when ``pool_type='tok'`` (the original
ViT layout, which is what the paper's parameter counts use), ``Transformer/...`` (see
``transformer.py``), ``MAPHead_0`` (map pooling) and ``head`` (zero-initialised).

``dropout`` and ``droppath`` (stochastic depth, one rate for every block) use the 'dropout'
rng in train mode. ``dtype`` is the compute dtype (e.g. 'bfloat16'); params stay float32.
"""
from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from herolion.errors import ConfigError
from herolion.models.attention import MultiHeadDotProductAttention
from herolion.models.common import (Dtype, MlpBlock, annotated, as_dtype, dense, layer_norm,
                                    patch_tokens, split_variant)
from herolion.models.sharding import constrain_batch
from herolion.models.transformer import Encoder

#: name -> (width, depth, mlp_dim, num_heads); big_vision's table plus tiny test sizes.
VARIANTS = {
    "mu": (32, 2, 64, 2),
    "Ti": (192, 12, 768, 3),
    "S": (384, 12, 1536, 6),
    "M": (512, 12, 2048, 8),
    "B": (768, 12, 3072, 12),
    "L": (1024, 24, 4096, 16),
    "H": (1280, 32, 5120, 16),
    "g": (1408, 40, 6144, 16),
    "G": (1664, 48, 8192, 16),
}


def posemb_sincos_2d(h: int, w: int, width: int, temperature: float = 10_000.0):
    """Fixed 2-D sin-cos position embedding [1, h*w, width] (MoCo v3 / big_vision)."""
    if width % 4:
        raise ConfigError(f"model.width: sincos2d posemb needs width % 4 == 0, got {width}")
    y, x = np.mgrid[:h, :w]
    omega = 1.0 / temperature ** (np.arange(width // 4) / (width // 4 - 1 or 1))
    y = np.einsum("m,d->md", y.flatten(), omega)
    x = np.einsum("m,d->md", x.flatten(), omega)
    pe = np.concatenate([np.sin(x), np.cos(x), np.sin(y), np.cos(y)], axis=1)
    return jnp.asarray(pe[None], jnp.float32)


class MAPHead(nn.Module):
    """Multihead attention pooling: one learned probe attends over the tokens."""

    mlp_dim: int
    num_heads: int
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        n, _, d = x.shape
        probe = self.param("probe", annotated(nn.initializers.xavier_uniform(),
                                              (None, None, "embed")), (1, 1, d), jnp.float32)
        probe = jnp.tile(probe.astype(x.dtype), [n, 1, 1])
        x = MultiHeadDotProductAttention(self.num_heads, dtype=self.dtype)(probe, x)
        y = layer_norm(self.dtype)(x)
        x = x + MlpBlock(self.mlp_dim, dtype=self.dtype)(y)
        return x[:, 0]


class ViT(nn.Module):
    num_classes: int | None = 1000
    patch_size: Sequence[int] = (16, 16)
    width: int = 768
    depth: int = 12
    mlp_dim: int = 3072
    num_heads: int = 12
    posemb: str = "learn"  # learn | sincos2d
    pool_type: str = "tok"  # tok | gap | map
    dropout: float = 0.0
    droppath: float = 0.0
    head_zeroinit: bool = True
    scan: bool = False
    remat_policy: str = "nothing_saveable"
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images, *, train: bool = False):
        dtype = as_dtype(self.dtype)
        x = constrain_batch(jnp.asarray(images, dtype))
        x, (h, w) = patch_tokens(x, self.width, self.patch_size, dtype, name="embedding")
        n, c = x.shape[0], self.width
        tok = self.pool_type == "tok"
        if tok:
            cls = self.param("cls", annotated(nn.initializers.zeros, (None, None, "embed")),
                             (1, 1, c), jnp.float32)
            x = jnp.concatenate([jnp.tile(cls.astype(dtype), [n, 1, 1]), x], axis=1)
        x = x + self._posemb(h, w, c, tok).astype(dtype)
        x = nn.Dropout(rate=self.dropout)(x, not train)

        x = Encoder(self.depth, self.mlp_dim, self.num_heads, self.dropout, self.droppath,
                    dtype, self.scan, self.remat_policy, name="Transformer")(x, not train)

        if self.pool_type == "tok":
            x = x[:, 0]
        elif self.pool_type == "gap":
            x = jnp.mean(x, axis=1)
        else:
            x = MAPHead(self.mlp_dim, self.num_heads, dtype)(x)
        if not self.num_classes:
            return x
        init = nn.initializers.zeros if self.head_zeroinit else nn.initializers.xavier_uniform()
        return dense(self.num_classes, ("embed", "classes"), dtype, kernel_init=init,
                     bias_init=nn.initializers.zeros, name="head")(x)

    def _posemb(self, h: int, w: int, c: int, tok: bool):
        if self.posemb == "learn":
            return self.param(
                "pos_embedding",
                annotated(nn.initializers.normal(stddev=1 / np.sqrt(c)), (None, "length", "embed")),
                (1, h * w + int(tok), c), jnp.float32)
        pe = posemb_sincos_2d(h, w, c)
        return jnp.concatenate([jnp.zeros((1, 1, c)), pe], axis=1) if tok else pe


def create(variant: str | None = None, **kw) -> ViT:
    """ViT from big_vision-style kwargs; ``variant`` fills width/depth/mlp_dim/num_heads."""
    name, patch = split_variant("ViT", variant, list(VARIANTS))
    if name is not None:
        width, depth, mlp_dim, heads = VARIANTS[name]
        kw = {"width": width, "depth": depth, "mlp_dim": mlp_dim, "num_heads": heads, **kw}
    if patch is not None:
        kw.setdefault("patch_size", (patch, patch))
    if isinstance(kw.get("patch_size"), int):
        kw["patch_size"] = (kw["patch_size"],) * 2
    if kw.get("pool_type", "tok") not in ("tok", "gap", "map"):
        raise ConfigError(f"model.pool_type: unknown {kw['pool_type']!r}; known: tok, gap, map")
    if kw.get("posemb", "learn") not in ("learn", "sincos2d"):
        raise ConfigError(f"model.posemb: unknown {kw['posemb']!r}; known: learn, sincos2d")
    return ViT(**kw)
MODEL = ViT
