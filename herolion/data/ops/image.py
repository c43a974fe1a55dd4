"""Image ops on ``uint8 [H, W, C]`` numpy arrays (PIL for decoding and resizing).

Why numpy/PIL and not tf.image: grain workers run plain Python, and these are easy
to check against numpy references. Geometry ops keep uint8; ``value_range`` makes
float32. Every op takes ``key="image"`` to act on another key.
"""
import io
import math

import numpy as np

from herolion.data.ops.registry import register

_METHODS = {"nearest": 0, "bilinear": 2, "bicubic": 3, "area": 4, "box": 4, "lanczos": 1}


def _pair(size):
    if isinstance(size, (list, tuple)):
        h, w = size
        return int(h), int(w)
    return int(size), int(size)


def decode_image(data, channels=3):
    """Encoded JPEG/PNG bytes (or an array) -> uint8 ``[H, W, channels]``."""
    from PIL import Image
    if isinstance(data, np.ndarray):
        img = data if data.ndim == 3 else data[..., None]
        if img.shape[-1] == channels:
            return img
        if channels == 3 and img.shape[-1] == 1:
            return np.repeat(img, 3, axis=-1)
        if channels == 3 and img.shape[-1] == 4:
            return img[..., :3]
        raise ValueError(f"decode: cannot make {channels} channels from {img.shape}")
    with Image.open(io.BytesIO(bytes(data))) as pil:
        mode = "RGB" if channels == 3 else "L"
        arr = np.asarray(pil if pil.mode == mode else pil.convert(mode))
    return arr if arr.ndim == 3 else arr[..., None]


def resize_image(img, height, width, method="bilinear"):
    """Resize ``[H, W, C]`` to ``[height, width, C]``; uint8 stays uint8."""
    from PIL import Image
    if method not in _METHODS:
        raise ValueError(f"unknown resize method {method!r}; known: {sorted(_METHODS)}")
    if img.shape[:2] == (height, width):
        return img
    resample = _METHODS[method]
    if img.dtype == np.uint8 and img.shape[-1] in (1, 3):
        pil = Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)
        out = np.asarray(pil.resize((width, height), resample))
        return out if out.ndim == 3 else out[..., None]
    chans = [np.asarray(Image.fromarray(np.asarray(img[..., c], np.float32), mode="F")
                        .resize((width, height), resample)) for c in range(img.shape[-1])]
    return np.stack(chans, axis=-1).astype(img.dtype)


def crop(img, top, left, height, width):
    return img[top:top + height, left:left + width]


def inception_box(height, width, rng, *, area_range=(0.05, 1.0), ratio_range=(3 / 4, 4 / 3),
                  attempts=10):
    """Inception-style random box ``(top, left, h, w)``: area fraction and aspect ratio
    drawn uniformly (ratio log-uniformly), position uniformly; after ``attempts`` misses,
    the whole image. All draws come from one ``rng.random`` call (a scalar numpy draw
    costs ~4 us, and this runs once per training image)."""
    area = height * width
    a_lo, a_hi = area_range
    log_lo, log_hi = math.log(ratio_range[0]), math.log(ratio_range[1])
    for u_area, u_ratio, u_top, u_left in rng.random((attempts, 4)).tolist():
        target = area * (a_lo + u_area * (a_hi - a_lo))
        ratio = math.exp(log_lo + u_ratio * (log_hi - log_lo))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            return int(u_top * (height - h + 1)), int(u_left * (width - w + 1)), h, w
    return 0, 0, height, width


def _image_op(fn):
    """Wraps ``fn(img, rng) -> img`` as an op on ``example[key]``."""
    def make(key):
        def op(example, rng):
            return {**example, key: fn(example[key], rng)}
        return op
    return make


@register("decode")
def decode(channels=3, key="image"):
    return _image_op(lambda img, rng: decode_image(img, channels))(key)


@register("resize")
def resize(size, key="image", method="bilinear"):
    h, w = _pair(size)
    return _image_op(lambda img, rng: resize_image(img, h, w, method))(key)


@register("resize_small")
def resize_small(smaller_size, key="image", method="bilinear"):
    """Resizes so the shorter side is ``smaller_size``, keeping the aspect ratio."""
    def fn(img, rng):
        h, w = img.shape[:2]
        scale = smaller_size / min(h, w)
        return resize_image(img, max(1, round(h * scale)), max(1, round(w * scale)), method)
    return _image_op(fn)(key)


