"""RandAugment (Cubuk et al., 2020) on uint8 RGB images with PIL.

Why our own: big_vision's version is TensorFlow code. This one follows the same
recipe — ``num_layers`` times, pick one op uniformly and apply it with a random
probability in [0.2, 0.8] — over a common subset of ops. ``magnitude`` is on the
usual 0..10 scale; every op gets stronger as it grows (signed ops pick a random
direction). Geometric ops fill uncovered pixels with gray (128).
"""
import numpy as np

from herolion.data.ops.registry import register

MAX_MAGNITUDE = 10.0
FILL = (128, 128, 128)


def _signed(value, rng):
    return value if rng.random() < 0.5 else -value


def _enhance(name):
    def fn(img, level, rng):
        from PIL import ImageEnhance
        return getattr(ImageEnhance, name)(img).enhance(1.0 + _signed(0.9 * level, rng))
    return fn


def _identity(img, level, rng):
    return img


def _autocontrast(img, level, rng):
    from PIL import ImageOps
    return ImageOps.autocontrast(img)


def _equalize(img, level, rng):
    from PIL import ImageOps
    return ImageOps.equalize(img)


def _invert_above(img, level, rng):  # solarize
    from PIL import ImageOps
    return ImageOps.solarize(img, threshold=int(256 - 256 * level))


def _posterize(img, level, rng):
    from PIL import ImageOps
    return ImageOps.posterize(img, max(1, 8 - int(round(4 * level))))


def _rotate(img, level, rng):
    return img.rotate(_signed(30.0 * level, rng), fillcolor=FILL)


def _affine(img, coeffs):
    from PIL import Image
    return img.transform(img.size, Image.AFFINE, coeffs, fillcolor=FILL)


def _shear_x(img, level, rng):
    return _affine(img, (1, _signed(0.3 * level, rng), 0, 0, 1, 0))


def _shear_y(img, level, rng):
    return _affine(img, (1, 0, 0, _signed(0.3 * level, rng), 1, 0))


def _translate_x(img, level, rng):
    return _affine(img, (1, 0, _signed(0.45 * level * img.size[0], rng), 0, 1, 0))


def _translate_y(img, level, rng):
    return _affine(img, (1, 0, 0, 0, 1, _signed(0.45 * level * img.size[1], rng)))


OPS = {
    "Identity": _identity, "AutoContrast": _autocontrast, "Equalize": _equalize,
    "Rotate": _rotate, "Solarize": _invert_above, "Color": _enhance("Color"),
    "Posterize": _posterize, "Contrast": _enhance("Contrast"),
    "Brightness": _enhance("Brightness"), "Sharpness": _enhance("Sharpness"),
    "ShearX": _shear_x, "ShearY": _shear_y, "TranslateX": _translate_x,
    "TranslateY": _translate_y,
}
_OP_LIST = tuple(OPS.values())


def apply_op(img, name, magnitude, rng):
    """Applies one named op to a uint8 ``[H, W, 3]`` array (used by tests)."""
    from PIL import Image
    out = OPS[name](Image.fromarray(img), magnitude / MAX_MAGNITUDE, rng)
    return np.asarray(out, np.uint8)


def randaugment_array(img, num_layers, magnitude, rng):
    from PIL import Image
    pil = Image.fromarray(np.ascontiguousarray(img))
    level = min(max(magnitude, 0.0), MAX_MAGNITUDE) / MAX_MAGNITUDE
    for _ in range(num_layers):
        fn = _OP_LIST[int(rng.integers(len(_OP_LIST)))]
        if rng.random() < rng.uniform(0.2, 0.8):
            pil = fn(pil, level, rng)
    return np.asarray(pil, np.uint8)


@register("randaugment")
def randaugment(num_layers=2, magnitude=10, key="image"):
    num_layers, magnitude = int(num_layers), float(magnitude)

    def op(example, rng):
        return {**example, key: randaugment_array(example[key], num_layers, magnitude, rng)}
    return op
