"""``input.cache``: the deterministic pp prefix runs once; batches and resuming are unchanged."""
import numpy as np
import pytest

from herolion.data import pipeline, preprocess
from tests.data.batches import assert_same, take

RANDOM_TAIL = ('decode|value_range(0, 255)|inception_crop(16)|flip_lr|value_range(-1, 1)'
               '|onehot(10)|keep("image", "labels", "id")')
DETERMINISTIC = 'decode|value_range(-1, 1)|onehot(10)|keep("image", "labels", "id")'


def cfg(data_dir, pp, **over):
    return {**dict(data=dict(name="digits", split="train"), data_dir=data_dir, batch_size=16,
                   pp=pp, num_workers=0), **over}


def test_split_deterministic():
    pp = preprocess.build(RANDOM_TAIL)
    head, tail = pp.split_deterministic()
    assert head.names == ("decode", "value_range")
    assert tail.names[0] == "inception_crop" and len(head.ops) + len(tail.ops) == len(pp.ops)
    head, tail = preprocess.build(DETERMINISTIC).split_deterministic()
    assert len(tail.ops) == 0 and head.names[-1] == "keep"
    head, _ = preprocess.build([lambda e, r: e, "decode"]).split_deterministic()
    assert head.ops == ()  # a callable may draw: not cached, nor anything after it


@pytest.mark.parametrize("pp", [RANDOM_TAIL, DETERMINISTIC])
def test_cache_gives_the_same_batches(data_dir, pp):
    n = 1438 // 16 + 3  # into the second epoch (reshuffled)
    plain = take(pipeline.train_iterator(cfg(data_dir, pp), seed=4, process_index=1,
                                         process_count=2), n // 2)
    cached = take(pipeline.train_iterator(cfg(data_dir, pp, cache=True), seed=4,
                                          process_index=1, process_count=2), n // 2)
    assert_same(plain, cached)


def test_cache_resumes_exactly(data_dir):
    c = cfg(data_dir, RANDOM_TAIL, cache=True)
    it = pipeline.train_iterator(c, seed=2, process_index=0, process_count=1)
    take(it, 95)  # past the first epoch (89 batches)
    saved = it.get_state()
    expected = take(it, 4)
    fresh = pipeline.train_iterator(c, seed=2, process_index=0, process_count=1)
    fresh.set_state(saved)
    assert_same(take(fresh, 4), expected)
    plain = pipeline.train_iterator(cfg(data_dir, RANDOM_TAIL), seed=2, process_index=0,
                                    process_count=1)
    plain.set_state(saved)  # the state is a position: it restores without the cache too
    assert_same(take(plain, 4), expected)


def test_batches_from_the_cache_are_fresh_arrays(data_dir):
    ds = pipeline.train_dataset(cfg(data_dir, DETERMINISTIC, cache=True), seed=0,
                                process_index=0, process_count=1)
    batch = next(iter(ds))
    assert batch["image"].flags.writeable  # batches are fresh arrays


def test_a_fully_deterministic_spec_batches_by_one_gather(data_dir, monkeypatch):
    """All of ``pp`` cached: each batch is one gather from stacked arrays, and no example
    is preprocessed per step (the batches are still those of the plain run)."""
    c = cfg(data_dir, DETERMINISTIC, cache=True)
    calls = []
    real_call = preprocess.Preprocess.__call__

    def counting(self, *args):
        calls.append(self.spec)
        return real_call(self, *args)
    monkeypatch.setattr(preprocess.Preprocess, "__call__", counting)
    it = pipeline.train_iterator(c, seed=3, process_index=0, process_count=1)
    assert len(calls) == 1438                               # the cache: once per example
    gathers = []
    real_gather = pipeline._Gather.__call__
    monkeypatch.setattr(pipeline._Gather, "__call__",
                        lambda self, p: gathers.append(len(p)) or real_gather(self, p))
    cached = take(it, 94)                                   # into the second epoch
    assert len(calls) == 1438 and sum(gathers) >= 94 * 16
    monkeypatch.undo()
    plain = take(pipeline.train_iterator(cfg(data_dir, DETERMINISTIC), seed=3, process_index=0,
                                         process_count=1), 94)
    assert_same(cached, plain)


def test_ragged_cached_examples_fall_back_to_per_step_batching(data_dir):
    """``decode`` alone keeps each image's own size; if sizes differed the cache could not
    be stacked. Digits are all 32x32, so build ragged examples directly."""
    examples = [{"image": np.zeros((2, 2)), "label": 1}, {"image": np.zeros((3, 2)), "label": 0}]
    assert pipeline._stack(examples) is None
    assert pipeline._stack([{"a": 1}, {"b": 2}]) is None
    stacked = pipeline._stack([{"a": np.ones(2), "b": 3}, {"a": np.zeros(2), "b": 4}])
    np.testing.assert_array_equal(stacked["a"], [[1, 1], [0, 0]])
    np.testing.assert_array_equal(stacked["b"], [3, 4])
