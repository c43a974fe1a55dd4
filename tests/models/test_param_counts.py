"""Every row of DESIGN.md's parameter table, counted on abstract shapes (no allocation)."""
import jax
import jax.numpy as jnp
import pytest

from herolion.models import count_params, create

ROWS = [
    ("vit", {"variant": "S/16", "pool_type": "tok"}, 224, 22_050_664),
    ("vit", {"variant": "B/16", "pool_type": "tok"}, 224, 86_567_656),
    ("vit", {"variant": "B/16", "pool_type": "tok"}, 384, 86_859_496),
    ("vit", {"variant": "L/16", "pool_type": "tok"}, 384, 304_715_752),
    ("vit", {"variant": "L/16", "pool_type": "tok"}, 512, 305_174_504),
    ("vit", {"variant": "H/14", "pool_type": "tok"}, 392, 632_721_640),
    ("vit", {"variant": "H/14", "pool_type": "tok"}, 518, 633_470_440),
    ("vit", {"variant": "g/14", "pool_type": "map"}, 518, 1_039_424_488),
    ("vit", {"variant": "G/14", "pool_type": "map"}, 518, 1_884_649_448),
    ("mixer", {"variant": "S/16"}, 224, 18_528_264),
    ("mixer", {"variant": "B/16"}, 224, 59_880_472),
    ("resnet", {"depth": 50}, 224, 25_557_032),
]
COATNET = [("1", 42_225_776), ("3", 166_966_264)]


def abstract_count(name, kw, size):
    model = create(name, num_classes=1000, **kw)
    shapes = jax.eval_shape(
        lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, size, size, 3))))
    return count_params(shapes["params"])


@pytest.mark.parametrize("name,kw,size,want", ROWS, ids=lambda r: str(r))
def test_exact_count(name, kw, size, want):
    assert abstract_count(name, kw, size) == want


@pytest.mark.parametrize("variant,want", COATNET)
def test_coatnet_within_half_percent(variant, want):
    got = abstract_count("coatnet", {"variant": variant}, 224)
    assert abs(got - want) / want < 0.005, got


def test_scan_keeps_the_count():
    kw = {"variant": "g/14", "pool_type": "map"}
    assert abstract_count("vit", {**kw, "scan": True}, 518) == 1_039_424_488
