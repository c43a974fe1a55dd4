"""Logical axis names -> FSDP shardings on the 8 fake CPU devices (tests/conftest.py)."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from herolion.models import create
from herolion.models.sharding import (FSDP_RULES, constrain_batch, logical_specs,
                                      logical_to_mesh_sharding, mesh_spec)
from .helpers import fake_init

LARGE = 2 ** 18  # elements


@pytest.fixture(scope="module")
def mesh():
    assert jax.device_count() == 8
    return Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "fsdp"))


def abstract_vars(model, shape):
    return jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jnp.zeros(shape)))


def test_vit_b16_large_kernels_are_split_over_fsdp(mesh):
    abstract = abstract_vars(create("vit", variant="B/16"), (1, 224, 224, 3))
    shardings = logical_to_mesh_sharding(abstract, mesh, FSDP_RULES)
    plain = nn.unbox(abstract)
    assert jax.tree.structure(shardings) == jax.tree.structure(plain)
    leaves = jax.tree_util.tree_leaves_with_path(plain)
    specs = jax.tree.leaves(shardings, is_leaf=lambda x: isinstance(x, NamedSharding))
    large = 0
    for (path, leaf), sharding in zip(leaves, specs):
        if leaf.size > LARGE:
            large += 1
            assert "fsdp" in jax.tree.leaves(tuple(sharding.spec)), (path, sharding.spec)
            # The shard really is smaller: fsdp divides the annotated dimension.
            shard = sharding.shard_shape(leaf.shape)
            assert np.prod(shard) * 4 == leaf.size, (path, shard)
    assert large == 12 * 6 + 2  # q, k, v, out, mlp in/out per block; embedding; head


TOKENS = jnp.zeros((1, 8), jnp.int32)


@pytest.mark.parametrize("name,kw,inputs", [
    ("vit", {"variant": "mu/8", "pool_type": "map"}, (jnp.zeros((1, 16, 16, 3)),)),
    ("mixer", {"variant": "mu/8"}, (jnp.zeros((1, 16, 16, 3)),)),
    ("resnet", {"depth": 50}, (jnp.zeros((1, 32, 32, 3)),)),
    ("coatnet", {"variant": "mu"}, (jnp.zeros((1, 32, 32, 3)),)),
    ("text", {"variant": "mu", "vocab_size": 10, "max_len": 8}, (TOKENS,)),
    ("two_towers", {"image": {"variant": "mu/8"}, "bias_init": 0.0,
                    "text": {"variant": "mu", "vocab_size": 10, "max_len": 8}},
     (jnp.zeros((1, 16, 16, 3)), TOKENS)),
], ids=lambda x: x if isinstance(x, str) else "")
def test_every_param_is_annotated(name, kw, inputs):
    model = create(name, **kw)
    abstract = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), *inputs))
    specs = logical_specs(abstract["params"])
    for path, spec in jax.tree_util.tree_leaves_with_path(
            specs, is_leaf=lambda x: isinstance(x, P) or x is None):
        keys = jax.tree_util.keystr(path)
        if keys in ("['t']", "['b']"):  # two-tower scalars: nothing to shard
            continue
        assert isinstance(spec, P), keys


def test_scan_adds_a_layers_axis():
    abstract = abstract_vars(create("vit", variant="mu/8", scan=True), (1, 16, 16, 3))
    kernel = abstract["params"]["Transformer"]["encoderblock"]["MlpBlock_0"]["Dense_0"]["kernel"]
    assert kernel.names == ("layers", "embed", "mlp")
    assert kernel.value.shape == (2, 32, 64)


def test_undivisible_dimensions_move_fsdp_or_replicate(mesh):
    sizes = dict(mesh.shape)
    assert mesh_spec(("embed", "mlp"), (6, 8), sizes, FSDP_RULES) == P(None, "fsdp")
    assert mesh_spec(("embed", "mlp"), (6, 10), sizes, FSDP_RULES) == P()
    assert mesh_spec(("embed", "mlp"), (8, 6), sizes, FSDP_RULES) == P("fsdp")
    assert mesh_spec(("embed", "heads", "kv"), (6, 4, 8), sizes, FSDP_RULES) == P(None, None,
                                                                                 "fsdp")
    assert mesh_spec(("batch", None), (3, 8), sizes, FSDP_RULES) == P()   # not onto unnamed
    assert mesh_spec(("batch", None), (6, 3), sizes, FSDP_RULES) == P("data")
    assert mesh_spec(("batch", None), (8, 3), sizes, FSDP_RULES) == P(("data", "fsdp"))
    # a scan's layer axis never takes the shards, and tensor-parallel axes never move
    assert mesh_spec(("layers", "embed", "kv"), (8, 6, 6), sizes, FSDP_RULES) == P()
    assert mesh_spec(("embed", "mlp"), (6, 8), {"fsdp": 4, "tensor": 2}, FSDP_RULES) == P(
        None, "tensor")
    assert mesh_spec(("mlp", "embed"), (6, 8), {"fsdp": 4, "tensor": 4}, FSDP_RULES) == P(
        None, "fsdp")
    # A rule naming a mesh axis the mesh lacks ('tensor') is dropped, not an error; width 30
    # is not divisible by fsdp=4, so the MLP kernels hold their shards on the hidden width.
    abstract = abstract_vars(create("vit", variant="mu/8", width=30), (1, 16, 16, 3))
    shardings = logical_to_mesh_sharding(abstract, mesh, FSDP_RULES)
    specs = {jax.tree_util.keystr(path): s.spec for path, s in jax.tree_util.tree_leaves_with_path(
        shardings, is_leaf=lambda x: isinstance(x, NamedSharding))}
    mlp = [k for k in specs if "MlpBlock" in k and k.endswith("['kernel']")]
    assert mlp and all("fsdp" in tuple(specs[k]) for k in mlp)
    assert specs["['params']['embedding']['kernel']"] == P()   # (8, 8, 3, 30): nothing fits
    variables = jax.device_put(fake_init(create("vit", variant="mu/8", width=30),
                                         jnp.zeros((1, 16, 16, 3))), shardings)
    assert jax.tree.leaves(variables)


def test_sharded_forward_matches_single_device(mesh):
    model = create("vit", variant="mu/4", num_classes=10, head_zeroinit=False)
    x = jax.random.normal(jax.random.PRNGKey(3), (8, 16, 16, 3))
    boxed = abstract_vars(model, x.shape)
    variables = fake_init(model, x)
    expected = jax.jit(lambda v, x: model.apply(v, x))(variables, x)

    shardings = logical_to_mesh_sharding(boxed, mesh, FSDP_RULES)
    sharded_vars = jax.device_put(variables, shardings)
    sharded_x = jax.device_put(x, NamedSharding(mesh, P(("data", "fsdp"))))
    with jax.set_mesh(mesh), nn.logical_axis_rules(FSDP_RULES):
        fn = jax.jit(lambda v, x: model.apply(v, x))
        assert "sharding_constraint" in str(jax.make_jaxpr(fn)(sharded_vars, sharded_x))
        got = fn(sharded_vars, sharded_x)
    assert got.sharding.mesh.shape == mesh.shape
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-5, rtol=1e-5)


def test_constrain_batch_is_a_noop_without_mesh_and_tolerates_odd_batches(mesh):
    x = jnp.ones((3, 4))
    assert constrain_batch(x) is x
    with jax.set_mesh(mesh), nn.logical_axis_rules(FSDP_RULES):
        y = jax.jit(constrain_batch)(x)  # 3 is not divisible by 8: replicated
    np.testing.assert_array_equal(y, x)
