"""Everything a resume needs comes back bit-for-bit: params, Lion state, Polyak, RNG, data."""
import jax
import jax.numpy as jnp
import numpy as np

from herolion.checkpoints import Checkpointer, abstract_tree, decode_key
from tests.checkpoints.helpers import (assert_trees_equal, grain_iterator, host, mesh_8,
                                       trained_state, tree_digest)


def _save_full(workdir, mesh, **kw):
    params, opt_state, average = trained_state(mesh)
    it = grain_iterator()
    for _ in range(3):
        next(it)
    key = jax.random.fold_in(jax.random.key(0), 5)
    with Checkpointer(workdir, **kw) as ckpt:
        assert ckpt.save(5, params=params, opt_state=opt_state, polyak=average,
                         state={"rng": key, "seen": jnp.int32(12), "epoch": 0.25},
                         data_iterator=it, config={"lr": 1e-2, "model": {"depth": 2}})
        upcoming = [next(it) for _ in range(2)]  # the iterator moves on after the save
    return params, opt_state, average, key, upcoming


def test_round_trip_restores_every_item_exactly(tmp_path):
    mesh = mesh_8()
    params, opt_state, average, key, upcoming = _save_full(tmp_path, mesh)
    it = grain_iterator()
    with Checkpointer(tmp_path) as ckpt:
        assert ckpt.latest_step() == 5
        out = ckpt.restore(abstract_params=abstract_tree(params),
                           abstract_opt_state=abstract_tree(opt_state),
                           abstract_polyak=abstract_tree(average), data_iterator=it)
    assert out["step"] == 5
    assert_trees_equal(out["params"], params)
    assert_trees_equal(out["opt_state"], opt_state)  # NamedTuple chain, count included
    assert type(out["opt_state"][0]) is type(opt_state[0])
    assert_trees_equal(out["polyak"], average)
    assert out["state"]["step"] == 5 and out["state"]["seen"] == 12 and out["state"]["epoch"] == 0.25
    restored_key = decode_key(out["state"]["rng"])
    np.testing.assert_array_equal(jax.random.key_data(restored_key), jax.random.key_data(key))
    assert out["config"] == {"lr": 1e-2, "model": {"depth": 2}}
    for expected in upcoming:  # the data position is restored in place
        np.testing.assert_array_equal(next(it), expected)


def test_restore_lands_on_the_requested_sharding(tmp_path):
    mesh = mesh_8()
    params, opt_state, _, _, _ = _save_full(tmp_path, mesh)
    target = abstract_tree(params)
    with Checkpointer(tmp_path) as ckpt:
        out = ckpt.restore(abstract_params=target, abstract_opt_state=abstract_tree(opt_state))
    got = jax.tree.map(lambda x: x.sharding, out["params"])
    want = jax.tree.map(lambda x: x.sharding, target)
    assert got == want
    kernel = out["params"]["dense"]["kernel"]
    assert {s.data.shape for s in kernel.addressable_shards} == {(2, 6)}  # 8 rows / fsdp=4
    assert out["polyak"] is None  # not asked for


def test_optional_items_may_be_absent(tmp_path):
    params, opt_state, _ = trained_state(mesh_8())
    with Checkpointer(tmp_path, async_save=False) as ckpt:
        assert ckpt.save(1, params=params, opt_state=opt_state, state={})
        out = ckpt.restore(1, abstract_params=abstract_tree(params),
                           abstract_opt_state=abstract_tree(opt_state),
                           abstract_polyak=abstract_tree(params))
    assert out["polyak"] is None and out["config"] is None
    assert out["state"] == {"step": 1}


def test_an_existing_step_is_never_overwritten(tmp_path):
    params, opt_state, _ = trained_state(mesh_8())
    with Checkpointer(tmp_path) as ckpt:
        assert ckpt.save(3, params=params, opt_state=opt_state, state={"tag": "first"})
        ckpt.wait()
        before = tree_digest(ckpt.step_dir(3))
        other = jax.tree.map(lambda x: x + 1, params)
        assert not ckpt.save(3, params=other, opt_state=opt_state, state={"tag": "second"})
        assert not ckpt.save(3, params=other, opt_state=opt_state, state={}, force=True)
        ckpt.wait()
        assert tree_digest(ckpt.step_dir(3)) == before
        # An older step than the newest is skipped unless forced.
        assert not ckpt.save(2, params=params, opt_state=opt_state, state={})
        assert ckpt.save(2, params=params, opt_state=opt_state, state={}, force=True)
        ckpt.wait()
        assert ckpt.all_steps() == [2, 3]


def test_async_save_survives_donating_the_arrays_right_after(tmp_path):
    """The trainer donates params to the next step while the save is still writing."""
    params, opt_state, _ = trained_state(mesh_8())
    expected = host(params)
    bump = jax.jit(lambda t: jax.tree.map(lambda x: x * 0 + 7, t), donate_argnums=0)
    with Checkpointer(tmp_path) as ckpt:
        assert ckpt.save(1, params=params, opt_state=opt_state, state={})
        params = jax.block_until_ready(bump(params))
        ckpt.wait()
        out = ckpt.restore(abstract_params=abstract_tree(params),
                           abstract_opt_state=abstract_tree(opt_state))
    assert_trees_equal(out["params"], expected)


def test_model_state_item_round_trips(tmp_path):
    """Non-trained variables (BatchNorm batch_stats) resume too."""
    mesh = mesh_8()
    params, opt_state, _ = trained_state(mesh)
    model_state = {"batch_stats": {"mean": jnp.arange(6.0), "var": jnp.ones(6) * 2}}
    with Checkpointer(tmp_path, async_save=False) as ckpt:
        ckpt.save(4, params=params, opt_state=opt_state, state={}, model_state=model_state)
        out = ckpt.restore(abstract_params=abstract_tree(params),
                           abstract_opt_state=abstract_tree(opt_state),
                           abstract_model_state=abstract_tree(model_state))
        assert_trees_equal(out["model_state"], model_state)
        out = ckpt.restore(abstract_params=abstract_tree(params),
                           abstract_opt_state=abstract_tree(opt_state))
        assert out["model_state"] is None


def test_a_relative_workdir_saves_and_restores(tmp_path, monkeypatch):
    """``--workdir runs/x`` as typed: orbax's OCDBT store needs absolute paths, so the
    Checkpointer resolves them (the demo's Makefile target uses a relative workdir)."""
    monkeypatch.chdir(tmp_path)
    mesh = mesh_8()
    params, opt_state, _, _, _ = _save_full("runs/x", mesh, async_save=True)
    assert (tmp_path / "runs" / "x" / "checkpoints" / "5").is_dir()
    with Checkpointer("runs/x") as ckpt:
        out = ckpt.restore(abstract_params=abstract_tree(params),
                           abstract_opt_state=abstract_tree(opt_state))
    assert_trees_equal(out["params"], params)
    # and the plain-orbax reader (herolion eval, model_init) takes relative paths too
    from herolion.checkpoints.plain import read_params
    got = read_params("runs/x")
    jax.tree.map(np.testing.assert_array_equal, got, jax.device_get(params))
