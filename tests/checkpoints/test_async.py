"""An async save returns before the checkpoint is committed; ``wait`` commits it.

To make the ordering deterministic (no timing), orbax's final rename is held back by
an event until the test has looked at the state in between.
"""
import asyncio
import threading

import pytest
from orbax.checkpoint._src.path import atomicity

from herolion.checkpoints import Checkpointer, abstract_tree
from tests.checkpoints.helpers import assert_trees_equal, make_params, mesh_8


@pytest.fixture
def held_commit(monkeypatch):
    gate = threading.Event()
    original = atomicity.AtomicRenameTemporaryPath.finalize

    async def finalize(self, *args, **kwargs):
        await asyncio.to_thread(gate.wait, 60)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(atomicity.AtomicRenameTemporaryPath, "finalize", finalize)
    yield gate
    gate.set()


@pytest.mark.parametrize("background", [False, True])
def test_save_returns_before_commit_and_wait_completes_it(tmp_path, held_commit, background):
    params = make_params(mesh_8(), scale=512)  # a 4096x6 kernel among others
    with Checkpointer(tmp_path, background=background) as ckpt:
        assert ckpt.save(1, params=params, opt_state={}, state={})
        # Returned while the commit is still held: at most orbax's tmp dir exists (in the
        # background mode orbax may not have started yet), and the in-flight step does
        # not count as a checkpoint yet.
        names = [p.name for p in ckpt.directory.iterdir()]
        assert names == ["1.orbax-checkpoint-tmp"] or (background and names == [])
        assert ckpt.latest_step() is None and ckpt.all_steps() == []
        held_commit.set()
        ckpt.wait()
        assert ckpt.latest_step() == 1 and not (ckpt.directory / "1.orbax-checkpoint-tmp").exists()
        out = ckpt.restore(abstract_params=abstract_tree(params), abstract_opt_state={})
    assert_trees_equal(out["params"], params)


def test_sync_save_is_committed_on_return(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path, async_save=False) as ckpt:
        assert ckpt.save(1, params=params, opt_state={}, state={})
        assert ckpt.latest_step() == 1 and (ckpt.directory / "1").is_dir()
