"""BERT-style text transformer for LiT's text tower.

``create('text', variant='B', vocab_size=32000, num_classes=768, max_len=64)``; called as
``model.apply(vars, tokens[B, L] int32, train=bool)`` and returns ``[B, num_classes]``: the
pooled encoding projected by ``head`` (``num_classes=0``: the pooled ``[B, width]`` itself).

Pooling ``pool_type``: 'first' (default, BERT's [CLS] position: the tokenizer must put a
start token first), 'last' (big_vision's text tower: end-of-sequence token at the last
position) or 'mean'. ``pad_id=None`` (default) has no padding mask: padded positions take
part in attention, as in big_vision's text tower (pad to a fixed ``max_len``). With
``pad_id`` set (0 for herolion's tokenizers), tokens equal to it are masked out of attention
and of 'mean' pooling, so a text's embedding does not depend on how much padding follows it.

Parameters: ``embedding`` [vocab, width] ('vocab', 'embed'), ``pos_embedding``
[1, max_len, width] (learned), ``Transformer/...`` (shared with ViT), ``head``.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from herolion.errors import ConfigError
from herolion.models.common import annotated, as_dtype, dense
from herolion.models.sharding import constrain_batch
from herolion.models.transformer import Encoder

#: name -> (width, depth, mlp_dim, num_heads)
VARIANTS = {
    "mu": (32, 2, 64, 2),
    "S": (384, 12, 1536, 6),
    "B": (768, 12, 3072, 12),
    "L": (1024, 24, 4096, 16),
}


class TextTransformer(nn.Module):
    num_classes: int | None = 768
    vocab_size: int = 32_000
    max_len: int = 64
    width: int = 768
    depth: int = 12
    mlp_dim: int = 3072
    num_heads: int = 12
    pool_type: str = "first"  # first | last | mean
    pad_id: int | None = None
    dropout: float = 0.0
    droppath: float = 0.0
    scan: bool = False
    remat_policy: str = "nothing_saveable"
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, tokens, *, train: bool = False):
        dtype = as_dtype(self.dtype)
        tokens = constrain_batch(jnp.asarray(tokens))
        if tokens.shape[1] > self.max_len:
            raise ConfigError(f"model.max_len: text of length {tokens.shape[1]} exceeds "
                              f"max_len={self.max_len}")
        x = nn.Embed(self.vocab_size, self.width, dtype=dtype, name="embedding",
                     embedding_init=annotated(nn.initializers.normal(1 / np.sqrt(self.width)),
                                              ("vocab", "embed")))(tokens)
        pos = self.param("pos_embedding",
                         annotated(nn.initializers.normal(1 / np.sqrt(self.width)),
                                   (None, "length", "embed")),
                         (1, self.max_len, self.width), jnp.float32)
        x = x + pos[:, : tokens.shape[1]].astype(dtype)
        x = nn.Dropout(rate=self.dropout)(x, not train)
        keep = None if self.pad_id is None else (tokens != self.pad_id)
        bias = None if keep is None else jnp.where(keep, 0.0, -1e9)[:, None, None, :]
        x = Encoder(self.depth, self.mlp_dim, self.num_heads, self.dropout, self.droppath,
                    dtype, self.scan, self.remat_policy, name="Transformer")(x, not train, bias)
        if self.pool_type == "first":
            x = x[:, 0]
        elif self.pool_type == "last":
            x = x[:, -1]
        elif keep is None:
            x = jnp.mean(x, axis=1)
        else:
            w = keep.astype(x.dtype)[..., None]
            x = jnp.sum(x * w, axis=1) / jnp.maximum(jnp.sum(w, axis=1), 1.0)
        if not self.num_classes:
            return x
        return dense(self.num_classes, ("embed", "classes"), dtype, name="head",
                     kernel_init=nn.initializers.xavier_uniform(),
                     bias_init=nn.initializers.zeros)(x)


def create(variant: str | None = None, **kw) -> TextTransformer:
    if variant is not None:
        if variant not in VARIANTS:
            raise ConfigError(f"model.variant: unknown text variant {variant!r}; known: "
                              f"{', '.join(VARIANTS)}")
        width, depth, mlp_dim, heads = VARIANTS[variant]
        kw = {"width": width, "depth": depth, "mlp_dim": mlp_dim, "num_heads": heads, **kw}
    if kw.get("pool_type", "first") not in ("first", "last", "mean"):
        raise ConfigError(f"model.pool_type: unknown {kw['pool_type']!r}; known: first, last, mean")
    return TextTransformer(**kw)


MODEL = TextTransformer
