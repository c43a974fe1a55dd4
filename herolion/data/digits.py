"""scikit-learn's handwritten digits as image arrays, upscaled, with a fixed split.

Why its own module: the tfds builder, the captioned variant and the tests all need
the *same* arrays and split. Everything here is numpy/PIL/scikit-learn only, so
tests can recompute the expected images without TensorFlow.
"""
import numpy as np

DEFAULT_IMAGE_SIZE = 32
TEST_FRACTION = 0.2
SPLIT_SEED = 0
NUM_CLASSES = 10
CLASS_NAMES = tuple(str(i) for i in range(NUM_CLASSES))


def load_arrays():
    """Returns ``(images [1797, 8, 8] float in 0..16, labels [1797] int64)``."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    return np.asarray(digits.images), np.asarray(digits.target, dtype=np.int64)


def upscale(images, size=DEFAULT_IMAGE_SIZE):
    """8x8 gray levels 0..16 -> uint8 RGB [N, size, size, 3] (value*255/16, bilinear)."""
    from PIL import Image
    gray = np.round(np.asarray(images, np.float64) * 255.0 / 16.0).clip(0, 255).astype(np.uint8)
    out = np.empty((len(gray), size, size, 3), np.uint8)
    for i, img in enumerate(gray):
        big = np.asarray(Image.fromarray(img, mode="L").resize((size, size), Image.BILINEAR))
        out[i] = big[..., None]
    return out


def split_indices(labels, test_fraction=TEST_FRACTION, seed=SPLIT_SEED):
    """A stratified, seeded train/test split: ``{'train': idx, 'test': idx}`` (sorted)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(len(idx) * test_fraction))
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return {"train": np.sort(np.array(train)), "test": np.sort(np.array(test))}
