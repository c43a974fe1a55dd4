"""The evaluation pipeline: every example exactly once across processes.

Why padding and a mask: with N examples, P processes and a global batch B, each
process takes a contiguous block of ``ceil(N / P)`` indices and every process runs
the same number of batches (SPMD steps stay in lockstep). Missing slots repeat a
real example (so shapes and dtypes match) with ``_mask = False``; metrics that sum
``_mask``-weighted values are therefore exact for any process count.

Config: ``evals.NAME.data = dict(name=..., split=...)``, ``evals.NAME.pp``,
``evals.NAME.batch_size`` (global; defaults to the caller's), ``evals.NAME.data_dir``
(defaults to ``input.data_dir``).
"""
import math

import numpy as np

from herolion.data import aligned
from herolion.data import config as cfg_lib
from herolion.data import preprocess
from herolion.data import source as source_lib
from herolion.errors import ConfigError

MASK_KEY = "_mask"


def shard_layout(num_examples, batch, process_index, process_count):
    """``(indices, valid)`` for one process, ``batch`` per process per step: the same
    length for every process, a contiguous block of real indices, then padding."""
    per_process = math.ceil(num_examples / process_count)
    steps = max(1, math.ceil(per_process / batch))
    start = min(num_examples, process_index * per_process)
    stop = min(num_examples, start + per_process)
    real = np.arange(start, stop, dtype=np.int64)
    pad = steps * batch - len(real)
    filler = real[0] if len(real) else 0
    indices = np.concatenate([real, np.full((pad,), filler, np.int64)])
    valid = np.concatenate([np.ones(len(real), bool), np.zeros(pad, bool)])
    return indices, valid


class _PaddedShard:
    """Random-access view: element i is ``(source[indices[i]], valid[i])``."""

    def __init__(self, src, indices, valid):
        self.src, self.indices, self.valid = src, indices, valid

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.src[int(self.indices[i])], bool(self.valid[i]), int(self.indices[i])


class _Preprocess:
    """Deterministic eval preprocessing (rng seeded by the example index) + mask."""

    def __init__(self, pp):
        self.pp = pp

    def __call__(self, item):
        example, valid, index = item
        out = self.pp(example, np.random.default_rng(index))
        out[MASK_KEY] = np.bool_(valid)
        return out


def eval_dataset(eval_cfg, *, data_dir=None, batch_size=None, process_index=None,
                 process_count=None, field="evals"):
    """A finite ``grain.IterDataset`` of padded per-process batches with ``_mask``."""
    import grain
    pi, pc = cfg_lib.process_layout(process_index, process_count)
    name, split = cfg_lib.dataset_name_split(eval_cfg, field, "test")
    data_dir = cfg_lib.get(eval_cfg, "data_dir", data_dir)
    global_batch = cfg_lib.get(eval_cfg, "batch_size", batch_size)
    pp = preprocess.build(cfg_lib.get(eval_cfg, "pp", ""), field=f"{field}.pp", data_dir=data_dir)
    src = source_lib.open_source(name, split, data_dir, field=f"{field}.data")
    per_process = cfg_lib.per_process_batch_size(global_batch, pc, field=f"{field}.batch_size")
    indices, valid = shard_layout(len(src), per_process, pi, pc)
    ds = grain.MapDataset.source(_PaddedShard(src, indices, valid)).map(_Preprocess(pp))
    ds = ds.batch(per_process, drop_remainder=True, batch_fn=aligned.stack_examples)
    read = grain.ReadOptions(num_threads=int(cfg_lib.get(eval_cfg, "num_threads", 4)),
                             prefetch_buffer_size=int(cfg_lib.get(eval_cfg, "prefetch", 8)))
    return ds.to_iter_dataset(read)


def eval_iterator(eval_cfg, **kwargs):
    """``iter(eval_dataset(...))``: one pass over the split."""
    return iter(eval_dataset(eval_cfg, **kwargs))


def labels_present(eval_cfg, *, data_dir=None, key="label", field="evals"):
    """The sorted distinct integer labels in feature ``key`` of the eval split.

    For ImageNet-A/R (200-class subsets whose tfds labels are ImageNet's 1000-class ids)
    this is the class subset to score; images stay undecoded, so it costs one read."""
    name, split = cfg_lib.dataset_name_split(eval_cfg, field, "test")
    data_dir = cfg_lib.get(eval_cfg, "data_dir", data_dir)
    src = source_lib.open_source(name, split, data_dir, field=f"{field}.data")
    if len(src) == 0:
        return []
    first = src[0]
    if key not in first:
        raise ConfigError(f"{field}.class_subset: {name}[{split}] has no feature {key!r} "
                          f"(features: {', '.join(sorted(first))})")
    labels = np.unique(np.asarray([np.asarray(src[i][key]) for i in range(len(src))]))
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise ConfigError(f"{field}.class_subset: feature {key!r} of {name} is not an "
                          "integer class id")
    return [int(x) for x in labels]
