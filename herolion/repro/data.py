"""The digits splits as in-memory arrays.

Why not the grain pipeline: the repro trains hundreds of tiny runs inside one jitted,
vmapped ``lax.scan``; the whole dataset (1.4k train images) fits in a few hundred KB, so
reading it once and indexing batches on device avoids per-step host work entirely.
"""
from typing import NamedTuple

import numpy as np

from herolion.errors import ConfigError


class Split(NamedTuple):
    images: np.ndarray  # [N, res, res, 3] float32 in [-1, 1]
    labels: np.ndarray  # [N] int32


def _pool(images, res):
    """Average-pools square uint8 images down to ``res`` (which must divide their size)."""
    size = images.shape[1]
    if size % res:
        raise ConfigError(f"--res: {res} must divide the prepared image size {size}")
    k = size // res
    x = images.astype(np.float32).reshape(len(images), res, k, res, k, -1).mean((2, 4))
    return x / 127.5 - 1.0


def read_split(name, split, data_dir, res):
    """All of one split, decoded, pooled to ``res`` px and scaled to [-1, 1]."""
    import io

    from PIL import Image

    from herolion.data.source import open_source
    source = open_source(name, split, data_dir, field="--data-dir")
    records = [source[i] for i in range(len(source))]
    images = np.stack([np.asarray(Image.open(io.BytesIO(r["image"])).convert("RGB"))
                       for r in records])
    labels = np.asarray([r["label"] for r in records], np.int32)
    return Split(_pool(images, res), labels)


def load(data_dir, res=16, prepare=True):
    """``(train, test)`` of ``digits``, prepared into ``data_dir`` first when asked."""
    if prepare:
        from herolion.data.prepare import prepare as prepare_dataset
        prepare_dataset("digits", data_dir)
    return read_split("digits", "train", data_dir, res), read_split("digits", "test", data_dir, res)
