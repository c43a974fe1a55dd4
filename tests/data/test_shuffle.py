"""herolion.data.shuffle: a per-epoch permutation per element read, pure in the index."""

import pickle

import grain
import pytest
import numpy as np

from herolion.data import shuffle


def _read(ds, indices):
    return np.array([ds[i] for i in indices])


def test_each_epoch_is_a_new_permutation_of_the_parent():
    n = 37
    ds = shuffle.shuffle(grain.MapDataset.range(n), seed=5).repeat(3)
    epochs = _read(ds, range(3 * n)).reshape(3, n)
    for order in epochs:
        assert sorted(order) == list(range(n))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], np.arange(n))


def test_elements_are_a_pure_function_of_seed_and_index():
    """Any read order (threads, workers, a resumed iterator) sees the same elements."""
    n = 50
    fwd = _read(shuffle.shuffle(grain.MapDataset.range(n), seed=9).repeat(2), range(2 * n))
    shuffle.epoch_permutation.cache_clear()
    again = shuffle.shuffle(grain.MapDataset.range(n), seed=9).repeat(2)
    backwards = _read(again, reversed(range(2 * n)))[::-1]
    np.testing.assert_array_equal(fwd, backwards)
    other = _read(shuffle.shuffle(grain.MapDataset.range(n), seed=10), range(n))
    assert not np.array_equal(fwd[:n], other)


def test_slicing_and_pickling_keep_the_order():
    ds = shuffle.shuffle(grain.MapDataset.range(20), seed=1)
    np.testing.assert_array_equal(_read(ds[3:9], range(6)), _read(ds, range(3, 9)))
    clone = pickle.loads(pickle.dumps(ds))   # grain's worker processes receive a pickle
    np.testing.assert_array_equal(_read(clone, range(20)), _read(ds, range(20)))


def test_the_order_is_a_numpy_permutation_per_epoch():
    """The independent reference: numpy's Generator seeded with (seed, epoch)."""
    n, seed = 30, 4
    ds = shuffle.shuffle(grain.MapDataset.range(n), seed=seed).repeat(2)
    for epoch in range(2):
        ref = np.random.default_rng(np.random.SeedSequence([seed, epoch])).permutation(n)
        np.testing.assert_array_equal(_read(ds, range(epoch * n, (epoch + 1) * n)), ref)


def test_shards_too_large_for_a_table_use_grains_shuffle(monkeypatch):
    monkeypatch.setattr(shuffle, "MAX_TABLE", 10)
    ds = shuffle.shuffle(grain.MapDataset.range(11), seed=2)
    assert not isinstance(ds, shuffle.EpochShuffleMapDataset)
    assert sorted(_read(ds, range(11))) == list(range(11))


@pytest.mark.parametrize("shuffled", [True, False])
@pytest.mark.parametrize("num_epochs", [None, 3])
def test_shuffled_batches_equal_the_element_wise_pipeline(shuffled, num_epochs):
    """Batches straddle epochs (n=23, b=5) and one is larger than an epoch (b=30)."""
    for n, b in ((23, 5), (23, 30)):
        ds = grain.MapDataset.range(n)
        ds = shuffle.shuffle(ds, seed=3) if shuffled else ds
        ref = ds.repeat(num_epochs).batch(b, drop_remainder=True)
        fast = shuffle.ShuffledBatchesMapDataset(n, b, 3, shuffle=shuffled,
                                                 num_epochs=num_epochs)
        k = 3 * n // b
        if num_epochs is not None:
            assert len(fast) == len(ref) == k
        for i in range(k):
            np.testing.assert_array_equal(fast[i], ref[i])
