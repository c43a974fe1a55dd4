"""The big_vision-style spec parser and its errors."""
import numpy as np
import pytest

from herolion.data import preprocess
from herolion.errors import ConfigError


def test_split_and_parse():
    spec = 'decode|inception_crop(224, area_min=8)|keep("image", "a|b")'
    assert preprocess.split_ops(spec) == ["decode", "inception_crop(224, area_min=8)",
                                         'keep("image", "a|b")']
    assert preprocess.parse_op("decode") == ("decode", (), {})
    assert preprocess.parse_op("resize((4, 5), method='nearest')") == (
        "resize", ((4, 5),), {"method": "nearest"})


def test_string_and_list_give_the_same_result():
    img = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    a = preprocess.build("central_crop(4)|value_range(0, 1)")({"image": img})
    b = preprocess.build(["central_crop(4)", "value_range(0, 1)"])({"image": img})
    np.testing.assert_array_equal(a["image"], b["image"])
    c = preprocess.build(["central_crop(4)", lambda ex, rng: {**ex, "x": 1}])({"image": img})
    assert c["x"] == 1 and c["image"].shape == (4, 4, 3)


def test_empty_spec_is_identity():
    ex = {"a": 1}
    assert preprocess.build("")(ex) == ex and preprocess.build(None)(ex) == ex


@pytest.mark.parametrize("spec, pattern", [
    ("decode|inception_crp(224)", r"^input\.pp: unknown preprocessing op 'inception_crp' "
                                  r"\(did you mean 'inception_crop'\?\)$"),
    ("decode|flip_rl", r"did you mean 'flip_lr'"),
    ("decode|zzzzzz", r"unknown preprocessing op 'zzzzzz' \(known: .*value_range"),
    ("resize(", r"cannot parse"),
    ("resize(x)", r"cannot parse"),
    ("onehot(10, colour=1)", r"onehot\(10, colour=1\): .*colour"),
    ("onehot(10, label_smoothing=2)", r"label_smoothing"),
])
def test_bad_specs_are_one_line_errors(spec, pattern):
    with pytest.raises(ConfigError, match=pattern) as err:
        preprocess.build(spec)
    assert "\n" not in str(err.value)
