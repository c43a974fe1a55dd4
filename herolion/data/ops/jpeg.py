"""Crop-aware JPEG decoding for the fused ``decode_jpeg_and_inception_crop`` op.

Why this module: decoding the whole JPEG with PIL and resizing the crop with PIL's
(scalar, antialiased) resampler cost ~2.2x the CPU of TensorFlow's
``decode_and_crop_jpeg`` + ``resize`` per image (``bench/data.py``), so a grain pipeline
could not keep up with tf.data. Here:

* the crop box is drawn from the JPEG header (``simplejpeg.decode_jpeg_header``, no
  decoding);
* only the crop window is decoded when the C extension ``_jpeg_crop`` is built (the
  system's libjpeg-turbo: rows above the window are skipped, columns limited to its
  iMCUs, decoding stops after its last row — as TensorFlow's ``decode_and_crop_jpeg``;
  ~25 % less CPU than a full decode at inception-crop sizes); otherwise the whole JPEG
  is decoded by libjpeg-turbo through ``simplejpeg``. Either way with DCT-domain scaling
  by 1/2, 1/4 or 1/8 when the crop *after* that reduction is still at least the target
  size on both sides (so no detail the resize would keep is lost); the pixels are the
  same both ways;
* the crop is a view of the decoded array and is resized by OpenCV (SIMD), bilinear
  with half-pixel centres like ``tf.image.resize`` — after the DCT reduction the
  remaining downscale is < 2x, where bilinear needs no antialiasing; a larger
  remaining factor (crop > 16x the target) uses area averaging.

Both libraries are imported lazily; :func:`available` tells whether they are there
(the op falls back to PIL otherwise). They release the GIL, so grain read threads
run them in parallel.
"""

import math
import threading

import numpy as np

_CV_METHODS = {"nearest": "INTER_NEAREST", "bilinear": "INTER_LINEAR",
               "bicubic": "INTER_CUBIC", "area": "INTER_AREA", "box": "INTER_AREA",
               "lanczos": "INTER_LANCZOS4"}
_LIBS = None
_CV2 = None
_CROP = None
_EDGE = 16  # columns, > a chroma-subsampled iMCU's reach
_SCRATCH = threading.local()
_SCRATCH_MAX = 64 << 20  # bytes; a larger window gets a buffer of its own


def _libs():
    global _LIBS
    if _LIBS is None:
        cv2 = cv2_or_none()
        try:
            import simplejpeg
        except ImportError:
            simplejpeg = None
        _LIBS = (simplejpeg, cv2) if simplejpeg is not None and cv2 is not None else ()
    return _LIBS


def cv2_or_none():
    """The ``cv2`` module, or None when OpenCV is not installed.

    OpenCV is set to run each call on the calling thread (``setNumThreads(1)``): the
    pipeline already runs one element per read thread or worker, and OpenCV's own pool
    splitting every 224² resize over all cores only adds hand-offs (grain with 2 read
    threads on 2 cores: ~10 % more images/s, ``bench/data.py``)."""
    global _CV2
    if _CV2 is None:
        try:
            import cv2
            cv2.setNumThreads(1)
            _CV2 = cv2
        except ImportError:
            _CV2 = False
    return _CV2 or None


def flip_lr(img):
    """``img[:, ::-1]`` as a contiguous array. numpy copies a reversed 3-channel uint8 axis
    byte by byte (~0.5 ms for 224x224x3, e.g. in the batch's ``np.stack``); OpenCV's
    flip is ~10x faster."""
    cv2 = cv2_or_none()
    if (cv2 is not None and img.ndim == 3 and 1 <= img.shape[-1] <= 4
            and img.dtype in (np.uint8, np.float32)):
        out = cv2.flip(np.ascontiguousarray(img), 1)
        return out if out.ndim == 3 else out[..., None]
    return img[:, ::-1]


def crop_decoder():
    """The ``_jpeg_crop`` extension module, or None when it was not built."""
    global _CROP
    if _CROP is None:
        try:
            from herolion.data.ops import _jpeg_crop
            _CROP = _jpeg_crop
        except ImportError:
            _CROP = False
    return _CROP or None


