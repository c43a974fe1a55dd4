"""A save that never finished is invisible, and the next run removes it.

Two ways to get one: a real crash (a child process SIGKILLs itself right after an async
save of a biggish tree has started) and a hand-made orbax tmp directory.
"""
import shutil

import numpy as np
import pytest

from herolion.checkpoints import Checkpointer, abstract_tree, read_params
from tests.checkpoints.helpers import (assert_trees_equal, host, make_params, mesh_8,
                                       run_python)

CRASH_DURING_SAVE = """
import os, signal, time
import jax, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from herolion.checkpoints import Checkpointer
from tests.checkpoints.helpers import make_params, mesh_8

mesh = mesh_8()
small = make_params(mesh)
big = {f"w{i}": jax.device_put(np.full((1024, 1024), i, np.float32),
                                 NamedSharding(mesh, P("fsdp", None))) for i in range(24)}
ckpt = Checkpointer(%(workdir)r, background=%(background)r)
assert ckpt.save(1, params=small, opt_state={}, state={"tag": "good"})
ckpt.wait()
assert ckpt.save(2, params=big, opt_state={}, state={"tag": "interrupted"})
deadline = time.monotonic() + 60   # a background save may not have reached orbax yet
while not (ckpt.directory / "2.orbax-checkpoint-tmp").exists() and time.monotonic() < deadline:
    time.sleep(0.001)
print("tmp dirs:", sorted(p.name for p in ckpt.directory.iterdir()), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("background", [False, True])
def test_kill_during_async_save_resumes_from_previous_step(tmp_path, background):
    proc = run_python(CRASH_DURING_SAVE % {"workdir": str(tmp_path), "background": background},
                      devices=8, check=False)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert "2.orbax-checkpoint-tmp" in proc.stdout  # the save was under way when killed
    root = tmp_path / "checkpoints"
    assert (root / "1").is_dir() and not (root / "2").exists()

    params = make_params(mesh_8())
    with Checkpointer(tmp_path) as ckpt:
        assert [p.name for p in ckpt.removed_incomplete] == ["2.orbax-checkpoint-tmp"]
        assert not any("tmp" in p.name for p in root.iterdir())
        assert ckpt.latest_step() == 1
        out = ckpt.restore(abstract_params=abstract_tree(params), abstract_opt_state={})
    assert out["step"] == 1 and out["state"]["tag"] == "good"
    assert_trees_equal(out["params"], params)


def test_leftover_tmp_dir_is_ignored_and_removed(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path, async_save=False) as ckpt:
        ckpt.save(3, params=params, opt_state={}, state={})
    root = tmp_path / "checkpoints"
    # What an interrupted save of step 4 looks like: orbax's tmp name, partial contents.
    partial = root / "4.orbax-checkpoint-tmp"
    shutil.copytree(root / "3", partial)
    shutil.rmtree(partial / "state")
    (partial / "params" / "manifest.ocdbt").write_bytes(b"\0\0")

    assert read_params(tmp_path)["head"]["kernel"].shape == (4, 6)  # plain readers skip it too
    with Checkpointer(tmp_path) as ckpt:
        assert not partial.exists()
        assert ckpt.latest_step() == 3 and ckpt.all_steps() == [3]
        out = ckpt.restore(abstract_params=abstract_tree(params), abstract_opt_state={})
        assert out["step"] == 3
        # Step 4 can be written afterwards, for real.
        assert ckpt.save(4, params=params, opt_state={}, state={})
        ckpt.wait()
        assert ckpt.latest_step() == 4


def test_read_only_checkpointer_leaves_tmp_dirs_alone(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path, async_save=False) as ckpt:
        ckpt.save(1, params=params, opt_state={}, state={})
    partial = tmp_path / "checkpoints" / "2.orbax-checkpoint-tmp"
    partial.mkdir()  # e.g. a live run is writing step 2 right now
    with Checkpointer(tmp_path, read_only=True) as ckpt:
        assert ckpt.latest_step() == 1
        out = ckpt.restore(abstract_params=abstract_tree(params), abstract_opt_state={})
    assert partial.is_dir()
    np.testing.assert_array_equal(host(out["params"])["head"]["kernel"],
                                  host(params)["head"]["kernel"])
