"""CoAtNet (Dai et al. 2021): C-C-T-T. A conv stem (S0), two MBConv stages (S1, S2) and two
relative-attention transformer stages (S3, S4), then global average pooling, LayerNorm and
the head. Called as ``model.apply(vars, images, train=bool)`` -> logits (``num_classes=0``:
the pooled representation). MBConv uses BatchNorm: as with ResNet, pass
``mutable=['batch_stats']`` with ``train=True``.

Blocks are pre-norm. The first block of each stage halves the resolution: the shortcut is a
2x2 max-pool followed by a 1x1 projection when the width changes; MBConv puts the stride on
the depthwise conv, the transformer max-pools its normalised input before attention.
MBConv: expansion 4 (of the output width), squeeze-excitation to 1/4 of the input width,
GELU. Attention: heads of 32 dims with a learned relative-position bias table
``[(2h-1)(2w-1), heads]`` per block over the full feature map (the table size follows the
image size; fine-tuning at another resolution needs the table resampled — not provided).
``droppath`` applies stochastic depth to every residual branch. The pooled features pass a
width x width tanh ``pre_logits`` layer before the head (as ViT's representation layer);
with it CoAtNet-1/3 count 42.18 M / 166.82 M, within 0.1 % of the paper's 42.23 M / 166.97 M
(the paper gives no code; ``pre_logits=False`` drops 0.59 M / 2.36 M).
"""
from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from herolion.errors import ConfigError
from herolion.models.attention import MultiHeadDotProductAttention
from herolion.models.common import (Dtype, MlpBlock, annotated, as_dtype, dense, drop_path,
                                    layer_norm)
from herolion.models.sharding import constrain_batch

#: name -> (blocks per stage S0..S4, widths S0..S4); S0 counts its conv layers.
VARIANTS = {
    "mu": ((2, 1, 1, 1, 1), (8, 8, 16, 32, 32)),
    "0": ((2, 2, 3, 5, 2), (64, 96, 192, 384, 768)),
    "1": ((2, 2, 6, 14, 2), (64, 96, 192, 384, 768)),
    "2": ((2, 2, 6, 14, 2), (128, 128, 256, 512, 1024)),
    "3": ((2, 2, 6, 14, 2), (192, 192, 384, 768, 1536)),
    "4": ((2, 2, 12, 28, 2), (192, 192, 384, 768, 1536)),
}


def conv(features, k, stride=1, dtype=jnp.float32, groups=1, use_bias=False, name=None):
    return nn.Conv(features, (k, k), (stride, stride), padding="SAME",
                   feature_group_count=groups, use_bias=use_bias, dtype=dtype, name=name,
                   kernel_init=annotated(nn.initializers.variance_scaling(2.0, "fan_out",
                                                                          "normal"),
                                         (None, None, "conv_in", "conv_out")),
                   bias_init=annotated(nn.initializers.zeros, ("conv_out",)))


def batch_norm(train, dtype, name=None):
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        dtype=dtype, name=name,
                        scale_init=annotated(nn.initializers.ones, ("norm",)),
                        bias_init=annotated(nn.initializers.zeros, ("norm",)))


def pool2(x):
    return nn.max_pool(x, (2, 2), (2, 2), padding="SAME")


class SqueezeExcite(nn.Module):
    reduced: int
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        s = jnp.mean(x, axis=(1, 2), keepdims=True)
        s = nn.silu(conv(self.reduced, 1, dtype=self.dtype, use_bias=True, name="reduce")(s))
        s = conv(x.shape[-1], 1, dtype=self.dtype, use_bias=True, name="expand")(s)
        return x * nn.sigmoid(s)


class MBConv(nn.Module):
    features: int
    stride: int = 1
    expansion: int = 4
    se_ratio: float = 0.25
    droppath: float = 0.0
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool):
        shortcut = x
        if self.stride > 1:
            shortcut = pool2(shortcut)
        if x.shape[-1] != self.features:
            shortcut = conv(self.features, 1, dtype=self.dtype, use_bias=True,
                            name="proj")(shortcut)
        mid = self.features * self.expansion
        y = batch_norm(train, self.dtype, name="pre_norm")(x)
        y = conv(mid, 1, dtype=self.dtype, name="expand_conv")(y)
        y = nn.gelu(batch_norm(train, self.dtype, name="expand_norm")(y))
        y = conv(mid, 3, self.stride, self.dtype, groups=mid, name="dw_conv")(y)
        y = nn.gelu(batch_norm(train, self.dtype, name="dw_norm")(y))
        y = SqueezeExcite(max(1, int(x.shape[-1] * self.se_ratio)), self.dtype, name="se")(y)
        y = conv(self.features, 1, dtype=self.dtype, use_bias=True, name="project_conv")(y)
        return shortcut + drop_path(y, self.droppath, not train)


