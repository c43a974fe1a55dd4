"""Background saves: ``save`` returns after a device copy; orbax runs in a thread.

orbax's own save is held by an event in these tests, so "returned before orbax ran"
is an ordering fact, not a timing.
"""
import threading

import jax
import numpy as np
import pytest
from orbax.checkpoint import CheckpointManager

from herolion.checkpoints import Checkpointer, SaveError, abstract_tree, snapshot
from tests.checkpoints.helpers import (assert_trees_equal, grain_iterator, host, mesh_8,
                                       trained_state)


@pytest.fixture
def held_orbax(monkeypatch):
    """orbax's ``CheckpointManager.save`` waits for the event; records its thread."""
    gate, threads = threading.Event(), []
    original = CheckpointManager.save

    def save(self, *args, **kwargs):
        threads.append(threading.current_thread())
        assert gate.wait(60)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CheckpointManager, "save", save)
    yield gate, threads
    gate.set()


def test_default_is_background_for_async_single_process_cpu(tmp_path):
    assert jax.process_count() == 1 and jax.default_backend() == "cpu"
    with Checkpointer(tmp_path / "a") as a, \
            Checkpointer(tmp_path / "s", async_save=False) as s, \
            Checkpointer(tmp_path / "o", background=False) as o:
        assert a.background and not s.background and not o.background


def test_save_returns_before_orbax_runs_and_saves_the_values_at_the_call(tmp_path, held_orbax):
    """The caller may donate (here: delete) its arrays and move its data iterator on as
    soon as ``save`` returns; the checkpoint holds the state at the call."""
    gate, threads = held_orbax
    params, opt_state, polyak = trained_state(mesh_8())
    expected = host((params, opt_state, polyak))
    it = grain_iterator()
    next(it)
    position = it.get_state()
    with Checkpointer(tmp_path) as ckpt:
        assert ckpt.save(1, params=params, opt_state=opt_state, polyak=polyak,
                         state={}, data_iterator=it)
        for leaf in jax.tree.leaves((params, opt_state, polyak)):
            leaf.delete()          # what the next donating train step does to them
        next(it), next(it)
        assert ckpt.latest_step() is None
        gate.set()
        ckpt.wait()
        assert threads and threads[0] is not threading.main_thread()
        assert ckpt.latest_step() == 1
        fresh = grain_iterator()
        out = ckpt.restore(abstract_params=abstract_tree(expected[0]),
                           abstract_opt_state=abstract_tree(expected[1]),
                           abstract_polyak=abstract_tree(expected[2]), data_iterator=fresh)
    assert_trees_equal((out["params"], out["opt_state"], out["polyak"]), expected)
    assert fresh.get_state() == position


def test_a_failed_background_save_is_reported_by_wait(tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    params, opt_state, _ = trained_state(mesh_8())
    with Checkpointer(tmp_path) as ckpt:
        monkeypatch.setattr(CheckpointManager, "save", broken)
        assert ckpt.save(7, params=params, opt_state=opt_state, state={})
        with pytest.raises(SaveError, match=r"step 7.*disk full"):
            ckpt.wait()
        ckpt.wait()   # reported once


def test_device_copy_keeps_values_and_shardings_in_new_buffers():
    params, opt_state, _ = trained_state(mesh_8())
    copy = snapshot.device_copy({"p": params, "o": opt_state, "none": None})
    assert copy["none"] is None
    for a, b in zip(jax.tree.leaves((params, opt_state)), jax.tree.leaves((copy["p"], copy["o"]))):
        assert a.sharding.is_equivalent_to(b.sharding, a.ndim)
        for sa, sb in zip(a.addressable_shards, b.addressable_shards):
            assert sa.device == sb.device
            assert sa.data.unsafe_buffer_pointer() != sb.data.unsafe_buffer_pointer()
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
