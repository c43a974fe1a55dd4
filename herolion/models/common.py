"""Small shared pieces: dtype parsing, annotated initialisers, MLP block, drop path.

Every family uses the same few building blocks so that parameter layouts and logical axis
names stay consistent (the sharding rules in ``sharding.py`` rely on those names).
"""
from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from herolion.errors import ConfigError

Dtype = Any

_DTYPES = {
    "float32": jnp.float32, "f32": jnp.float32,
    "bfloat16": jnp.bfloat16, "bf16": jnp.bfloat16,
    "float16": jnp.float16, "f16": jnp.float16,
}


def as_dtype(dtype: Any, field: str = "model.dtype"):
    """Accepts a jnp dtype or a name such as 'bfloat16'; None means float32."""
    if dtype is None:
        return jnp.float32
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ConfigError(f"{field}: unknown dtype {dtype!r}; known: {', '.join(_DTYPES)}")
        return _DTYPES[dtype]
    return dtype


class LogicalNames(nn.LogicallyPartitioned):
    """``nn.LogicallyPartitioned`` that never adds a sharding constraint when unboxed.

    flax's box constrains a param to its rule-mapped sharding whenever a mesh and rules are
    active, even inside ``apply`` (flax re-runs initialisers abstractly to check shapes);
    that fails for rules naming mesh axes the mesh lacks or dimensions a mesh axis doesn't
    divide. Params get their sharding from jit's in_shardings instead
    (``sharding.logical_to_mesh_sharding``), so the box only carries names.
    """

    def unbox(self, apply_constraint=True):
        return self.value


def annotated(init, names: Sequence[str | None]):
    """An initialiser whose variable carries logical axis names (see ``sharding.py``)."""
    names = tuple(names)

    def wrapper(*args, **kwargs):
        return LogicalNames(init(*args, **kwargs), names)

    return wrapper


def layer_norm(dtype: Dtype = jnp.float32, name: str | None = None, epsilon: float = 1e-6):
    """LayerNorm with f32 params; its scale/bias use the replicated 'norm' axis."""
    return nn.LayerNorm(
        epsilon=epsilon, dtype=dtype, name=name,
        scale_init=annotated(nn.initializers.ones, ("norm",)),
        bias_init=annotated(nn.initializers.zeros, ("norm",)),
    )


def dense(features: int, names: Sequence[str | None], dtype: Dtype = jnp.float32,
          kernel_init=nn.initializers.xavier_uniform(),
          bias_init=nn.initializers.normal(stddev=1e-6), name: str | None = None,
          use_bias: bool = True):
    """nn.Dense with logical names on kernel (in, out) and bias (out,)."""
    return nn.Dense(
        features, dtype=dtype, name=name, use_bias=use_bias,
        kernel_init=annotated(kernel_init, names),
        bias_init=annotated(bias_init, names[-1:]),
    )


def patch_tokens(x, width: int, patch_size: Sequence[int], dtype: Dtype, name: str):
    """Images ``[n, H, W, C]`` -> ``(tokens [n, h*w, width], (h, w))`` with ``h = H/p``:
    the patchifying conv of ViT and Mixer (params under ``name``, as their checkpoints
    name them)."""
    x = nn.Conv(width, tuple(patch_size), strides=tuple(patch_size), padding="VALID",
                dtype=dtype, name=name,
                kernel_init=annotated(nn.initializers.lecun_normal(),
                                      (None, None, "conv_in", "embed")),
                bias_init=annotated(nn.initializers.zeros, ("embed",)))(x)
    n, h, w, c = x.shape
    return jnp.reshape(x, [n, h * w, c]), (h, w)


def drop_path(x, rate: float, deterministic: bool):
    """Stochastic depth: drops the whole residual branch per example ('dropout' rng)."""
    if rate <= 0.0 or deterministic:
        return x
    return nn.Dropout(rate=rate, broadcast_dims=tuple(range(1, x.ndim)))(x, deterministic=False)


class MlpBlock(nn.Module):
    """Dense -> GELU -> dropout -> Dense -> dropout (ViT / Mixer / text MLP)."""

    mlp_dim: int
    dropout: float = 0.0
    dtype: Dtype = jnp.float32
    in_axis: str = "embed"  # logical name of the input/output feature axis
    out_dim: int | None = None

    @nn.compact
    def __call__(self, x, deterministic: bool = True):
        d = self.out_dim or x.shape[-1]
        y = dense(self.mlp_dim, (self.in_axis, "mlp"), self.dtype)(x)
        y = nn.gelu(y)
        y = nn.Dropout(rate=self.dropout)(y, deterministic)
        y = dense(d, ("mlp", self.in_axis), self.dtype)(y)
        return nn.Dropout(rate=self.dropout)(y, deterministic)


def split_variant(family: str, variant: str | None, known: Sequence[str]):
    """'B/16' -> ('B', 16); 'mu' -> ('mu', None). Unknown names raise ConfigError."""
    if variant is None:
        return None, None
    name, _, patch = str(variant).partition("/")
    if name not in known:
        raise ConfigError(
            f"model.variant: unknown {family} variant {name!r}; known: {', '.join(known)}")
    if patch:
        try:
            return name, int(patch)
        except ValueError:
            raise ConfigError(f"model.variant: bad patch size {patch!r} in {variant!r}") from None
    return name, None
