"""Fine-tuning at another resolution or with another head.

``resample_posemb`` resizes a learned position embedding ``[1, prefix + h*w, D]`` to a new
grid bilinearly, keeping prefix (class) tokens apart. ``adapt_params`` maps an old params
tree onto a new model's (abstract) params: same-shaped leaves are copied, a
``pos_embedding`` whose grid differs is resampled, the ``head`` is zero-initialised when its
shape differs or ``reinit_head`` is set; any other mismatch is a ConfigError naming the key.
``load_params_for`` does both for a model given by name and kwargs.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from herolion.errors import ConfigError


def _grid(tokens: int, prefix: int | None) -> tuple[int, tuple[int, int]]:
    """(prefix, (h, w)) for a square grid; prefix inferred when None (0 or 1)."""
    for p in ((prefix,) if prefix is not None else (0, 1)):
        side = math.isqrt(max(tokens - p, 0))
        if side * side == tokens - p and side > 0:
            return p, (side, side)
    raise ConfigError(f"pos_embedding: {tokens} tokens is not [prefix +] a square grid; "
                      "pass old_grid/new_grid")


def resample_posemb(old, new_tokens: int | None = None, *, new_grid: Sequence[int] | None = None,
                    old_grid: Sequence[int] | None = None, prefix: int | None = None):
    """Resamples ``old`` [1, prefix + gh*gw, D] to ``new_grid`` (or a square of new_tokens).

    The prefix (class token) rows are copied unchanged. Same grid: returns ``old`` as is.
    """
    old = jnp.asarray(old)
    _, tokens, width = old.shape
    if old_grid is None:
        prefix, old_grid = _grid(tokens, prefix)
    elif prefix is None:
        prefix = tokens - old_grid[0] * old_grid[1]
    if new_grid is None:
        if new_tokens is None:
            raise ConfigError("resample_posemb: give new_tokens or new_grid")
        _, new_grid = _grid(new_tokens, prefix)
    if tuple(old_grid) == tuple(new_grid):
        return old
    head, grid = old[:, :prefix], old[0, prefix:]
    grid = jnp.reshape(grid, (*old_grid, width))
    grid = jax.image.resize(grid, (*new_grid, width), method="bilinear")
    return jnp.concatenate([head, jnp.reshape(grid, (1, -1, width)).astype(old.dtype)], axis=1)


def _path(keys) -> str:
    return "/".join(str(getattr(k, "key", k)) for k in keys)


def adapt_params(new_params, old_params, *, reinit_head: bool = True,
                 head_key: str = "head", posemb_key: str = "pos_embedding") -> Any:
    """Builds params for a new model from ``old_params`` (see module docstring).

    ``head_key`` is the '/'-joined path of the head subtree (e.g. 'img/head' in a two-tower
    model); ``posemb_key`` the name of position-embedding leaves at any depth.

    ``new_params`` may be abstract (``jax.ShapeDtypeStruct``, e.g. from ``jax.eval_shape``)
    and boxed; the result is a plain tree of arrays in the new dtypes.
    """
    new_params, old_params = nn.unbox(new_params), nn.unbox(old_params)
    old_flat = {_path(p): v for p, v in jax.tree_util.tree_leaves_with_path(old_params)}

    def one(keys, new):
        path = _path(keys)
        parts = path.split("/")
        if (path + "/").startswith(head_key + "/") and (reinit_head or path not in old_flat
                                      or old_flat[path].shape != new.shape):
            return jnp.zeros(new.shape, new.dtype)
        if path not in old_flat:
            raise ConfigError(f"params: key {path!r} of the new model is missing "
                              "from the old params")
        old = old_flat[path]
        if old.shape == new.shape:
            return jnp.asarray(old, new.dtype)
        if parts[-1] == posemb_key and len(new.shape) == 3 and old.shape[2] == new.shape[2]:
            out = resample_posemb(old, new.shape[1])
            if out.shape == new.shape:
                return out.astype(new.dtype)
        raise ConfigError(f"params: key {path!r} has shape {tuple(old.shape)}, the new model "
                          f"expects {tuple(new.shape)}")

    return jax.tree_util.tree_map_with_path(one, new_params)


def load_params_for(model_name: str, model_kwargs: dict, old_params, input_shape: Sequence[int],
                    *, input_dtype=jnp.float32, reinit_head: bool = True) -> Any:
    """Params for ``create(model_name, **model_kwargs)`` at ``input_shape`` from old params.

    E.g. ``load_params_for('vit', {'variant': 'B/16', 'num_classes': 37}, params224,
    (1, 384, 384, 3))``. Nothing is allocated for the new model beyond the result.
    """
    from herolion.models import create
    model = create(model_name, **model_kwargs)
    abstract = jax.eval_shape(
        lambda: model.init(jax.random.PRNGKey(0), jnp.zeros(input_shape, input_dtype)))
    return adapt_params(abstract["params"], old_params, reinit_head=reinit_head)
