"""Meshes from configs; optimizer state sharded like the params it mirrors."""
import jax
import jax.numpy as jnp
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P

from herolion import optim
from herolion.errors import ConfigError
from herolion.trainer import mesh as mesh_lib
from herolion.trainer import sharding


def test_mesh_sizes_and_minus_one():
    mesh = mesh_lib.make_mesh("data=2,fsdp=-1")
    assert dict(mesh.shape) == {"data": 2, "fsdp": 4}
    assert dict(mesh_lib.make_mesh(None).shape) == {"data": 8}
    assert mesh_lib.data_axes(mesh_lib.make_mesh([("data", 2), ("tensor", 4)])) == ("data",)


@pytest.mark.parametrize("spec, message", [
    ("data=3,fsdp=-1", "do not divide"),
    ("data=4,fsdp=4", "needs 16 devices"),
    ("data=-1,fsdp=-1", "at most one axis"),
    ("data=0", "size 0"),
    ("data", "expected NAME=SIZE"),
    ([("data", 2), ("data", 4)], "appears twice"),
])
def test_bad_meshes(spec, message):
    with pytest.raises(ConfigError, match=f"^config.mesh: .*{message}"):
        mesh_lib.make_mesh(spec)


def test_optimizer_state_mirrors_param_shardings():
    mesh = mesh_lib.make_mesh("data=2,fsdp=4")
    params = {"dense": {"kernel": jax.ShapeDtypeStruct((64, 48), jnp.float32),
                        "bias": jax.ShapeDtypeStruct((48,), jnp.float32)}}
    p_shard = {"dense": {"kernel": NamedSharding(mesh, P("fsdp", None)),
                         "bias": NamedSharding(mesh, P())}}
    for tx in (optim.lion(1e-3), optim.adamw(1e-3), optim.adafactorw(1e-3)):
        state = jax.eval_shape(tx.init, params)
        shard = sharding.mirror_shardings(state, params, p_shard, mesh)
        for path, (leaf, s) in zip(
                [p for p, _ in jax.tree_util.tree_flatten_with_path(state)[0]],
                zip(jax.tree.leaves(state), jax.tree.leaves(shard))):
            if leaf.shape == (64, 48):
                assert s.spec == P("fsdp", None), path
            elif leaf.shape == (48,) and "v_row" in jax.tree_util.keystr(path):
                assert s.spec == P(), path  # the fsdp axis (64) was reduced away
            elif leaf.shape == (64,):
                assert s.spec == P("fsdp"), path  # Adafactor column stats keep axis 0
            else:
                assert s.spec == P(), path