def scaled_size(image_hw, scale):
    """libjpeg's output size at 1/``scale``: each side rounded up."""
    return tuple(-(-int(side) // scale) for side in image_hw)


def scratch(shape):
    """A uint8 array of ``shape`` in this thread's reusable buffer: valid until the
    thread's next call. Why: a fresh ~0.4 MB crop buffer per image costs ~100 page
    faults (glibc maps blocks that large anew), ~5 % of the op's CPU in a grain pipeline."""
    n = math.prod(shape)   # np.prod of a tuple costs ~9 us, this ~0.1
    if n > _SCRATCH_MAX:
        return np.empty(shape, np.uint8)
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < n:
        buf = _SCRATCH.buf = np.empty(max(n, 1 << 20), np.uint8)
    return buf[:n].reshape(shape)


def decode_window(data, image_hw, window, scale, *, reuse=False):
    """RGB uint8 pixels ``[top:top+h, left:left+w]`` of the JPEG decoded at 1/``scale``
    (``window`` in scaled pixels): only the window when the extension is built.
    ``reuse``: the result may live in this thread's :func:`scratch` buffer (for a caller
    that consumes it before decoding again)."""
    top, left, h, w = window
    crop = crop_decoder()
    if crop is not None:
        # libjpeg's "fancy" chroma upsampling replicates the edge of a cropped region
        # instead of reading its neighbour: decode EDGE more columns on each side so the
        # window's own pixels are interior (and equal to a whole-image decode).
        width = scaled_size(image_hw, scale)[1]
        x0, x1 = max(0, left - _EDGE), min(width, left + w + _EDGE)
        shape = (h, x1 - x0 + crop.PAD_COLUMNS, 3)
        out = scratch(shape) if reuse else np.empty(shape, np.uint8)
        offset = crop.decode_crop(data, top, x0, h, x1 - x0, scale, out) + left - x0
        return out[:, offset:offset + w]
    simplejpeg = _libs()[0]
    if scale > 1:
        sh, sw = scaled_size(image_hw, scale)
        img = simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=sh, min_width=sw)
    else:
        img = simplejpeg.decode_jpeg(data, colorspace="RGB")
    return img[top:top + h, left:left + w]


def available():
    """True when simplejpeg and OpenCV can be imported."""
    return bool(_libs())


def header_size(data):
    """``(height, width)`` from a JPEG's header, or None when ``data`` is not a JPEG this
    decoder reads (then use PIL)."""
    libs = _libs()
    if not libs or not libs[0].is_jpeg(data):
        return None
    try:
        height, width, colorspace, _ = libs[0].decode_jpeg_header(data)
    except ValueError:
        return None
    if colorspace not in ("Gray", "YCbCr", "RGB"):  # CMYK/YCCK: libjpeg-turbo cannot make RGB
        return None
    return int(height), int(width)


def dct_scale(box_hw, target_hw):
    """The largest of 1, 2, 4, 8 by which the box can shrink and stay >= the target."""
    h, w = box_hw
    th, tw = target_hw
    scale = 1
    while scale < 8 and h >= 2 * scale * th and w >= 2 * scale * tw:
        scale *= 2
    return scale


def decode_crop_resize(data, image_hw, box, target_hw, method="bilinear"):
    """Decodes JPEG ``data`` (of size ``image_hw``) reduced by :func:`dct_scale`, crops
    ``box = (top, left, h, w)`` (original pixels) and resizes it to ``target_hw``.
    Returns uint8 ``[th, tw, 3]``."""
    _, cv2 = _libs()
    height, width = image_hw
    top, left, h, w = box
    th, tw = target_hw
    scale = dct_scale((h, w), (th, tw))
    # The accurate integer DCT (tf.image's default is the fast one, ~1 level mean error;
    # with libjpeg-turbo's SIMD both cost the same within 5 % here).
    sh, sw = scaled_size(image_hw, scale)
    sy, sx = sh / height, sw / width
    y0, x0 = min(sh - 1, int(round(top * sy))), min(sw - 1, int(round(left * sx)))
    y1 = max(y0 + 1, min(sh, int(round((top + h) * sy))))
    x1 = max(x0 + 1, min(sw, int(round((left + w) * sx))))
    out = decode_window(data, image_hw, (y0, x0, y1 - y0, x1 - x0), scale, reuse=True)
    if out.shape[:2] == (th, tw):
        return out.copy()   # out may be the thread's scratch buffer
    if method not in _CV_METHODS:
        raise ValueError(f"unknown resize method {method!r}; known: {sorted(_CV_METHODS)}")
    name = _CV_METHODS[method]
    if name == "INTER_LINEAR" and (out.shape[0] > 2 * th or out.shape[1] > 2 * tw):
        name = "INTER_AREA"
    return cv2.resize(out, (tw, th), interpolation=getattr(cv2, name))
