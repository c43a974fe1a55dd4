"""image_folder: class sub-folders of JPEG/PNG files -> a tfds dataset."""
import numpy as np
import pytest
from PIL import Image

from herolion.errors import ConfigError


def _make_folder(root):
    rng = np.random.default_rng(0)
    pixels = {}
    for cls, n in (("cat", 3), ("dog", 2)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            yy, xx = np.mgrid[0:10 + i, 0:12]  # smooth, so JPEG stays close
            base = rng.integers(0, 128, 3)
            arr = (base + np.stack([yy * 5, xx * 5, yy + xx], -1)).astype(np.uint8)
            if cls == "cat" and i == 0:
                Image.fromarray(arr[..., 0]).save(root / cls / f"{i}.png")  # grayscale PNG
                arr = np.repeat(arr[..., :1], 3, axis=-1)
            elif i % 2:
                Image.fromarray(arr).save(root / cls / f"{i}.png")
            else:
                Image.fromarray(arr).save(root / cls / f"{i}.jpg", quality=95)
            pixels[f"{cls}/{i}"] = arr
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "empty_class").mkdir()
    return pixels


def test_import_and_read_back(tmp_path):
    from herolion.data import prepare, source
    from herolion.data.ops.image import decode_image
    pixels = _make_folder(tmp_path / "src")
    prepare.prepare("image_folder", tmp_path / "tfds", source_dir=tmp_path / "src",
                    dataset_name="pets")
    b = source.builder("pets", tmp_path / "tfds")
    assert b.info.features["label"].names == ["cat", "dog"]
    src = source.open_source("pets", "train", tmp_path / "tfds")
    assert len(src) == 5
    for i in range(len(src)):
        ex = src[i]
        name = ex["file_name"].decode().rsplit(".", 1)[0]
        img = decode_image(ex["image"])
        assert img.shape == pixels[name].shape and img.dtype == np.uint8
        assert int(ex["label"]) == ["cat", "dog"].index(name.split("/")[0])
        tol = 0 if ex["file_name"].decode().endswith(".png") else 12
        assert np.abs(img.astype(int) - pixels[name]).mean() <= tol


def test_folder_without_images(tmp_path):
    from herolion.data import prepare
    (tmp_path / "src" / "cat").mkdir(parents=True)
    (tmp_path / "src" / "cat" / "a.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"src has no JPEG/PNG images"):
        prepare.prepare("image_folder", tmp_path / "tfds", source_dir=tmp_path / "src")
    with pytest.raises(ConfigError, match="is not a folder"):
        prepare.prepare("image_folder", tmp_path / "tfds", source_dir=tmp_path / "nope")
    with pytest.raises(ConfigError, match="snake_case"):
        prepare.prepare("image_folder", tmp_path / "tfds", source_dir=tmp_path / "src",
                        dataset_name="My Pets")
