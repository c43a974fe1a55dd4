"""big_vision's flat ``.npz`` params format, for ViT checkpoints (AugReg, big_vision, timm).

A file maps '/'-joined param paths ('Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel',
'pos_embedding', 'head/bias', ...) to arrays. ``save_npz`` writes a params tree that way;
``load_npz`` reads one with ``allow_pickle=False`` and checks it against a template (the
model's params, concrete or from ``jax.eval_shape``): a missing, unexpected or misshaped key
raises ConfigError naming the key. Scanned models: convert with
``transformer.scanned_to_unscanned`` before saving / ``unscanned_to_scanned`` after loading.
Old-style files with ``Transformer/posembed_input/pos_embedding`` are read as ``pos_embedding``.

Our ``pos_embedding`` has a row for the class token when ``pool_type='tok'`` (the original
ViT layout); big_vision's own tok models add no position to the class token. Importing such
a file (one row fewer than the model's) prepends a zero row, which computes the same
function. Export always writes our layout.
"""
from __future__ import annotations

import os
from typing import Any

import flax.linen as nn
import jax
import numpy as np

from herolion.errors import ConfigError

#: old key -> our key
ALIASES = {"Transformer/posembed_input/pos_embedding": "pos_embedding"}


def flatten(params) -> dict[str, Any]:
    """{'/'-joined path: leaf} of a (possibly boxed) params tree."""
    leaves = jax.tree_util.tree_leaves_with_path(nn.unbox(params))
    return {"/".join(str(getattr(k, "key", k)) for k in path): v for path, v in leaves}


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        *parents, leaf = key.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return tree


def _add_class_row(posemb: np.ndarray, want: tuple[int, ...]) -> np.ndarray:
    """big_vision tok layout [1, N, D] -> ours [1, 1 + N, D] (zero class-token position)."""
    if posemb.ndim == 3 and len(want) == 3 and posemb.shape[0] == want[0] \
            and posemb.shape[2] == want[2] and posemb.shape[1] + 1 == want[1]:
        return np.concatenate([np.zeros_like(posemb[:, :1]), posemb], axis=1)
    return posemb


def save_npz(path: str | os.PathLike, params) -> None:
    """Writes params in big_vision's flat layout (bfloat16 leaves are stored as float32)."""
    arrays = {}
    for key, value in flatten(params).items():
        a = np.asarray(jax.device_get(value))
        if a.dtype.kind == "V" or a.dtype.name == "bfloat16":
            a = a.astype(np.float32)
        arrays[key] = a
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load_npz(path: str | os.PathLike, template) -> dict[str, Any]:
    """Reads ``path`` into the structure of ``template`` (numpy arrays, template dtypes)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            flat = {ALIASES.get(k, k): data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: not a readable .npz file ({err})") from None
    want = flatten(template)
    for key, spec in want.items():
        if key.split("/")[-1] == "pos_embedding" and key in flat:
            flat[key] = _add_class_row(flat[key], tuple(spec.shape))
        if key not in flat:
            raise ConfigError(f"{path}: missing key {key!r}")
        if tuple(flat[key].shape) != tuple(spec.shape):
            raise ConfigError(f"{path}: key {key!r} has shape {tuple(flat[key].shape)}, "
                              f"the model expects {tuple(spec.shape)}")
    extra = sorted(set(flat) - set(want))
    if extra:
        raise ConfigError(f"{path}: unexpected key {extra[0]!r} ({len(extra)} not in the model)")
    return unflatten({k: flat[k].astype(want[k].dtype) for k in want})
