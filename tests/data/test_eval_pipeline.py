"""The eval pipeline visits every example exactly once across processes."""
import numpy as np
import pytest

from herolion.data import eval_pipeline


@pytest.mark.parametrize("count, batch", [(1, 64), (2, 64), (3, 63), (3, 6)])
def test_masks_count_every_example_once(data_dir, count, batch):
    cfg = dict(data=dict(name="digits", split="test"), pp='decode|keep("id", "image")')
    seen, steps = [], set()
    for p in range(count):
        batches = list(eval_pipeline.eval_iterator(cfg, data_dir=data_dir, batch_size=batch,
                                                   process_index=p, process_count=count))
        steps.add(len(batches))
        for b in batches:
            assert b["id"].shape == (batch // count,) and b["_mask"].dtype == bool
            assert b["image"].shape == (batch // count, 32, 32, 3)
            seen.extend(b["id"][b["_mask"]].tolist())
    assert len(steps) == 1  # every process runs the same number of steps
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 359


@pytest.mark.parametrize("n, batch, count", [(10, 4, 3), (2, 3, 3), (7, 1, 1), (9, 3, 3)])
def test_shard_layout(n, batch, count):
    layouts = [eval_pipeline.shard_layout(n, batch, p, count) for p in range(count)]
    lengths = {len(i) for i, _ in layouts}
    assert len(lengths) == 1 and lengths.pop() % batch == 0
    real = np.concatenate([i[v] for i, v in layouts])
    np.testing.assert_array_equal(np.sort(real), np.arange(n))
    assert all(((0 <= i) & (i < n)).all() for i, _ in layouts)


def test_eval_config_keys(data_dir):
    cfg = dict(data=dict(name="digits", split="test[:10]"), pp="decode|value_range(0, 1)",
               batch_size=4, data_dir=data_dir)
    batches = list(eval_pipeline.eval_iterator(cfg, process_index=0, process_count=1))
    assert len(batches) == 3 and int(sum(b["_mask"].sum() for b in batches)) == 10
    assert batches[0]["image"].dtype == np.float32
