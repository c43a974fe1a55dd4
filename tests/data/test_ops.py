"""Each preprocessing op: shapes, ranges, and numpy references where one exists."""
import io

import numpy as np
import pytest
from PIL import Image

from herolion.data import preprocess
from herolion.data.ops import image as image_ops
from herolion.data.ops import randaugment

RNG = np.random.default_rng(0)
IMG = RNG.integers(0, 256, (30, 40, 3), dtype=np.uint8)


def run(spec, example=None, seed=0):
    return preprocess.build(spec)(example or {"image": IMG, "label": 3},
                                  np.random.default_rng(seed))


def _png(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_decode():
    out = run("decode", {"image": _png(IMG)})["image"]
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, IMG)
    gray = run("decode", {"image": _png(IMG[..., 0])})["image"]
    assert gray.shape == (30, 40, 3) and (gray[..., 1] == IMG[..., 0]).all()
    assert run("decode(1)", {"image": _png(IMG[..., 0])})["image"].shape == (30, 40, 1)
    np.testing.assert_array_equal(run("decode")["image"], IMG)  # arrays pass through


def test_resize_and_resize_small():
    assert run("resize(16)")["image"].shape == (16, 16, 3)
    assert run("resize((12, 20))")["image"].dtype == np.uint8
    assert run("resize((12, 20))")["image"].shape == (12, 20, 3)
    assert run("resize_small(15)")["image"].shape == (15, 20, 3)
    flat = np.full((30, 40, 3), 77, np.uint8)
    assert (run("resize(7, method='bicubic')", {"image": flat})["image"] == 77).all()


def test_central_crop_is_numpy_slicing():
    np.testing.assert_array_equal(run("central_crop(20)")["image"], IMG[5:25, 10:30])
    np.testing.assert_array_equal(run("central_crop((10, 7))")["image"], IMG[10:20, 16:23])
    with pytest.raises(ValueError):
        run("central_crop(50)")


def _find(window, img):
    h, w = window.shape[:2]
    return [(t, l) for t in range(img.shape[0] - h + 1) for l in range(img.shape[1] - w + 1)
            if np.array_equal(img[t:t + h, l:l + w], window)]


def test_random_crop_is_a_window_and_varies():
    outs = [run("random_crop(8)", seed=s)["image"] for s in range(6)]
    positions = {tuple(_find(o, IMG)[0]) for o in outs}
    assert all(o.shape == (8, 8, 3) for o in outs) and len(positions) > 1


def test_inception_crop_box_and_shape():
    rng = np.random.default_rng(1)
    for _ in range(200):
        top, left, h, w = image_ops.inception_box(300, 400, rng, area_range=(0.08, 1.0))
        assert 0 <= top and top + h <= 300 and 0 <= left and left + w <= 400
        if (h, w) != (300, 400):
            assert 0.08 * 0.9 <= h * w / 120000 <= 1.0
            assert 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1
    out = run("inception_crop(24)")["image"]
    assert out.shape == (24, 24, 3) and out.dtype == np.uint8
    raw = run("inception_crop")["image"]  # no size: the crop itself, a window of the image
    assert _find(raw, IMG)


def test_inception_box_draws_area_ratio_and_position_uniformly():
    """Against the sampler's spec (Szegedy et al.): with boxes that always fit, the area
    fraction is uniform on area_range, log(w/h) uniform on log(ratio_range), and the
    top-left corner uniform over the valid positions (KS tests, 4000 draws)."""
    from scipy import stats
    rng = np.random.default_rng(7)
    boxes = np.array([image_ops.inception_box(300, 400, rng, area_range=(0.08, 0.5))
                      for _ in range(4000)], np.float64)
    top, left, h, w = boxes.T
    assert (top >= 0).all() and (top + h <= 300).all() and (left + w <= 400).all()
    area = h * w / 120000           # rounding h, w to pixels moves it by < 1 %
    assert stats.kstest(area, stats.uniform(0.08, 0.42).cdf).pvalue > 1e-3
    lo, hi = np.log(3 / 4), np.log(4 / 3)
    assert stats.kstest(np.log(w / h), stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    # An integer uniform on 0..n-1 plus an independent U(0, 1), over n: U(0, 1).
    jitter = np.random.default_rng(8).random((2, len(boxes)))
    assert stats.kstest((top + jitter[0]) / (300 - h + 1), "uniform").pvalue > 1e-3
    assert stats.kstest((left + jitter[1]) / (400 - w + 1), "uniform").pvalue > 1e-3


def test_inception_box_falls_back_to_the_whole_image():
    """Boxes that can never fit (area > the image at an extreme ratio) -> the image."""
    rng = np.random.default_rng(0)
    assert image_ops.inception_box(10, 1000, rng, area_range=(0.9, 1.0)) == (0, 0, 10, 1000)


def test_flip_lr_both_ways():
    outs = [run("flip_lr", seed=s)["image"] for s in range(10)]
    flipped = [np.array_equal(o, IMG[:, ::-1]) for o in outs]
    same = [np.array_equal(o, IMG) for o in outs]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)


