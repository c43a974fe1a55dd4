"""``decode_jpeg_and_inception_crop``: the fused, crop-aware JPEG op (and the OpenCV flip).

References are independent of the op's libraries: PIL decodes (its own libjpeg build, the
accurate integer DCT, where the op uses simplejpeg with the fast DCT), and the resize
reference is a numpy bilinear with half-pixel centres (``tf.image.resize``'s definition).
"""
import io

import numpy as np
import pytest
from PIL import Image

from herolion.data import preprocess
from herolion.data.ops import image as image_ops
from herolion.data.ops import jpeg



def test_fast_decoder_is_installed():
    """simplejpeg and OpenCV are dependencies: the fast path must be the one tested."""
    assert jpeg.available()


def test_crop_decoder_is_built_where_it_can_be():
    """The C extension is optional for users (no compiler or libjpeg headers: whole-image
    decode). Where both are there (CI installs them), it must have been built."""
    import os
    import shutil
    if shutil.which("gcc") and os.path.exists("/usr/include/jpeglib.h"):
        assert jpeg.crop_decoder() is not None, "herolion/data/ops/_jpeg_crop.c was not built"


def _smooth(h, w, seed=0, fmax=0.04):
    """Smooth RGB content (sinusoids): JPEG-friendly, so decoders agree closely."""
    f = np.random.default_rng(seed).uniform(fmax / 4, fmax, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = 127.5 + 100 * np.stack([np.sin(f[0] * xx), np.cos(f[1] * yy),
                                  np.sin(f[2] * (xx + yy))], -1)
    return img.clip(0, 255).astype(np.uint8)


def _encode(arr, mode=None, fmt="JPEG", **kw):
    pil = Image.fromarray(arr)
    if mode:
        pil = pil.convert(mode)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _pil_decode(data):
    with Image.open(io.BytesIO(data)) as pil:
        return np.asarray(pil.convert("RGB"))


def _bilinear(img, th, tw):
    """Reference bilinear resize, half-pixel centres, no antialiasing (tf.image.resize)."""
    h, w = img.shape[:2]
    ys = np.clip((np.arange(th) + 0.5) * h / th - 0.5, 0, h - 1)
    xs = np.clip((np.arange(tw) + 0.5) * w / tw - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    f = img.astype(np.float64)
    rows = f[y0] * (1 - wy) + f[y1] * wy
    return rows[:, x0] * (1 - wx) + rows[:, x1] * wx


def _op(spec, data, seed):
    return preprocess.build(spec)({"image": data}, np.random.default_rng(seed))["image"]


def _box(h, w, seed, area=(0.05, 1.0)):
    """The box inception_crop draws from the same rng: the shared sampler."""
    return image_ops.inception_box(h, w, np.random.default_rng(seed), area_range=area)


JPEG = _encode(_smooth(375, 500), quality=95)


def test_fast_path_is_taken_for_rgb_and_gray_jpegs(monkeypatch):
    assert jpeg.header_size(JPEG) == (375, 500)
    assert jpeg.header_size(_encode(_smooth(20, 30), mode="L")) == (20, 30)
    monkeypatch.setattr(image_ops, "_pil_decode_and_inception_crop",
                        lambda *a: pytest.fail("took the PIL path"))
    assert _op("decode_jpeg_and_inception_crop(32)", JPEG, 0).shape == (32, 32, 3)


def test_shape_dtype_range_and_sizes():
    for spec, shape in [("decode_jpeg_and_inception_crop(224)", (224, 224, 3)),
                        ("decode_jpeg_and_inception_crop(32)", (32, 32, 3)),
                        ("decode_jpeg_and_inception_crop((48, 64))", (48, 64, 3))]:
        for seed in range(4):
            out = _op(spec, JPEG, seed)
            assert out.shape == shape and out.dtype == np.uint8 and out.flags.c_contiguous
            assert out.min() >= 0 and out.max() <= 255 and out.std() > 5


def test_deterministic_under_the_same_rng():
    a = _op("decode_jpeg_and_inception_crop(64)|flip_lr", JPEG, 3)
    b = _op("decode_jpeg_and_inception_crop(64)|flip_lr", JPEG, 3)
    np.testing.assert_array_equal(a, b)
    others = [_op("decode_jpeg_and_inception_crop(64)", JPEG, s) for s in range(4, 8)]
    assert all(np.abs(o.astype(int) - a).mean() > 1 for o in others)


def test_no_size_is_exactly_the_inception_box_of_the_full_decode():
    """Without a size the op returns the crop itself: the box inception_box draws from the
    header's size with the same rng, cut from the (full) decode."""
    full = _pil_decode(JPEG)
    for seed in range(8):
        top, left, h, w = _box(375, 500, seed)
        out = _op("decode_jpeg_and_inception_crop", JPEG, seed)
        assert out.shape == (h, w, 3)
        diff = np.abs(out.astype(int) - full[top:top + h, left:left + w])
        assert diff.mean() < 0.5 and diff.max() <= 8  # two libjpeg builds, same DCT


def test_matches_full_decode_crop_resize_reference():
    """Crops smaller than 2x the target: full-resolution decode, bilinear resize."""
    full = _pil_decode(JPEG)
    for seed in range(10):
        top, left, h, w = _box(375, 500, seed)
        assert jpeg.dct_scale((h, w), (200, 200)) == 1
        ref = _bilinear(full[top:top + h, left:left + w], 200, 200)
        out = _op("decode_jpeg_and_inception_crop(200)", JPEG, seed)
        diff = np.abs(out - ref)
        assert diff.mean() < 1.5 and diff.max() < 16, (seed, diff.mean(), diff.max())


def test_dct_reduced_decode_matches_reference_within_tolerance():
    """Crops >= 2x the target decode at 1/2..1/8 scale (DCT domain). The reference decodes
    fully, crops the same window and resizes with PIL's antialiased filter: the reduced
    decode is an average over 2x2..8x8 blocks and the box edges snap to the reduced grid
    (< half an output pixel), so on content the 64-pixel output resolves it matches
    within a few levels."""
    big = _encode(_smooth(1200, 1600, seed=1, fmax=0.01), quality=95)
    full = _pil_decode(big)
    scales = set()
    for seed in range(12):
        top, left, h, w = _box(1200, 1600, seed, area=(0.5, 1.0))
        scales.add(jpeg.dct_scale((h, w), (64, 64)))
        crop = Image.fromarray(np.ascontiguousarray(full[top:top + h, left:left + w]))
        ref = np.asarray(crop.resize((64, 64), Image.Resampling.BILINEAR), np.float64)
        out = _op("decode_jpeg_and_inception_crop(64, area_min=50)", big, seed)
        diff = np.abs(out - ref)
        assert diff.mean() < 3.0 and np.percentile(diff, 99) < 16, (seed, diff.mean())
    assert scales & {4, 8}  # the reduced paths were exercised


def test_dct_scale_keeps_the_reduced_crop_at_least_the_target():
    rng = np.random.default_rng(0)
    for _ in range(500):
        h, w, th, tw = (int(v) for v in rng.integers(1, 3000, 4))
        s = jpeg.dct_scale((h, w), (th, tw))
        assert s in (1, 2, 4, 8)
        if s > 1:
            assert h / s >= th and w / s >= tw
        if s < 8:  # the next factor would go below the target
            assert h / (2 * s) < th or w / (2 * s) < tw


def test_box_distribution_is_inception_crops():
    """Over many draws the op's crops have inception_crop's area/aspect statistics."""
    areas, ratios = [], []
    for seed in range(300):
        out = _op("decode_jpeg_and_inception_crop(area_min=8)", JPEG, seed)
        top, left, h, w = _box(375, 500, seed, area=(0.08, 1.0))
        assert out.shape[:2] == (h, w)
        areas.append(h * w / (375 * 500))
        ratios.append(w / h)
    areas, ratios = np.array(areas), np.array(ratios)
    assert areas.min() >= 0.08 * 0.95 and areas.max() <= 1.0
    assert 3 / 4 * 0.95 <= ratios.min() and ratios.max() <= 4 / 3 * 1.05 or (areas == 1).any()


def test_grayscale_png_cmyk_and_arrays_take_the_fallbacks():
    gray = _encode(_smooth(120, 160), mode="L")
    out = _op("decode_jpeg_and_inception_crop(32)", gray, 0)
    assert out.shape == (32, 32, 3) and np.allclose(out[..., 0], out[..., 1], atol=1)
    cmyk = _encode(_smooth(120, 160), mode="CMYK")
    assert jpeg.header_size(cmyk) is None  # PIL path
    assert _op("decode_jpeg_and_inception_crop(32)", cmyk, 0).shape == (32, 32, 3)
    png = _encode(_smooth(120, 160), fmt="PNG")
    assert jpeg.header_size(png) is None
    assert _op("decode_jpeg_and_inception_crop(32)", png, 0).shape == (32, 32, 3)
    arr = _smooth(120, 160)
    np.testing.assert_array_equal(_op("decode_jpeg_and_inception_crop(32)", arr, 5),
                                  _op("inception_crop(32)", arr, 5))


def test_bad_method_is_a_config_error():
    from herolion.errors import ConfigError
    with pytest.raises(ConfigError, match="resize method"):
        preprocess.build("decode_jpeg_and_inception_crop(32, method='cubicle')")


@pytest.mark.parametrize("shape,dtype", [((9, 7, 3), np.uint8), ((9, 7, 1), np.uint8),
                                         ((9, 7, 3), np.float32), ((9, 7, 4), np.float32),
                                         ((9, 7, 5), np.uint8), ((9, 7, 3), np.int32)])
def test_flip_lr_is_numpys_mirror(shape, dtype):
    img = (np.random.default_rng(0).random(shape) * 255).astype(dtype)
    out = jpeg.flip_lr(img)
    assert out.shape == img.shape and out.dtype == img.dtype
    np.testing.assert_array_equal(out, img[:, ::-1])
    np.testing.assert_array_equal(jpeg.flip_lr(img[1:, 2:]), img[1:, 2:][:, ::-1])


def test_without_simplejpeg_and_opencv_pil_does_it(monkeypatch):
    monkeypatch.setattr(jpeg, "_LIBS", ())
    monkeypatch.setattr(jpeg, "_CV2", False)
    assert not jpeg.available() and jpeg.header_size(JPEG) is None
    out = _op("decode_jpeg_and_inception_crop(48)|flip_lr", JPEG, 1)
    assert out.shape == (48, 48, 3) and out.dtype == np.uint8
    fast_box = _op("decode_jpeg_and_inception_crop", JPEG, 1).shape  # PIL: same box
    assert fast_box[:2] == _box(375, 500, 1)[2:]
    img = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    np.testing.assert_array_equal(jpeg.flip_lr(img), img[:, ::-1])


# -- the crop-window decoder (C extension) against simplejpeg's whole-image decode -----

WINDOWS = [(0, 0, 375, 500, 1), (10, 33, 100, 150, 1), (200, 301, 175, 199, 1),
           (1, 2, 3, 4, 1), (0, 0, 1, 1, 1), (374, 499, 1, 1, 1), (17, 16, 15, 16, 1), (5, 7, 40, 50, 2), (60, 100, 30, 20, 4), (0, 0, 47, 63, 8)]


@pytest.mark.parametrize("subsampling", [0, 2])           # 4:4:4 and 4:2:0
@pytest.mark.parametrize("window", WINDOWS)
def test_crop_window_decode_equals_full_decode_then_crop(window, subsampling):
    crop = jpeg.crop_decoder()
    if crop is None:
        pytest.skip("the _jpeg_crop extension is not built (tested in CI)")
    import simplejpeg
    data = _encode(_noisy(375, 500), quality=90, subsampling=subsampling)
    top, left, h, w, scale = window
    sh, sw = jpeg.scaled_size((375, 500), scale)
    full = simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=sh, min_width=sw)
    assert full.shape == (sh, sw, 3)
    got = jpeg.decode_window(data, (375, 500), (top, left, h, w), scale)
    np.testing.assert_array_equal(got, full[top:top + h, left:left + w])


@pytest.mark.parametrize("subsampling", [0, 2])           # 4:4:4 and 4:2:0
def test_crop_window_decode_equals_tensorflows_decode_and_crop_jpeg(subsampling):
    """The pixels tf.data/big_vision users get from ``tf.image.decode_and_crop_jpeg`` (with
    the accurate DCT, which the extension uses), bitwise from TF's own libjpeg-turbo.
    With 4:2:0 chroma TF's first and last columns of an unaligned window are upsampled
    from a replicated edge; ours are the whole-image decode's (see the test above)."""
    if jpeg.crop_decoder() is None:
        pytest.skip("the _jpeg_crop extension is not built (tested in CI)")
    import tensorflow as tf
    data = _encode(_noisy(375, 500), quality=90, subsampling=subsampling)
    for top, left, h, w, _ in WINDOWS[:7]:
        ref = tf.image.decode_and_crop_jpeg(data, [top, left, h, w], channels=3,
                                            dct_method="INTEGER_ACCURATE").numpy()
        got = jpeg.decode_window(data, (375, 500), (top, left, h, w), 1)
        assert got.shape == ref.shape
        if subsampling == 0:
            np.testing.assert_array_equal(got, ref)
        else:
            np.testing.assert_array_equal(got[:, 1:-1], ref[:, 1:-1])
            assert np.abs(got.astype(int) - ref).max() <= 16


def test_results_never_share_the_reused_decode_buffer():
    """The crop window is decoded into a per-thread scratch buffer; what the op returns
    (resized, or the window itself when it already has the target size) is its own."""
    jpeg._SCRATCH.__dict__.clear()
    first = jpeg.decode_crop_resize(JPEG, (375, 500), (10, 20, 64, 64), (64, 64))
    kept = first.copy()
    resized = jpeg.decode_crop_resize(JPEG, (375, 500), (100, 50, 200, 180), (32, 32))
    again = jpeg.decode_crop_resize(JPEG, (375, 500), (0, 0, 300, 300), (64, 64))
    np.testing.assert_array_equal(first, kept)
    buf = getattr(jpeg._SCRATCH, "buf", None)
    if jpeg.crop_decoder() is not None:
        assert buf is not None
    for out in (first, resized, again):
        assert buf is None or not np.shares_memory(out, buf)


def test_scratch_is_per_thread():
    import threading
    mine = jpeg.scratch((4, 4, 3))
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(jpeg.scratch((4, 4, 3))))
    thread.start()
    thread.join()
    assert not np.shares_memory(mine, theirs[0])
    assert np.shares_memory(mine, jpeg.scratch((2, 2, 3)))   # reused on this thread


