"""`herolion export`: a run's params (or Polyak average) as a big_vision .npz, read back
exactly by `load_npz` into the model's own template; bad input is one line, exit 2."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.checkpoints import Checkpointer
from herolion.launch import cli
from herolion.models import create
from herolion.models.npz import load_npz
from herolion.models.transformer import scanned_to_unscanned
from tests.models.helpers import fake_init

IMAGES = jnp.zeros((1, 16, 16, 3))


def model(**kw):
    return create("vit", variant="mu/8", num_classes=10, **kw)


def save_run(workdir, params, polyak=None, step=3):
    with Checkpointer(workdir, async_save=False) as ckpt:
        ckpt.save(step, params=params, opt_state={"mu": params}, polyak=polyak,
                  state={"rng": [0, 1]})


def assert_same(got, want):
    assert jax.tree.structure(got) == jax.tree.structure(want)
    jax.tree.map(np.testing.assert_array_equal, got, want)


def test_exports_params_or_the_polyak_average_exactly(tmp_path, capsys):
    params = fake_init(model(), IMAGES)["params"]
    polyak = fake_init(model(), IMAGES, seed=1)["params"]
    save_run(tmp_path / "run", params, polyak)
    template = jax.eval_shape(lambda: model().init(jax.random.key(0), IMAGES))["params"]

    assert cli.main(["export", "--workdir", str(tmp_path / "run"), "--out",
                     str(tmp_path / "auto.npz")]) == 0
    assert "polyak of step 3" in capsys.readouterr().out
    assert_same(load_npz(tmp_path / "auto.npz", template), polyak)

    assert cli.main(["export", "--workdir", str(tmp_path / "run" / "checkpoints" / "3"),
                     "--params", "params", "--out", str(tmp_path / "new" / "p.npz")]) == 0
    assert_same(load_npz(tmp_path / "new" / "p.npz", template), params)
    assert not list(tmp_path.rglob(".*.partial"))


def test_a_scanned_encoder_is_written_unscanned_unless_kept(tmp_path):
    scanned = fake_init(model(scan=True), IMAGES)["params"]
    save_run(tmp_path / "run", scanned)
    plain = jax.eval_shape(lambda: model().init(jax.random.key(0), IMAGES))["params"]
    assert cli.main(["export", "--workdir", str(tmp_path / "run"), "--out",
                     str(tmp_path / "vit.npz")]) == 0
    with np.load(tmp_path / "vit.npz") as f:
        assert "Transformer/encoderblock_1/MlpBlock_0/Dense_0/kernel" in f.files
    assert_same(load_npz(tmp_path / "vit.npz", plain), scanned_to_unscanned(scanned))

    stacked = jax.eval_shape(lambda: model(scan=True).init(jax.random.key(0), IMAGES))["params"]
    assert cli.main(["export", "--workdir", str(tmp_path / "run"), "--keep-scan", "--out",
                     str(tmp_path / "scan.npz")]) == 0
    assert_same(load_npz(tmp_path / "scan.npz", stacked), scanned)


@pytest.mark.parametrize("args,match", [
    (["--workdir", "{tmp}/nope"], "checkpoint {tmp}/nope: does not exist"),
    (["--workdir", "{tmp}/run", "--params", "polyak"], "has no polyak/ item"),
    (["--workdir", "{tmp}/run", "--step", "7"], "no step 7 (have 3)"),
    (["--workdir", "{tmp}/run", "--out", "{tmp}/blocker/x.npz"],
     "--out {tmp}/blocker: exists and is not a directory"),
    (["--workdir", "{tmp}/run", "--out", "{tmp}"], "--out {tmp}: is a directory"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, match):
    save_run(tmp_path / "run", fake_init(model(), IMAGES)["params"])
    (tmp_path / "blocker").write_text("a file")
    argv = [a.format(tmp=tmp_path) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out.npz")]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert cli.main(["export", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match.format(tmp=tmp_path) in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
