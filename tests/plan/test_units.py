"""``--hbm`` sizes: decimal GB/G, binary GiB/Gi; anything else is a one-line error."""
import pytest

from herolion.errors import ConfigError
from herolion.plan import fmt_bytes, parse_bytes


@pytest.mark.parametrize("text,expected", [
    ("80GB", 80 * 10**9), ("80GiB", 80 * 2**30), ("16G", 16 * 10**9), ("16Gi", 16 * 2**30),
    ("1.5TB", 15 * 10**11), ("512MiB", 512 * 2**20), ("1024", 1024), (" 40 gb ", 40 * 10**9),
])
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["80XB", "GB", "", "-5GB", "0GB", "eighty", "80 G B"])
def test_bad_sizes_name_the_flag(text):
    with pytest.raises(ConfigError, match=r"^--hbm: ") as err:
        parse_bytes(text)
    assert "\n" not in str(err.value)


def test_fmt_bytes_round_trips_decimal_units():
    assert fmt_bytes(80e9) == "80 GB"
    assert parse_bytes(fmt_bytes(1.25e6).replace(" ", "")) == 1_250_000


def test_image_size_from_the_pp_string_or_the_flag():
    from ml_collections import ConfigDict

    from herolion.errors import ConfigError
    from herolion.plan.core import image_size

    def cfg(pp):
        return ConfigDict(dict(input=dict(pp=pp)))
    assert image_size(cfg("decode_jpeg_and_inception_crop(224)|flip_lr")) == (224, 224)
    assert image_size(cfg("decode|resize_small(256)|central_crop((96, 128))")) == (96, 128)
    assert image_size(cfg("decode|resize(384)"), override=512) == (512, 512)
    with pytest.raises(ConfigError, match="^--image-size: "):
        image_size(cfg("decode|value_range(-1, 1)"))
