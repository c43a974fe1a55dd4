"""ResNet v1.5 (torchvision's ImageNet architecture: stride on the 3x3 conv), depths
18/34/50/101/152. ResNet-50 has 25,557,032 parameters, as in the paper's Table 2.

BatchNorm (momentum 0.9, eps 1e-5, learned scale/bias) keeps running statistics in the
'batch_stats' collection. ``model.apply(vars, images, train=True, mutable=['batch_stats'])``
normalises with batch statistics and returns ``(logits, {'batch_stats': new_stats})``;
``train=False`` uses the running statistics and mutates nothing. Under jit on a mesh the
batch mean is taken over the global batch (GSPMD), so no ``axis_name`` is needed. BatchNorm
is kept (not GroupNorm+WS) because the paper's count and recipe are torchvision's.
``num_classes=0`` returns the pooled ``[B, 2048]`` features.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from herolion.errors import ConfigError
from herolion.models.common import Dtype, annotated, as_dtype, dense
from herolion.models.sharding import constrain_batch

#: depth -> (block kind, units per stage)
DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def conv(features: int, k: int, stride: int = 1, dtype: Dtype = jnp.float32, name=None):
    return nn.Conv(features, (k, k), (stride, stride), padding=[(k // 2, k // 2)] * 2,
                   use_bias=False, dtype=dtype, name=name,
                   kernel_init=annotated(nn.initializers.variance_scaling(2.0, "fan_out",
                                                                          "normal"),
                                         (None, None, "conv_in", "conv_out")))


def batch_norm(train: bool, dtype: Dtype, zero: bool = False, name=None):
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        dtype=dtype, name=name,
                        scale_init=annotated(nn.initializers.zeros if zero
                                             else nn.initializers.ones, ("norm",)),
                        bias_init=annotated(nn.initializers.zeros, ("norm",)))


class Block(nn.Module):
    width: int
    stride: int = 1
    bottleneck: bool = True
    zero_init_residual: bool = False
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool):
        out = self.width * (4 if self.bottleneck else 1)
        if self.bottleneck:
            y = nn.relu(batch_norm(train, self.dtype)(conv(self.width, 1, dtype=self.dtype)(x)))
            y = conv(self.width, 3, self.stride, self.dtype)(y)
            y = nn.relu(batch_norm(train, self.dtype)(y))
            y = conv(out, 1, dtype=self.dtype)(y)
        else:
            y = conv(self.width, 3, self.stride, self.dtype)(x)
            y = nn.relu(batch_norm(train, self.dtype)(y))
            y = conv(out, 3, dtype=self.dtype)(y)
        y = batch_norm(train, self.dtype, zero=self.zero_init_residual)(y)
        if self.stride != 1 or x.shape[-1] != out:
            x = conv(out, 1, self.stride, self.dtype, name="proj_conv")(x)
            x = batch_norm(train, self.dtype, name="proj_bn")(x)
        return nn.relu(x + y)


class ResNet(nn.Module):
    num_classes: int | None = 1000
    depth: int = 50
    width: int = 64
    zero_init_residual: bool = False
    head_zeroinit: bool = True
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images, *, train: bool = False):
        dtype = as_dtype(self.dtype)
        kind, units = DEPTHS[self.depth]
        x = constrain_batch(jnp.asarray(images, dtype))
        x = conv(self.width, 7, 2, dtype, name="stem_conv")(x)
        x = nn.relu(batch_norm(train, dtype, name="stem_bn")(x))
        x = nn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
        for s, n in enumerate(units):
            for u in range(n):
                stride = 2 if (s > 0 and u == 0) else 1
                x = Block(self.width * 2 ** s, stride, kind == "bottleneck",
                          self.zero_init_residual, dtype,
                          name=f"stage{s + 1}_unit{u + 1}")(x, train)
            x = constrain_batch(x)
        x = jnp.mean(x, axis=(1, 2))
        if not self.num_classes:
            return x
        init = nn.initializers.zeros if self.head_zeroinit else nn.initializers.xavier_uniform()
        return dense(self.num_classes, ("embed", "classes"), dtype, kernel_init=init,
                     bias_init=nn.initializers.zeros, name="head")(x)


def create(variant: str | int | None = None, **kw) -> ResNet:
    """``variant`` or ``depth``: 18, 34, 50, 101, 152 (e.g. variant='50')."""
    if variant is not None:
        kw.setdefault("depth", variant)
    try:
        depth = int(kw.get("depth", 50))
    except (TypeError, ValueError):
        depth = None
    if depth not in DEPTHS:
        raise ConfigError(f"model.depth: unknown ResNet depth {kw.get('depth')!r}; known: "
                          f"{', '.join(map(str, DEPTHS))}")
    kw["depth"] = depth
    return ResNet(**kw)


MODEL = ResNet
