"""MLP-Mixer in big_vision's layout: ``stem``, ``MixerBlock_{i}/{LayerNorm_0, token_mixing,
LayerNorm_1, channel_mixing}``, ``pre_head_layer_norm``, ``head``.

Called as ``model.apply(vars, images, train=bool)`` -> logits ``[B, num_classes]``
(``num_classes=0``: the pooled ``[B, width]`` representation). Global average pooling.
``droppath`` is stochastic depth on both residual branches of every block ('dropout' rng).
"""
from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from herolion.models.common import (Dtype, MlpBlock, as_dtype, dense, drop_path, layer_norm,
                                    patch_tokens, split_variant)
from herolion.models.sharding import constrain_batch

#: name -> (width, depth, tokens_mlp_dim, channels_mlp_dim)
VARIANTS = {
    "mu": (32, 2, 16, 64),
    "S": (512, 8, 256, 2048),
    "B": (768, 12, 384, 3072),
    "L": (1024, 24, 512, 4096),
    "H": (1280, 32, 640, 5120),
}


class MixerBlock(nn.Module):
    tokens_mlp_dim: int
    channels_mlp_dim: int
    droppath: float = 0.0
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x, deterministic: bool = True):
        y = layer_norm(self.dtype)(x)
        y = jnp.swapaxes(y, 1, 2)
        y = MlpBlock(self.tokens_mlp_dim, dtype=self.dtype, in_axis="length",
                     name="token_mixing")(y, deterministic)
        y = jnp.swapaxes(y, 1, 2)
        x = x + drop_path(y, self.droppath, deterministic)
        y = layer_norm(self.dtype)(x)
        y = MlpBlock(self.channels_mlp_dim, dtype=self.dtype,
                     name="channel_mixing")(y, deterministic)
        return constrain_batch(x + drop_path(y, self.droppath, deterministic))


class Mixer(nn.Module):
    num_classes: int | None = 1000
    patch_size: Sequence[int] = (16, 16)
    width: int = 512
    depth: int = 8
    tokens_mlp_dim: int = 256
    channels_mlp_dim: int = 2048
    droppath: float = 0.0
    head_zeroinit: bool = True
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, images, *, train: bool = False):
        dtype = as_dtype(self.dtype)
        x = constrain_batch(jnp.asarray(images, dtype))
        x, _ = patch_tokens(x, self.width, self.patch_size, dtype, name="stem")
        for i in range(self.depth):
            x = MixerBlock(self.tokens_mlp_dim, self.channels_mlp_dim, self.droppath, dtype,
                           name=f"MixerBlock_{i}")(x, not train)
        x = layer_norm(dtype, name="pre_head_layer_norm")(x)
        x = jnp.mean(x, axis=1)
        if not self.num_classes:
            return x
        init = nn.initializers.zeros if self.head_zeroinit else nn.initializers.xavier_uniform()
        return dense(self.num_classes, ("embed", "classes"), dtype, kernel_init=init,
                     bias_init=nn.initializers.zeros, name="head")(x)


def create(variant: str | None = None, **kw) -> Mixer:
    name, patch = split_variant("Mixer", variant, list(VARIANTS))
    if name is not None:
        width, depth, tok, ch = VARIANTS[name]
        kw = {"width": width, "depth": depth, "tokens_mlp_dim": tok, "channels_mlp_dim": ch,
              **kw}
    if patch is not None:
        kw.setdefault("patch_size", (patch, patch))
    if isinstance(kw.get("patch_size"), int):
        kw["patch_size"] = (kw["patch_size"],) * 2
    return Mixer(**kw)


MODEL = Mixer
