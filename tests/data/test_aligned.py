"""Aligned batches: the same values as numpy's, on 64-byte boundaries, and (the reason)
XLA:CPU then takes them without a copy."""
import jax
import numpy as np
import pytest

from herolion.data import aligned


def is_aligned(x):
    return x.ctypes.data % aligned.ALIGN == 0


@pytest.mark.parametrize("shape,dtype", [((128, 32, 32, 3), np.float32), ((7,), np.uint8),
                                         ((3, 5), np.int64), ((0, 4), np.float32),
                                         ((2,), "<U7"), ((), np.float16)])
def test_empty_is_aligned_with_the_requested_shape_and_dtype(shape, dtype):
    for _ in range(5):   # numpy's own allocations land on 16-byte boundaries
        x = aligned.empty(shape, dtype)
        assert x.shape == shape and x.dtype == np.dtype(dtype)
        assert is_aligned(x) or x.size == 0
        assert x.flags.c_contiguous and x.flags.writeable


def test_object_arrays_come_from_numpy():
    x = aligned.empty((3,), object)
    assert x.dtype == object and list(x) == [None] * 3


def test_take_and_stack_equal_numpy():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(50, 4, 3)).astype(np.float32)
    positions = rng.integers(0, 50, 16)
    got = aligned.take(table, positions)
    np.testing.assert_array_equal(got, table[positions])
    assert is_aligned(got) and got.dtype == table.dtype
    rows = [rng.integers(0, 9, (2, 3)).astype(np.int32) for _ in range(5)]
    got = aligned.stack(rows)
    np.testing.assert_array_equal(got, np.stack(rows))
    assert is_aligned(got) and got.dtype == np.int32
    mixed = aligned.stack([np.int32(1), np.float32(2.5)])   # numpy's type promotion
    assert mixed.dtype == np.stack([np.int32(1), np.float32(2.5)]).dtype


def test_stack_examples_batches_nested_dicts_like_grain():
    examples = [{"image": np.full((2, 2), i, np.uint8), "meta": {"id": i, "w": 0.5 * i}}
                for i in range(4)]
    got = aligned.stack_examples(examples)
    np.testing.assert_array_equal(got["image"], np.stack([e["image"] for e in examples]))
    np.testing.assert_array_equal(got["meta"]["id"], [0, 1, 2, 3])
    np.testing.assert_array_equal(got["meta"]["w"], [0, 0.5, 1, 1.5])
    assert all(is_aligned(x) for x in (got["image"], got["meta"]["id"], got["meta"]["w"]))
    pairs = aligned.stack_examples([(np.int32(i), [np.float32(i), np.float32(-i)])
                                    for i in range(3)])
    assert isinstance(pairs, tuple) and isinstance(pairs[1], list)
    np.testing.assert_array_equal(pairs[0], [0, 1, 2])
    np.testing.assert_array_equal(pairs[1][1], [0, -1, -2])


def test_xla_cpu_aliases_an_aligned_batch_and_copies_an_unaligned_one():
    """Why the module exists: if a JAX upgrade stops aliasing, this says so."""
    device = jax.devices("cpu")[0]
    x = aligned.empty((16, 8, 8, 3), np.float32)
    x[...] = 1.0
    assert np.asarray(jax.device_put(x, device)).ctypes.data == x.ctypes.data
    raw = aligned.empty((x.nbytes + 16,), np.uint8)
    off = raw[16:].view(np.float32).reshape(x.shape)   # 16 bytes past a boundary
    off[...] = 1.0
    assert np.asarray(jax.device_put(off, device)).ctypes.data != off.ctypes.data
