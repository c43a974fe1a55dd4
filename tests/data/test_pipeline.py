"""The grain train pipeline: shapes, determinism, sharding, workers, config errors."""

import numpy as np
import pytest

from herolion.data import pipeline
from herolion.errors import ConfigError
from tests.data.batches import assert_same, take

PP = 'decode|inception_crop(24)|flip_lr|value_range(-1, 1)|onehot(10)|keep("image", "labels", "id")'


def cfg(data_dir, **over):
    base = dict(data=dict(name="digits", split="train"), data_dir=data_dir, batch_size=16,
                pp=PP, num_workers=0)
    return {**base, **over}


def test_batches_shapes_dtypes(data_dir):
    b = next(pipeline.train_iterator(cfg(data_dir), seed=0, process_index=0, process_count=1))
    assert b["image"].shape == (16, 24, 24, 3) and b["image"].dtype == np.float32
    assert b["labels"].shape == (16, 10) and b["labels"].dtype == np.float32
    assert -1 <= b["image"].min() and b["image"].max() <= 1
    np.testing.assert_array_equal(b["labels"].sum(-1), 1)
    assert ((0 <= b["id"]) & (b["id"] < 1797)).all()


@pytest.mark.parametrize("cache", [False, True])
def test_batches_are_aligned_and_cpu_devices_take_them_without_a_copy(data_dir, cache):
    """Both ways of batching (per-step stacking; one gather from the cache) allocate
    64-byte-aligned arrays, which the loop's ``global_batch`` hands to XLA:CPU as is."""
    import jax
    from herolion.trainer import mesh as mesh_lib, sharding
    from herolion.trainer.loop import global_batch
    pp = 'decode|value_range(-1, 1)|onehot(10)|keep("image", "labels")' if cache else PP
    it = pipeline.train_iterator(cfg(data_dir, pp=pp, cache=cache), seed=0, process_index=0,
                                 process_count=1)
    batches = take(it, 3)
    assert all(v.ctypes.data % 64 == 0 for b in batches for v in b.values())
    mesh = mesh_lib.make_mesh("data=1", jax.devices()[:1])
    on_device = global_batch(batches[-1], sharding.batch_sharding(mesh))
    for key in ("image", "labels"):   # ("id" is int64: JAX converts it, a copy)
        assert np.asarray(on_device[key]).ctypes.data == batches[-1][key].ctypes.data, key


def test_same_seed_same_batches_other_seed_differs(data_dir):
    c = cfg(data_dir)
    a = take(pipeline.train_iterator(c, seed=7, process_index=0, process_count=1), 3)
    b = take(pipeline.train_iterator(c, seed=7, process_index=0, process_count=1), 3)
    assert_same(a, b)
    d = take(pipeline.train_iterator(c, seed=8, process_index=0, process_count=1), 1)
    assert not np.array_equal(a[0]["id"], d[0]["id"])


def test_epochs_are_permutations(data_dir):
    c = cfg(data_dir, pp='keep("id")', batch_size=2, num_epochs=2)
    ids = np.concatenate([b["id"] for b in pipeline.train_iterator(c, seed=1, process_index=0,
                                                                  process_count=1)])
    assert len(ids) == 2 * 1438
    first, second = ids[:1438], ids[1438:]
    assert sorted(first) == sorted(second) and len(set(first)) == 1438
    assert not np.array_equal(first, second)  # each epoch is reshuffled


def test_two_processes_are_disjoint_and_cover(data_dir):
    c = cfg(data_dir, pp='keep("id")', batch_size=2, num_epochs=1)
    shards = [np.concatenate([b["id"] for b in pipeline.train_iterator(c, seed=3, process_index=p,
                                                                      process_count=2)])
              for p in range(2)]
    assert not set(shards[0]) & set(shards[1])
    assert len(shards[0]) + len(shards[1]) == 1438
    all_train = {int(src["id"]) for src in _source(data_dir)}
    assert set(shards[0]) | set(shards[1]) == all_train


def _source(data_dir):
    from herolion.data import source
    src = source.open_source("digits", "train", data_dir)
    return [src[i] for i in range(len(src))]


def test_worker_processes_give_the_same_batches(data_dir):
    ref = take(pipeline.train_iterator(cfg(data_dir), seed=5, process_index=0, process_count=1), 4)
    it = pipeline.train_iterator(cfg(data_dir, num_workers=2), seed=5, process_index=0,
                                 process_count=1)
    try:
        assert_same(ref, take(it, 4))
    finally:
        it.close()


def test_config_dict_and_jax_process_defaults(data_dir):
    import ml_collections
    c = ml_collections.ConfigDict(cfg(data_dir))
    b = next(pipeline.train_iterator(c, seed=0))  # jax: process 0 of 1
    assert b["image"].shape[0] == 16


@pytest.mark.parametrize("over, pattern", [
    (dict(batch_size=15), r"^input\.batch_size: 15 is not divisible by the process count 2$"),
    (dict(data=dict(name="digitz", split="train")), r"^input\.data\.name: unknown dataset 'digitz'"),
    (dict(data_dir=None), r"^input\.data_dir: required"),
    (dict(pp="decode|value_rang(0, 1)"), r"^input\.pp: .*did you mean 'value_range'"),
    (dict(data=dict(name="digits", split="validation")), r"^input\.data\.split: bad split"),
])
def test_config_errors(data_dir, over, pattern):
    with pytest.raises(ConfigError, match=pattern):
        pipeline.train_dataset({**cfg(data_dir), **over}, process_index=0, process_count=2)


def test_missing_data_dir_folder(tmp_path):
    with pytest.raises(ConfigError, match="is not a folder"):
        pipeline.train_dataset(cfg(str(tmp_path / "nope")), process_index=0, process_count=1)
    with pytest.raises(ConfigError, match="'digits' is not prepared in .*herolion data prepare"):
        pipeline.train_dataset(cfg(str(tmp_path)), process_index=0, process_count=1)


def test_unprepared_tfds_dataset_hint(tmp_path):
    c = cfg(str(tmp_path), data=dict(name="cifar100", split="train"))
    with pytest.raises(ConfigError, match="'cifar100' is not prepared"):
        pipeline.train_dataset(c, process_index=0, process_count=1)


