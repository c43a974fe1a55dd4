"""Save on 8 devices (data=2, fsdp=4); restore on 2 devices and on 1: identical values.

Each device count needs its own process. The saving child also writes the values it
saved to an .npz, which the restoring children compare against bit for bit.
"""
import pytest

from tests.checkpoints.helpers import run_python

SAVE_ON_8 = """
import numpy as np, jax
from herolion.checkpoints import Checkpointer
from tests.checkpoints.helpers import host, mesh_8, trained_state

assert jax.device_count() == 8
params, opt_state, average = trained_state(mesh_8())
with Checkpointer({workdir!r}) as ckpt:
    assert ckpt.save(7, params=params, opt_state=opt_state, polyak=average, state={{}})
flat = {{}}
for name, tree in (("params", params), ("opt", opt_state), ("polyak", average)):
    for path, leaf in jax.tree_util.tree_flatten_with_path(host(tree))[0]:
        flat[name + jax.tree_util.keystr(path)] = leaf
np.savez({expected!r}, **flat)
"""

RESTORE_ON_N = """
import numpy as np, jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from herolion.checkpoints import Checkpointer, abstract_tree, read_params
from herolion.optim import lion, polyak
from tests.checkpoints.helpers import host

n = jax.device_count()
assert n == {devices}
mesh = Mesh(np.array(jax.devices()).reshape(1, n), ("data", "fsdp"))
shapes = {{"dense": {{"kernel": (8, 6), "bias": (6,)}}, "head": {{"kernel": (4, 6)}}}}
fsdp, rep = NamedSharding(mesh, P("fsdp", None)), NamedSharding(mesh, P())
abstract_params = jax.tree.map(lambda s: jax.ShapeDtypeStruct(s, np.float32), shapes,
                               is_leaf=lambda x: isinstance(x, tuple))
shardings = {{"dense": {{"kernel": fsdp, "bias": rep}}, "head": {{"kernel": rep}}}}
abstract_params = abstract_tree(abstract_params, shardings)
abstract_opt = jax.eval_shape(lion(1e-2, weight_decay=0.1).init, abstract_params)
abstract_opt = abstract_tree(abstract_opt, rep)
with Checkpointer({workdir!r}) as ckpt:
    out = ckpt.restore(abstract_params=abstract_params, abstract_opt_state=abstract_opt,
                       abstract_polyak=abstract_params)
kernel = out["params"]["dense"]["kernel"]
assert kernel.sharding == fsdp, kernel.sharding
assert {{s.data.shape for s in kernel.addressable_shards}} == {{(8 // n, 6)}}
expected = np.load({expected!r})
got = {{}}
for name, tree in (("params", out["params"]), ("opt", out["opt_state"]), ("polyak", out["polyak"])):
    for path, leaf in jax.tree_util.tree_flatten_with_path(host(tree))[0]:
        got[name + jax.tree_util.keystr(path)] = leaf
assert sorted(got) == sorted(expected.files), (sorted(got), expected.files)
for key in expected.files:
    np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
plain = read_params({workdir!r})
np.testing.assert_array_equal(plain["dense"]["kernel"], expected["params['dense']['kernel']"])
print("restored", len(got), "leaves on", n, "devices")
"""


@pytest.fixture(scope="module")
def saved_on_8(tmp_path_factory):
    root = tmp_path_factory.mktemp("cross_mesh")
    paths = {"workdir": str(root / "run"), "expected": str(root / "expected.npz")}
    run_python(SAVE_ON_8.format(**paths), devices=8)
    return paths


@pytest.mark.parametrize("devices", [2, 1])
def test_restore_on_fewer_devices(saved_on_8, devices):
    proc = run_python(RESTORE_ON_N.format(devices=devices, **saved_on_8), devices=devices)
    assert f"on {devices} devices" in proc.stdout
