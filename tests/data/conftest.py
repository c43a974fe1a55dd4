"""Prepares ``digits`` and ``digits_captions`` once per test session into a temp dir."""
import pytest


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    from herolion.data import prepare
    path = tmp_path_factory.mktemp("tfds")
    prepare.prepare("digits", path)
    prepare.prepare("digits_captions", path)
    return str(path)


@pytest.fixture(scope="session")
def digits_arrays():
    """``(images32 [1797, 32, 32, 3] uint8, labels [1797])`` recomputed from scikit-learn."""
    from herolion.data import digits
    images, labels = digits.load_arrays()
    return digits.upscale(images, 32), labels
