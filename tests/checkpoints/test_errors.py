"""Bad workdirs and broken checkpoints: one-line ConfigErrors, and good steps untouched."""
import shutil

import jax
import pytest

from herolion.checkpoints import Checkpointer, abstract_tree, read_params
from herolion.errors import ConfigError
from tests.checkpoints.helpers import (assert_trees_equal, make_params, mesh_8, trained_state,
                                       tree_digest)

# When one item of a restore fails, orbax closes its event loop while tensorstore
# callbacks for the other items are still pending; they report "Event loop is closed"
# as an unraisable exception. Harmless here: the failure itself is what is tested.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _one_line(err) -> str:
    message = str(err.value)
    assert "\n" not in message and len(message) < 600, message
    return message


def test_workdir_is_a_file(tmp_path):
    path = tmp_path / "run"
    path.write_text("not a directory")
    with pytest.raises(ConfigError) as err:
        Checkpointer(path)
    assert str(path) in _one_line(err) and "not a directory" in str(err.value)


def test_checkpoints_dir_is_a_file(tmp_path):
    (tmp_path / "checkpoints").write_text("oops")
    with pytest.raises(ConfigError) as err:
        Checkpointer(tmp_path)
    assert str(tmp_path / "checkpoints") in _one_line(err)


def test_workdir_below_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError) as err:
        Checkpointer(tmp_path / "file" / "run")
    # names the file in the way, not just the directory it blocks
    assert _one_line(err) == f"workdir {tmp_path / 'file'}: exists and is not a directory"


def test_workdir_not_writable():
    """/proc/self exists but no one, root included, may create a directory in it."""
    locked = "/proc/self"
    with pytest.raises(ConfigError) as err:
        Checkpointer(locked)
    assert locked in _one_line(err)


def test_read_only_needs_an_existing_run(tmp_path):
    with pytest.raises(ConfigError, match="has no checkpoints/ directory"):
        Checkpointer(tmp_path, read_only=True)


@pytest.fixture
def two_steps(tmp_path):
    params, opt_state, _ = trained_state(mesh_8())
    with Checkpointer(tmp_path, async_save=False) as ckpt:
        ckpt.save(1, params=params, opt_state=opt_state, state={"tag": "one"})
        ckpt.save(2, params=params, opt_state=opt_state, state={"tag": "two"})
    root = tmp_path / "checkpoints"
    return tmp_path, root, params, opt_state, tree_digest(root / "1")


def _restore(workdir, params, opt_state, step=None):
    with Checkpointer(workdir) as ckpt:
        return ckpt.restore(step, abstract_params=abstract_tree(params),
                            abstract_opt_state=abstract_tree(opt_state))


def _garble(directory, pattern):
    files = [p for p in directory.glob(pattern) if p.is_file()]
    assert files, pattern
    for path in files:
        path.write_bytes(b"\x00garbage")


@pytest.mark.parametrize("pattern", ["params/d/*", "params/_METADATA", "params/manifest.ocdbt",
                                     "opt_state/d/*", "state/*"])
def test_corrupt_newest_step_is_reported_not_skipped(two_steps, pattern):
    workdir, root, params, opt_state, step1 = two_steps
    _garble(root / "2", pattern)
    step2 = tree_digest(root / "2")
    with pytest.raises(ConfigError) as err:
        _restore(workdir, params, opt_state)
    message = _one_line(err)
    assert f"checkpoint {root / '2'}: corrupt or unreadable" in message
    assert "step 1 is untouched" in message
    # Nothing was deleted or rewritten, the bad step included, and step 1 still restores.
    assert tree_digest(root / "1") == step1 and tree_digest(root / "2") == step2
    out = _restore(workdir, params, opt_state, step=1)
    assert out["state"]["tag"] == "one"
    assert_trees_equal(out["params"], params)


def test_missing_item_in_newest_step(two_steps):
    workdir, root, params, opt_state, step1 = two_steps
    shutil.rmtree(root / "2" / "opt_state")
    with pytest.raises(ConfigError) as err:
        _restore(workdir, params, opt_state)
    assert "missing opt_state/" in _one_line(err) and str(root / "2") in str(err.value)
    assert tree_digest(root / "1") == step1


def test_wrong_target_structure_is_a_config_error(two_steps):
    workdir, root, params, opt_state, _ = two_steps
    other = {"something": {"else": jax.ShapeDtypeStruct((3,), "float32")}}
    with pytest.raises(ConfigError) as err:
        _restore(workdir, other, opt_state)
    assert str(root / "2") in _one_line(err)


def test_another_optimizers_state_is_refused_naming_a_leaf(two_steps):
    """Lion's state restored as AdamW's: refused from the metadata, before any read."""
    from herolion.optim import adamw
    workdir, root, params, _, step1 = two_steps
    step2 = tree_digest(root / "2")
    with pytest.raises(ConfigError) as err:
        _restore(workdir, params, adamw(1e-3).init(params))
    message = _one_line(err)
    assert f"checkpoint {root / '2'}: does not fit" in message
    assert "opt_state: " in message and "nu/" in message and "not in the checkpoint" in message
    assert tree_digest(root / "1") == step1 and tree_digest(root / "2") == step2


def test_a_changed_shape_is_refused_naming_the_leaf(two_steps):
    workdir, root, params, opt_state, _ = two_steps
    wider = abstract_tree(params)
    path, leaf = jax.tree_util.tree_flatten_with_path(wider)[0][0]
    name = "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)
    bigger = jax.ShapeDtypeStruct((leaf.shape[0] + 1, *leaf.shape[1:]), leaf.dtype,
                                  sharding=leaf.sharding)
    wider = jax.tree_util.tree_map_with_path(lambda p, x: bigger if p == path else x, wider)
    with pytest.raises(ConfigError) as err:
        with Checkpointer(workdir) as ckpt:
            ckpt.restore(abstract_params=wider, abstract_opt_state=abstract_tree(opt_state))
    message = _one_line(err)
    assert (f"params: {name} has shape {list(leaf.shape)} in the checkpoint, "
            f"{list(bigger.shape)} here") in message


def test_corrupt_params_for_read_params(two_steps):
    workdir, root, *_ = two_steps
    _garble(root / "2", "params/d/*")
    with pytest.raises(ConfigError) as err:
        read_params(workdir)
    assert str(root / "2" / "params") in _one_line(err)


def test_nothing_to_restore(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path) as ckpt:
        with pytest.raises(ConfigError, match="no complete checkpoint to restore"):
            ckpt.restore(abstract_params=abstract_tree(params), abstract_opt_state={})
        ckpt.save(1, params=params, opt_state={}, state={})
        ckpt.wait()
        with pytest.raises(ConfigError, match="no such committed step"):
            ckpt.restore(5, abstract_params=abstract_tree(params), abstract_opt_state={})


def test_unsavable_state_writes_nothing(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path) as ckpt:
        with pytest.raises(ConfigError, match=r"state\.fn: cannot be stored as JSON"):
            ckpt.save(1, params=params, opt_state={}, state={"fn": print})
        assert not any(p.name.startswith("1") for p in ckpt.directory.iterdir())


def test_read_only_checkpointer_refuses_to_save(two_steps):
    workdir, root, params, opt_state, _ = two_steps
    with Checkpointer(workdir, read_only=True) as ckpt:
        with pytest.raises(ConfigError, match="read-only"):
            ckpt.save(3, params=params, opt_state=opt_state, state={})
    assert sorted(p.name for p in root.iterdir() if p.name.isdigit()) == ["1", "2"]
