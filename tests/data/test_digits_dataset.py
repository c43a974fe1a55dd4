"""The prepared digits datasets read back through tfds and equal scikit-learn's digits."""
import os
import time

import numpy as np
import pytest

from herolion.data import captions, digits
from herolion.errors import ConfigError


def _read_all(name, split, data_dir):
    import tensorflow_datasets as tfds
    src = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
    return [src[i] for i in range(len(src))]


def test_counts_split_and_features(data_dir):
    import tensorflow_datasets as tfds
    builder = tfds.builder_from_directory(os.path.join(data_dir, "digits", "1.0.0"))
    assert builder.info.file_format.value == "array_record"
    assert builder.info.splits["train"].num_examples == 1438
    assert builder.info.splits["test"].num_examples == 359
    assert builder.info.features["label"].names == [str(i) for i in range(10)]
    assert builder.info.features["image"].shape == (32, 32, 3)
    files = os.listdir(os.path.join(data_dir, "digits", "1.0.0"))
    assert any(f.startswith("digits-train.array_record") for f in files)


def test_images_are_sklearn_digits(data_dir, digits_arrays):
    images, labels = digits_arrays
    seen = []
    for split in ("train", "test"):
        for ex in _read_all("digits", split, data_dir):
            i = int(ex["id"])
            assert ex["image"].dtype == np.uint8 and ex["image"].shape == (32, 32, 3)
            np.testing.assert_array_equal(ex["image"], images[i])
            assert int(ex["label"]) == labels[i] and 0 <= int(ex["label"]) <= 9
            seen.append(i)
    assert sorted(seen) == list(range(1797))


def test_split_is_stratified_and_fixed():
    _, labels = digits.load_arrays()
    a, b = digits.split_indices(labels), digits.split_indices(labels)
    np.testing.assert_array_equal(a["train"], b["train"])
    assert not set(a["train"]) & set(a["test"])
    for c in range(10):
        frac = np.mean(labels[a["test"]] == c) / np.mean(labels == c)
        assert 0.9 < frac < 1.1


def test_upscale_reference():
    images, _ = digits.load_arrays()
    small = digits.upscale(images[:3], 8)  # same size: only the gray-level mapping
    np.testing.assert_array_equal(small[..., 0], np.round(images[:3] * 255 / 16).astype(np.uint8))
    assert (small[..., 0] == small[..., 2]).all()


def test_captions_use_only_train_templates(data_dir):
    examples = _read_all("digits_captions", "train", data_dir)
    assert len(examples) == 1438
    train_texts = {captions.caption(c, t) for c in range(10) for t in captions.TRAIN_TEMPLATES}
    heldout = {captions.caption(c, t) for c in range(10) for t in captions.HELDOUT_TEMPLATES}
    texts = [ex["caption"].decode() for ex in examples]
    assert set(texts) <= train_texts and not set(texts) & heldout
    assert len(set(texts)) > 30  # several templates per class are used
    for ex, text in zip(examples, texts):
        assert text == captions.pick_caption(int(ex["label"]), int(ex["id"]))
    assert not set(captions.TRAIN_TEMPLATES) & set(captions.HELDOUT_TEMPLATES)


def test_prepare_twice_is_a_noop(data_dir):
    from herolion.data import prepare
    version_dir = os.path.join(data_dir, "digits", "1.0.0")
    before = {f: os.stat(os.path.join(version_dir, f)).st_mtime_ns for f in os.listdir(version_dir)}
    start = time.time()
    assert prepare.prepare("digits", data_dir) == version_dir
    assert prepare.prepare("digits", data_dir, image_size=32) == version_dir
    assert time.time() - start < 5
    after = {f: os.stat(os.path.join(version_dir, f)).st_mtime_ns for f in os.listdir(version_dir)}
    assert before == after
    with pytest.raises(ConfigError, match="image_size: .*32x32"):
        prepare.prepare("digits", data_dir, image_size=16)


def test_prepare_bad_input(tmp_path):
    from herolion.data import prepare
    with pytest.raises(ConfigError, match="unknown dataset 'digit'.*did you mean 'digits'"):
        prepare.prepare("digit", tmp_path)
    with pytest.raises(ConfigError, match="^data_dir: required"):
        prepare.prepare("digits", None)
    with pytest.raises(ConfigError, match="^colour: not an option"):
        prepare.prepare("digits", tmp_path, colour=1)
    with pytest.raises(ConfigError, match="^image_size"):
        prepare.prepare("digits", tmp_path, image_size=2)


def test_other_image_size(tmp_path):
    from herolion.data import prepare, source
    prepare.prepare("digits", tmp_path, image_size=16)
    ex = source.open_source("digits", "test[:1]", tmp_path)[0]
    from herolion.data.ops.image import decode_image
    images, _ = digits.load_arrays()
    np.testing.assert_array_equal(decode_image(ex["image"]), digits.upscale(images[[ex["id"]]], 16)[0])