@register("central_crop")
def central_crop(size, key="image"):
    ch, cw = _pair(size)

    def fn(img, rng):
        h, w = img.shape[:2]
        if ch > h or cw > w:
            raise ValueError(f"central_crop({ch}, {cw}) larger than image {h}x{w}")
        return crop(img, (h - ch) // 2, (w - cw) // 2, ch, cw)
    return _image_op(fn)(key)


@register("random_crop")
def random_crop(size, key="image"):
    ch, cw = _pair(size)

    def fn(img, rng):
        h, w = img.shape[:2]
        if ch > h or cw > w:
            raise ValueError(f"random_crop({ch}, {cw}) larger than image {h}x{w}")
        return crop(img, int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)),
                    ch, cw)
    return _image_op(fn)(key)


@register("inception_crop")
def inception_crop(size=None, area_min=5, area_max=100, key="image", method="bilinear"):
    """Random box covering ``area_min..area_max`` percent, then resize to ``size``."""
    area_range = (area_min / 100, area_max / 100)

    def fn(img, rng):
        top, left, h, w = inception_box(img.shape[0], img.shape[1], rng, area_range=area_range)
        out = crop(img, top, left, h, w)
        if size is not None:
            out = resize_image(out, *_pair(size), method)
        return out
    return _image_op(fn)(key)


@register("decode_jpeg_and_inception_crop")
def decode_jpeg_and_inception_crop(size=None, area_min=5, area_max=100, key="image",
                                   method="bilinear"):
    """``decode|inception_crop(size)`` fused (big_vision's name), for JPEG bytes.

    The box is drawn by :func:`inception_box` from the header's size (the same draws as
    ``inception_crop`` with the same rng); then only what the crop needs is decoded:
    libjpeg-turbo with DCT scaling by 1/2..1/8 while the reduced crop stays >= ``size``,
    and an OpenCV bilinear resize of the crop (see :mod:`herolion.data.ops.jpeg`).
    PNGs, arrays, CMYK JPEGs (or no simplejpeg/OpenCV) take PIL's path instead."""
    from herolion.data.ops import jpeg
    if method not in _METHODS:
        raise ValueError(f"unknown resize method {method!r}; known: {sorted(_METHODS)}")
    area_range = (area_min / 100, area_max / 100)

    def fn(data, rng):
        if isinstance(data, np.ndarray):
            return inception_crop(size, area_min, area_max, key, method)({key: data}, rng)[key]
        data = bytes(data)
        hw = jpeg.header_size(data)
        if hw is not None:
            top, left, h, w = inception_box(*hw, rng, area_range=area_range)
            target = _pair(size) if size is not None else (h, w)
            return jpeg.decode_crop_resize(data, hw, (top, left, h, w), target, method)
        return _pil_decode_and_inception_crop(data, rng, size, area_range, method)
    return _image_op(fn)(key)


def _pil_decode_and_inception_crop(data, rng, size, area_range, method):
    """PIL's version of the fused op: box from the header, ``draft`` (DCT scaling) when
    the box is >= 2x the target, crop + resize in one antialiased PIL call."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as pil:
        width, height = pil.size
        top, left, h, w = inception_box(height, width, rng, area_range=area_range)
        th, tw = _pair(size) if size is not None else (h, w)
        scale = max(1, min(h // th, w // tw, 8))
        if pil.format == "JPEG" and scale >= 2:
            pil.draft("RGB", (width // scale, height // scale))
        sx, sy = pil.size[0] / width, pil.size[1] / height
        pil = pil.convert("RGB")
        box = (left * sx, top * sy, (left + w) * sx, (top + h) * sy)
        return np.asarray(pil.resize((tw, th), _METHODS[method], box=box))


@register("flip_lr")
def flip_lr(key="image"):
    """Mirrors left-right with probability 1/2 (OpenCV's flip when installed: numpy's
    reversed view costs ~0.5 ms per 224² image when the batch is stacked)."""
    from herolion.data.ops import jpeg
    return _image_op(lambda img, rng: jpeg.flip_lr(img) if rng.random() < 0.5 else img)(key)


def value_range_array(img, vmin, vmax, in_min=0.0, in_max=255.0, clip_values=False):
    """Affine map of ``[in_min, in_max]`` onto ``[vmin, vmax]``, float32."""
    x = np.asarray(img, np.float32)
    if clip_values:
        x = np.clip(x, in_min, in_max)
    return (vmin + (x - in_min) * ((vmax - vmin) / (in_max - in_min))).astype(np.float32)


@register("value_range")
def value_range(vmin=-1.0, vmax=1.0, in_min=0.0, in_max=255.0, clip_values=False, key="image"):
    return _image_op(lambda img, rng: value_range_array(img, vmin, vmax, in_min, in_max,
                                                        clip_values))(key)