def test_value_range_formula():
    out = run("value_range(-1, 1)")["image"]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, IMG.astype(np.float64) / 255 * 2 - 1, atol=1e-6)
    assert -1 <= out.min() and out.max() <= 1
    out = run("value_range(0, 1, in_min=100, in_max=200, clip_values=True)")["image"]
    np.testing.assert_allclose(out, (np.clip(IMG, 100, 200) - 100) / 100, atol=1e-6)


def test_onehot_and_label_smoothing():
    out = run("onehot(10)")
    np.testing.assert_array_equal(out["labels"], np.eye(10, dtype=np.float32)[3])
    assert out["label"] == 3  # the source key stays
    s = run("onehot(10, label_smoothing=0.1)")["labels"]
    np.testing.assert_allclose(s, np.eye(10)[3] * 0.9 + 0.01, atol=1e-7)
    assert abs(s.sum() - 1) < 1e-6
    multi = run("onehot(5, key='l', key_result='y', on=0.9, off=0.1)", {"l": [0, 2]})["y"]
    np.testing.assert_allclose(multi, [0.9, 0.1, 0.9, 0.1, 0.1])
    with pytest.raises(ValueError):
        run("onehot(3)")


def test_keys_ops():
    ex = {"image": IMG, "label": 3, "id": 5}
    assert set(run('keep("image", "id")', ex)) == {"image", "id"}
    assert set(run('drop("image")', ex)) == {"label", "id"}
    assert run('copy("id", "idx")', ex)["idx"] == 5
    assert set(ex) == {"image", "label", "id"}  # ops never modify their input


@pytest.mark.parametrize("name", sorted(randaugment.OPS))
def test_randaugment_ops_keep_shape_and_dtype(name):
    for magnitude in (0, 5, 10):
        out = randaugment.apply_op(IMG, name, magnitude, np.random.default_rng(0))
        assert out.shape == IMG.shape and out.dtype == np.uint8
    if name in ("Identity", "Rotate", "Color", "Contrast", "Brightness", "Sharpness",
                "ShearX", "ShearY", "TranslateX", "TranslateY"):
        np.testing.assert_array_equal(
            randaugment.apply_op(IMG, name, 0, np.random.default_rng(0)), IMG)


def test_randaugment_op_is_seeded():
    a = run("randaugment(2, 10)", seed=3)["image"]
    b = run("randaugment(2, 10)", seed=3)["image"]
    np.testing.assert_array_equal(a, b)
    outs = [run("randaugment(3, 10)", seed=s)["image"] for s in range(8)]
    assert sum(not np.array_equal(o, IMG) for o in outs) >= 4
    assert all(o.shape == IMG.shape and o.dtype == np.uint8 for o in outs)


def test_full_train_spec():
    out = run('decode|inception_crop(16)|flip_lr|randaugment(2, 9)|value_range(-1, 1)'
              '|onehot(10)|keep("image", "labels")', {"image": _png(IMG), "label": 7})
    assert out["image"].shape == (16, 16, 3) and out["image"].dtype == np.float32
    assert -1 <= out["image"].min() and out["image"].max() <= 1
    assert out["labels"].argmax() == 7 and set(out) == {"image", "labels"}


def _jpeg(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def test_decode_jpeg_and_inception_crop_matches_unfused():
    yy, xx = np.mgrid[0:120, 0:160]
    smooth = np.stack([yy * 2, xx, (yy + xx) // 2], -1).astype(np.uint8)
    for seed in range(5):  # same rng draws -> same box; only the resampling edges differ
        for data in (_png(smooth), _jpeg(smooth)):
            fused = run("decode_jpeg_and_inception_crop(32)", {"image": data}, seed=seed)["image"]
            plain = run("decode|inception_crop(32)", {"image": data}, seed=seed)["image"]
            assert fused.shape == (32, 32, 3) and fused.dtype == np.uint8
            assert np.abs(fused.astype(int) - plain.astype(int)).mean() < 3
