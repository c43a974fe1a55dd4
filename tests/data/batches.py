"""Helpers for comparing the batches two pipelines produce."""
import numpy as np


def take(it, n):
    return [next(it) for _ in range(n)]


def assert_same(a, b):
    """Same number of batches, same keys, bitwise-equal arrays."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])
