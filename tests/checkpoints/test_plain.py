"""The workdir contract: a step is readable with plain orbax, no herolion code needed."""
import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from herolion.checkpoints import Checkpointer, read_params
from herolion.errors import ConfigError
from tests.checkpoints.helpers import assert_trees_equal, host, mesh_8, trained_state


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("plain")
    params, opt_state, average = trained_state(mesh_8())
    with Checkpointer(workdir) as ckpt:
        ckpt.save(10, params=params, opt_state=opt_state, state={})
        ckpt.save(20, params=params, opt_state=opt_state, polyak=average, state={})
    return workdir, host(params), host(average), host(opt_state[0].mu)


def test_step_items_restore_with_plain_standard_checkpointer(run):
    workdir, params, _, lion_mu = run
    step_dir = workdir / "checkpoints" / "20"
    restored = ocp.StandardCheckpointer().restore(step_dir / "params")
    assert_trees_equal(restored, params)
    # Without a target the optimizer state comes back as plain containers: the Lion
    # NamedTuple becomes a dict, the chain's empty states None.
    opt = ocp.StandardCheckpointer().restore(step_dir / "opt_state")
    assert int(opt[0]["count"]) == 3
    assert_trees_equal(opt[0]["mu"], lion_mu)


@pytest.mark.parametrize("where", ["workdir", "checkpoints", "step", "item"])
def test_read_params_accepts_any_level(run, where):
    workdir, params, _, _ = run
    path = {"workdir": workdir, "checkpoints": workdir / "checkpoints",
            "step": workdir / "checkpoints" / "20",
            "item": workdir / "checkpoints" / "20" / "params"}[where]
    got = read_params(path)
    assert all(isinstance(x, np.ndarray) for x in jax.tree.leaves(got))
    assert_trees_equal(got, params)


def test_read_params_step_and_polyak(run):
    workdir, params, average, _ = run
    assert_trees_equal(read_params(workdir, step=10), params)
    assert_trees_equal(read_params(workdir, item="polyak"), average)
    with pytest.raises(ConfigError, match="has no polyak/ item"):
        read_params(workdir, step=10, item="polyak")
    with pytest.raises(ConfigError, match="no step 15"):
        read_params(workdir, step=15)


def test_read_params_bad_paths(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_params(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is not a directory"):
        read_params(tmp_path / "file")
    with pytest.raises(ConfigError, match="no complete checkpoint"):
        read_params(tmp_path)