def test_opencv_runs_on_the_calling_thread():
    """The pipeline parallelises over elements; OpenCV's own pool on top of it costs
    ~10 % of grain's images/s on 2 cores (bench/data.py)."""
    cv2 = jpeg.cv2_or_none()
    assert cv2 is not None and cv2.getNumThreads() == 1


def test_crop_decode_of_a_grayscale_jpeg_is_rgb():
    if jpeg.crop_decoder() is None:
        pytest.skip("the _jpeg_crop extension is not built (tested in CI)")
    data = _encode(_noisy(60, 80), mode="L")
    got = jpeg.decode_window(data, (60, 80), (10, 20, 30, 40), 1)
    want = _pil_decode(data)[10:40, 20:60]
    assert got.shape == (30, 40, 3)
    np.testing.assert_array_equal(got[..., 0], got[..., 2])
    assert np.abs(got.astype(int) - want).max() <= 1


def test_op_gives_the_same_pixels_with_and_without_the_extension(monkeypatch):
    with_ext = [_op("decode_jpeg_and_inception_crop(64)", JPEG, seed) for seed in range(6)]
    monkeypatch.setattr(jpeg, "_CROP", False)                # whole-image decode
    assert jpeg.crop_decoder() is None
    without = [_op("decode_jpeg_and_inception_crop(64)", JPEG, seed) for seed in range(6)]
    for a, b in zip(with_ext, without):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("args,message", [
    ((b"not a jpeg", 0, 0, 4, 4, 1), "JPEG decode failed"),
    ((JPEG, 370, 0, 10, 10, 1), "crop window outside the image"),
    ((JPEG, 0, 495, 10, 10, 1), "crop window outside the image"),
    ((JPEG, 0, 0, 10, 10, 3), "scale_denom must be 1, 2, 4 or 8"),
])
def test_crop_decoder_errors_are_value_errors(args, message):
    crop = jpeg.crop_decoder()
    if crop is None:
        pytest.skip("the _jpeg_crop extension is not built (tested in CI)")
    out = np.empty((10, 10 + crop.PAD_COLUMNS, 3), np.uint8)
    with pytest.raises(ValueError, match=message):
        crop.decode_crop(*args, out)
    with pytest.raises(ValueError, match="out must hold"):
        crop.decode_crop(JPEG, 0, 0, 10, 10, 1, np.empty((10, 10, 3), np.uint8))


def _noisy(h, w, seed=3):
    """Smooth content plus noise: every DCT coefficient in play, so a wrong block shows."""
    noise = np.random.default_rng(seed).normal(0, 20, (h, w, 3))
    return (_smooth(h, w, seed) + noise).clip(0, 255).astype(np.uint8)
