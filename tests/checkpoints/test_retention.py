"""keep-last-N plus keep-every-K, and the save interval (big_vision's ckpt_steps)."""
import pytest

from herolion.checkpoints import Checkpointer
from herolion.errors import ConfigError
from tests.checkpoints.helpers import make_params, mesh_8


def _on_disk(ckpt):
    return sorted(int(p.name) for p in ckpt.directory.iterdir() if p.name.isdigit())


def test_keep_last_n_plus_every_k(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path, keep_last=2, keep_every=4) as ckpt:
        for step in range(1, 11):
            assert ckpt.save(step, params=params, opt_state={}, state={})
        ckpt.wait()
        assert ckpt.all_steps() == [4, 8, 9, 10]
        assert _on_disk(ckpt) == [4, 8, 9, 10]
    # A new process sees the same steps and keeps applying the rule.
    with Checkpointer(tmp_path, keep_last=2, keep_every=4) as ckpt:
        assert ckpt.latest_step() == 10
        assert ckpt.save(11, params=params, opt_state={}, state={})
        ckpt.wait()
        assert _on_disk(ckpt) == [4, 8, 10, 11]


def test_keep_last_only(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path, keep_last=1, async_save=False) as ckpt:
        for step in (5, 10, 15):
            assert ckpt.save(step, params=params, opt_state={}, state={})
        assert _on_disk(ckpt) == [15]


def test_save_interval_and_force(tmp_path):
    params = make_params(mesh_8())
    with Checkpointer(tmp_path, keep_last=10, save_interval_steps=3) as ckpt:
        started = [s for s in range(1, 8) if ckpt.save(s, params=params, opt_state={}, state={})]
        assert started == [3, 6]
        assert ckpt.should_save(9) and not ckpt.should_save(10)
        assert ckpt.save(7, params=params, opt_state={}, state={}, force=True)  # e.g. the last step
        ckpt.wait()
        assert ckpt.all_steps() == [3, 6, 7]


@pytest.mark.parametrize("kw", [{"keep_last": 0}, {"keep_every": -2}, {"keep_last": 1.5},
                                {"save_interval_steps": 0}])
def test_bad_retention_settings(tmp_path, kw):
    with pytest.raises(ConfigError, match="checkpoints\\.") as err:
        Checkpointer(tmp_path, **kw)
    assert "\n" not in str(err.value)
