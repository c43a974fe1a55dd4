"""The pre-LN transformer encoder shared by ViT and the text tower.

Layout (big_vision): ``Transformer/encoderblock_{i}/{LayerNorm_0,
MultiHeadDotProductAttention_0, LayerNorm_1, MlpBlock_0}`` and ``Transformer/encoder_norm``.
With ``scan=True`` the blocks become one ``Transformer/encoderblock`` whose params carry a
leading 'layers' axis (``nn.scan``), each layer wrapped in ``nn.remat``: the graph is traced
once, so ViT-G compiles in seconds and activations are recomputed in the backward pass.
``scanned_to_unscanned`` / ``unscanned_to_scanned`` convert params between the two layouts.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from herolion.models.attention import MultiHeadDotProductAttention
from herolion.models.common import Dtype, MlpBlock, drop_path, layer_norm
from herolion.models.sharding import constrain_batch


class Encoder1DBlock(nn.Module):
    mlp_dim: int
    num_heads: int
    dropout: float = 0.0
    droppath: float = 0.0
    dtype: Dtype = jnp.float32
    scanned: bool = False  # return (x, None) for nn.scan

    @nn.compact
    def __call__(self, x, deterministic: bool = True, bias=None):
        x = constrain_batch(x)
        y = layer_norm(self.dtype)(x)
        y = MultiHeadDotProductAttention(self.num_heads, dtype=self.dtype)(y, y, bias)
        y = nn.Dropout(rate=self.dropout)(y, deterministic)
        x = x + drop_path(y, self.droppath, deterministic)
        y = layer_norm(self.dtype)(x)
        y = MlpBlock(self.mlp_dim, self.dropout, self.dtype)(y, deterministic)
        x = x + drop_path(y, self.droppath, deterministic)
        x = constrain_batch(x)
        return (x, None) if self.scanned else x


class Encoder(nn.Module):
    depth: int
    mlp_dim: int
    num_heads: int
    dropout: float = 0.0
    droppath: float = 0.0
    dtype: Dtype = jnp.float32
    scan: bool = False
    remat_policy: str = "nothing_saveable"  # a jax.checkpoint_policies name, or 'none'

    @nn.compact
    def __call__(self, x, deterministic: bool = True, bias=None):
        """``bias``: optional additive attention logits bias, e.g. a padding mask's -inf."""
        kw = dict(mlp_dim=self.mlp_dim, num_heads=self.num_heads, dropout=self.dropout,
                  droppath=self.droppath, dtype=self.dtype)
        if self.scan:
            block = Encoder1DBlock
            if self.remat_policy != "none":
                policy = getattr(jax.checkpoint_policies, self.remat_policy)
                block = nn.remat(block, prevent_cse=False, static_argnums=(2,), policy=policy)
            x, _ = nn.scan(
                block, variable_axes={"params": 0}, split_rngs={"params": True, "dropout": True},
                in_axes=(nn.broadcast, nn.broadcast), length=self.depth,
                metadata_params={nn.PARTITION_NAME: "layers"},
            )(name="encoderblock", scanned=True, **kw)(x, deterministic, bias)
        else:
            for i in range(self.depth):
                x = Encoder1DBlock(name=f"encoderblock_{i}", **kw)(x, deterministic, bias)
        return layer_norm(self.dtype, name="encoder_norm")(x)


def _encoder_nodes(params):
    """Yields every dict holding encoder blocks (a 'Transformer' subtree), recursively."""
    if not isinstance(params, dict):
        return
    for key, value in params.items():
        if key == "Transformer" and isinstance(value, dict):
            yield value
        else:
            yield from _encoder_nodes(value)


def scanned_to_unscanned(params: dict[str, Any]) -> dict[str, Any]:
    """Splits ``Transformer/encoderblock`` (leading layer axis) into ``encoderblock_{i}``."""
    params = jax.tree.map(lambda a: a, params)  # shallow-copy dicts
    for node in _encoder_nodes(params):
        if "encoderblock" in node:
            stacked = node.pop("encoderblock")
            depth = jax.tree.leaves(stacked)[0].shape[0]
            for i in range(depth):
                node[f"encoderblock_{i}"] = jax.tree.map(lambda a, i=i: a[i], stacked)
    return params


def unscanned_to_scanned(params: dict[str, Any]) -> dict[str, Any]:
    """Stacks ``Transformer/encoderblock_{i}`` into one ``encoderblock`` (layer axis 0)."""
    params = jax.tree.map(lambda a: a, params)
    for node in _encoder_nodes(params):
        keys = sorted((k for k in node if k.startswith("encoderblock_")),
                      key=lambda k: int(k.rsplit("_", 1)[1]))
        if keys:
            blocks = [node.pop(k) for k in keys]
            stack = np.stack if isinstance(jax.tree.leaves(blocks[0])[0], np.ndarray) else jnp.stack
            node["encoderblock"] = jax.tree.map(lambda *a: stack(a), *blocks)
    return params