class RelativeAttention(nn.Module):
    """Self-attention over an [h, w] map with a learned bias per relative offset and head."""

    features: int
    head_dim: int = 32
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        n, h, w, c = x.shape
        heads = max(1, self.features // self.head_dim)
        table = self.param("relative_bias",
                           annotated(nn.initializers.normal(0.02), ("length", "heads")),
                           ((2 * h - 1) * (2 * w - 1), heads), jnp.float32)
        yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        coords = np.stack([yy.ravel(), xx.ravel()], axis=1)
        rel = coords[:, None, :] - coords[None, :, :] + np.array([h - 1, w - 1])
        index = rel[..., 0] * (2 * w - 1) + rel[..., 1]
        bias = jnp.transpose(table[index], (2, 0, 1))  # [heads, hw, hw]
        tokens = jnp.reshape(x, (n, h * w, c))
        y = MultiHeadDotProductAttention(heads, qkv_features=heads * self.head_dim,
                                         out_features=self.features, dtype=self.dtype,
                                         name="attention")(tokens, tokens, bias=bias)
        return jnp.reshape(y, (n, h, w, self.features))


class TransformerBlock(nn.Module):
    features: int
    stride: int = 1
    head_dim: int = 32
    mlp_ratio: int = 4
    droppath: float = 0.0
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool):
        shortcut = x
        y = layer_norm(self.dtype, name="attn_norm", epsilon=1e-5)(x)
        if self.stride > 1:
            shortcut, y = pool2(shortcut), pool2(y)
        if x.shape[-1] != self.features:
            shortcut = conv(self.features, 1, dtype=self.dtype, use_bias=True,
                            name="proj")(shortcut)
        y = RelativeAttention(self.features, self.head_dim, self.dtype, name="attn")(y)
        x = shortcut + drop_path(y, self.droppath, not train)
        y = layer_norm(self.dtype, name="mlp_norm", epsilon=1e-5)(x)
        y = MlpBlock(self.features * self.mlp_ratio, dtype=self.dtype, name="mlp")(y, not train)
        return x + drop_path(y, self.droppath, not train)


class CoAtNet(nn.Module):
    num_classes: int | None = 1000
    blocks: Sequence[int] = (2, 2, 6, 14, 2)
    widths: Sequence[int] = (64, 96, 192, 384, 768)
    head_dim: int = 32
    droppath: float = 0.0
    pre_logits: bool = True
    head_zeroinit: bool = True
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images, *, train: bool = False):
        dtype = as_dtype(self.dtype)
        x = constrain_batch(jnp.asarray(images, dtype))
        for i in range(self.blocks[0]):
            x = conv(self.widths[0], 3, 2 if i == 0 else 1, dtype, use_bias=True,
                     name=f"stem_conv{i}")(x)
            if i < self.blocks[0] - 1:
                x = nn.gelu(batch_norm(train, dtype, name=f"stem_norm{i}")(x))
        for s in range(1, 5):
            for b in range(self.blocks[s]):
                stride = 2 if b == 0 else 1
                name = f"stage{s}_block{b}"
                if s <= 2:
                    x = MBConv(self.widths[s], stride, droppath=self.droppath, dtype=dtype,
                               name=name)(x, train)
                else:
                    x = TransformerBlock(self.widths[s], stride, self.head_dim,
                                         droppath=self.droppath, dtype=dtype,
                                         name=name)(x, train)
            x = constrain_batch(x)
        x = jnp.mean(x, axis=(1, 2))
        x = layer_norm(dtype, name="head_norm", epsilon=1e-5)(x)
        if self.pre_logits:
            x = nn.tanh(dense(x.shape[-1], ("embed", "mlp"), dtype, name="pre_logits")(x))
        if not self.num_classes:
            return x
        init = nn.initializers.zeros if self.head_zeroinit else nn.initializers.xavier_uniform()
        return dense(self.num_classes, ("embed", "classes"), dtype, kernel_init=init,
                     bias_init=nn.initializers.zeros, name="head")(x)


def create(variant: str | int | None = "1", **kw) -> CoAtNet:
    """``variant``: 0..4 (or 'mu', a tiny test size)."""
    if variant is not None:
        key = str(variant).removeprefix("CoAtNet-")
        if key not in VARIANTS:
            raise ConfigError(f"model.variant: unknown CoAtNet variant {variant!r}; known: "
                              f"{', '.join(VARIANTS)}")
        blocks, widths = VARIANTS[key]
        kw = {"blocks": blocks, "widths": widths, **kw}
        if key == "mu":
            kw.setdefault("head_dim", 8)
    return CoAtNet(**kw)


MODEL = CoAtNet
