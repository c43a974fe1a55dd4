"""Per-device bytes by arithmetic: ceil-divided sharded dims, FSDP divides by its size."""
import math

import flax.linen as nn
import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from herolion import plan as planner
from herolion.errors import ConfigError
from tests.plan.helpers import config


def test_shard_shape_ceil_divides_sharded_dims():
    axes = {"data": 2, "fsdp": 3, "tensor": 4}
    assert planner.shard_shape((10, 7, 5), P("fsdp", None, "tensor"), axes) == (4, 7, 2)
    assert planner.shard_shape((10, 7), P(("data", "fsdp")), axes) == (2, 7)
    assert planner.shard_shape((10,), P(), axes) == (10,)


def _reference_params_bytes(analysis, fsdp):
    """Independent of the trainer's rules code: a leaf holds 1/fsdp of its 'embed' or
    'conv_out' dim (FSDP_RULES) if fsdp divides it, else of its largest other named,
    non-'layers' dim that fsdp divides, else all of it."""
    total = 0
    boxes = jax.tree.leaves(analysis.boxed["params"], is_leaf=lambda x: isinstance(
        x, nn.meta.AxisMetadata))
    for leaf, box in zip(jax.tree.leaves(analysis.params), boxes):
        shape = list(leaf.shape)
        names = getattr(box, "names", ()) or ()
        ruled = [i for i, n in enumerate(names) if n in ("embed", "conv_out")]
        if fsdp > 1 and ruled:
            others = [i for i, n in enumerate(names)
                      if n not in (None, "layers") and shape[i] % fsdp == 0]
            fits = [i for i in ruled if shape[i] % fsdp == 0] or sorted(
                others, key=lambda i: -shape[i])
            if fits:
                shape[fits[0]] //= fsdp
        total += math.prod(shape) * np.dtype(leaf.dtype).itemsize
    return total


@pytest.mark.parametrize("fsdp", [1, 4, 64, 256])
def test_fsdp_divides_params_by_the_fsdp_size(fsdp):
    cfg = config()
    analysis = planner.analyse(cfg)
    lay = planner.layout(analysis, {"data": 2, "fsdp": fsdp}, 1, 1)
    assert lay["params"] == _reference_params_bytes(analysis, fsdp)
    full = planner.layout(analysis, {"data": 2 * fsdp}, 1, 1)
    assert full["params"] == 4 * analysis.param_count and full["gathered"] == 0
    if fsdp == 4:   # at 4, the unsharded leaves (biases, norms) are a small part
        assert full["params"] / 4 < lay["params"] < full["params"] / 4 * 1.05
    assert lay["params"] + lay["gathered"] == full["params"]   # all layers gathered


def test_a_mesh_larger_than_the_machine_plans_without_devices():
    result = planner.plan(config(batch=512 * 2), {"data": 2, "fsdp": 256})
    assert result["devices"] == 512 > len(jax.devices())
    assert result["batch"]["per_device"] == 2


@pytest.mark.parametrize("spec,match", [
    ("data=two", "--mesh: entries"), ("fsdp=-1", "--mesh: axis 'fsdp' is -1"),
    ("data", "--mesh: expected NAME=SIZE"), ("data=0", "--mesh: axis 'data' has size 0"),
])
def test_bad_mesh_is_one_line_naming_the_flag(spec, match):
    with pytest.raises(ConfigError, match=match):
        planner.parse_axes(spec)


def test_vit_g_on_fsdp_256_shards_its_mlp_where_its_width_does_not_divide():
    """ViT-G/14's width 1664 is not a multiple of 256: FSDP moves to the MLP's 8192, so
    most of the params are still split 256 ways instead of all being replicated."""
    cfg = config(model=dict(variant="G/14", num_classes=1000, pool_type="map", scan=True),
                 batch=1024, input=dict(batch_size=1024, pp="decode|resize(224)"))
    analysis = planner.analyse(cfg)
    full = planner.layout(analysis, {"data": 1024}, 1, 1)["params"]
    sharded = planner.layout(analysis, {"data": 4, "fsdp": 256}, 1, 1)["params"]
    assert sharded == _reference_params_bytes(analysis, 256)
    assert sharded < 0.35 * full
