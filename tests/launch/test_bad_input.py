"""Bad input to `herolion train`: one clear line on stderr, exit status 2, nothing touched.

Why this shape: a user's typo must never cost them a run. Every case below runs against
a copy of a workdir that already holds a real checkpoint (a tiny demo run, trained once
per module) and asserts that its ``checkpoints/`` tree and ``config.json`` are
byte-identical afterwards — a bad config that got as far as saving, or that resumed and
trained on, would change them. Most cases drive ``herolion.launch.cli.main`` in-process
(8 fake CPU devices, see tests/conftest.py) for speed; a few go through the real console
script in a subprocess (one device, like a user).
"""
import hashlib
import shutil
from pathlib import Path

import pytest

from herolion.launch import cli
from tests.launch.cli_helpers import run_cli

DEMO = "herolion/configs/demo.py"
TINY_ARGS = "width=16,depth=1,batch=32"


def spec(digits_dir, steps=20, extra=""):
    """The tiny demo config; 20 steps, so a case that wrongly ran would train past the
    trained run's step-10 checkpoint and write a new one."""
    return f"{DEMO}:steps={steps},{TINY_ARGS},data_dir={digits_dir}{extra}"


def tree_digest(workdir) -> dict:
    """{relative path: sha256} of every file under checkpoints/ plus config.json, and
    every directory (as None): a step added, removed or rewritten shows up."""
    root = Path(workdir)
    out = {}
    for path in sorted([root / "config.json", *(root / "checkpoints").rglob("*")]):
        if path.is_dir():
            out[str(path.relative_to(root))] = None
        elif path.exists():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def trained(digits_dir, tmp_path_factory):
    """A finished 10-step tiny run with a committed checkpoint at step 10."""
    workdir = tmp_path_factory.mktemp("trained") / "run"
    status = cli.main(["train", "--config", spec(digits_dir, steps=10), "--workdir", str(workdir),
                       "--config.ckpt_steps=10", "--config.log_steps=5",
                       "--config.async_checkpoints=False"])
    assert status == 0
    assert (workdir / "checkpoints" / "10").is_dir()
    return workdir


@pytest.fixture
def run_copy(trained, tmp_path):
    """A private copy of the trained run (cases may not share one: a bug could write)."""
    workdir = tmp_path / "run"
    shutil.copytree(trained, workdir)
    return workdir


def run_main(capsys, args):
    """``cli.main(args)``: (exit status, stripped stderr lines)."""
    capsys.readouterr()
    status = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return status, [line for line in err.strip().splitlines() if line.strip()]


def assert_one_line(status, lines, *fragments):
    assert status == 2, (status, lines)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("herolion train: error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


# (case id, config spec suffix or full spec, overrides, fragments the one line must contain)
# "{spec}" is the tiny demo spec; "{spec:EXTRA}" appends ",EXTRA" to its args.
CASES = [
    # model
    ("unknown-model-name", "{spec}", ["--config.model_name=vitt"], ["model_name", "'vitt'"]),
    ("unknown-model-variant", "{spec}", ["--config.model.variant=Q/16"], ["model.variant", "'Q'"]),
    ("unknown-model-kwarg", "{spec}", ["--config.model.widht=16"], ["model.widht"]),
    ("unknown-pool-type", "{spec}", ["--config.model.pool_type=max"], ["model.pool_type"]),
    ("unknown-model-dtype", "{spec}", ["--config.model.dtype=float13"], ["model.dtype"]),
    # optimizer
    ("unknown-optimizer", "{spec}", ["--config.optimizer=lamb"], ["config.optimizer", "'lamb'"]),
    ("bad-optax-kwarg", "{spec}", ["--config.optax.beta1=0.9"], ["config.optax.beta1"]),
    ("beta2-out-of-range", "{spec}", ["--config.optax.b2=1.5"], ["config.optax.b2", "1.5"]),
    ("beta1-negative", "{spec}", ["--config.optax.b1=-0.1"], ["config.optax.b1"]),
    ("unknown-mu-dtype", "{spec}", ["--config.optax.mu_dtype=float13"], ["config.optax.mu_dtype"]),
    ("negative-lr", "{spec}", ["--config.lr=-0.001"], ["config.lr", "-0.001"]),
    ("lr-as-a-string", "{spec}", ["--config.lr=fast"], ["--config.lr", "number"]),
    ("negative-wd", "{spec}", ["--config.wd=-0.1"], ["config.wd"]),
    ("negative-grad-clip", "{spec}", ["--config.grad_clip_norm=-1.0"], ["config.grad_clip_norm"]),
    ("unknown-decay-type", "{spec}", ["--config.schedule.decay_type=cosinus"],
     ["config.schedule.decay_type", "'cosinus'"]),
    ("unknown-schedule-key", "{spec}", ["--config.schedule.warmup=5"], ["config.schedule.warmup"]),
    ("negative-warmup", "{spec}", ["--config.schedule.warmup_steps=-1"],
     ["config.schedule.warmup_steps"]),
    ("lr-mults-bad-regex", "{spec}", ["--config.lr_mults=[('(', 0.5)]"], ["config.lr_mults[0]",
                                                                          "bad regex"]),
    ("lr-mults-matches-nothing", "{spec}", ["--config.lr_mults=[('nothing/.*', 0.5)]"],
     ["config.lr_mults[0]", "matches no parameter"]),
    ("lr-mults-negative", "{spec}", ["--config.lr_mults=[('head/.*', -1.0)]"],
     ["config.lr_mults[0]", "multiplier"]),
    ("polyak-decay-out-of-range", "{spec}", ["--config.polyak={'decay': 1.5}"],
     ["config.polyak.decay"]),
    ("unknown-loss", "{spec}", ["--config.loss=hinge"], ["config.loss", "'hinge'"]),
    # data
    ("unknown-dataset", "{spec}", ["--config.input.data.name=nosuchdataset"],
     ["config.input.data.name", "'nosuchdataset'"]),
    ("missing-data-dir", "{spec}", ["--config.input.data_dir=/nonexistent/tfds",
                                    "--config.input.prepare=False"], ["input.data_dir"]),
    ("empty-data-dir", "{spec}", ["--config.input.data_dir="], ["config.input.data_dir"]),
    ("unknown-dataset-unprepared", "{spec}", ["--config.input.data.name=nosuchdataset",
                                              "--config.input.prepare=False"],
     ["input.data.name", "'nosuchdataset'"]),
    ("misspelled-pp-op", "{spec}",
     ["--config.input.pp=decod|value_range(-1, 1)|onehot(10, key='label', key_result='labels')"],
     ["input.pp", "'decod'"]),
    ("unknown-eval-type", "{spec}", ["--config.evals.test.type=detection"],
     ["config.evals.test.type", "'detection'"]),
    # batch and mesh (8 devices in-process)
    ("batch-not-divisible-by-devices", "{spec}", ["--config.input.batch_size=36"],
     ["config.input.batch_size", "36"]),
    ("batch-not-divisible-by-fsdp-mesh", "{spec}", ["--config.mesh=data=2,fsdp=4",
                                                    "--config.input.batch_size=12"],
     ["config.input.batch_size", "12"]),
    ("batch-not-divisible-by-accum", "{spec}", ["--config.accum_steps=3"], ["config.accum_steps"]),
    ("mesh-larger-than-devices", "{spec}", ["--config.mesh=data=16"], ["config.mesh", "16"]),
    ("mesh-two-free-axes", "{spec}", ["--config.mesh=data=-1,fsdp=-1"], ["config.mesh", "-1"]),
    ("mesh-zero-axis", "{spec}", ["--config.mesh=data=0"], ["config.mesh"]),
    ("unknown-sharding-rules", "{spec}", ["--config.sharding_rules=zero3"],
     ["config.sharding_rules"]),
    # overrides and config files
    ("unknown-config-field", "{spec}", ["--config.totl_steps=5"], ["--config.totl_steps"]),
    ("unknown-config-section", "{spec}", ["--config.optim.lr=0.1"], ["--config.optim"]),
    ("override-without-value", "{spec}", ["--config.lr"], ["--config.lr"]),
    ("misspelled-input-key", "{spec}", ["--config.input.batchsize=64"],
     ["config.input.batchsize", "batch_size"]),
    ("misspelled-eval-key", "{spec}", ["--config.evals.test.batchsize=64"],
     ["config.evals.test.batchsize"]),
    ("misspelled-input-data-key", "{spec}", ["--config.input.data.splt=test"],
     ["config.input.data.splt", "split"]),
    ("wrong-typed-total-steps", "{spec}", ["--config.total_steps=ten"],
     ["--config.total_steps", "integer"]),
    ("wrong-typed-batch-size", "{spec}", ["--config.input.batch_size=1.5"],
     ["--config.input.batch_size"]),
    ("wrong-typed-bool", "{spec}", ["--config.input.prepare=maybe"], ["--config.input.prepare"]),
    ("float-seed", "{spec}", ["--config.seed=1.5"], ["--config.seed"]),
    ("negative-total-steps", "{spec}", ["--config.total_steps=-5"], ["config.total_steps", "-5"]),
    ("zero-log-steps", "{spec}", ["--config.log_steps=0"], ["config.log_steps"]),
    ("zero-ckpt-steps", "{spec}", ["--config.ckpt_steps=0"], ["config.ckpt_steps"]),
    ("zero-keep-ckpt", "{spec}", ["--config.keep_ckpt=0"], ["config.keep_ckpt"]),
    ("config-arg-unknown", "{spec:stepz=3}", [], ["config arg 'stepz'"]),
    ("config-arg-bad-value", "{spec:optimizer=lamb}", [], ["lamb"]),
    ("config-file-missing", "/no/such/config.py", [], ["--config", "/no/such/config.py"]),
]


def expand(text, digits_dir):
    if text == "{spec}":
        return spec(digits_dir)
    if text.startswith("{spec:"):
        return spec(digits_dir, extra="," + text[len("{spec:"):-1])
    return text


@pytest.mark.parametrize("config, overrides, fragments",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_one_line_exit_2_and_touches_nothing(capsys, digits_dir, run_copy,
                                                           config, overrides, fragments):
    before = tree_digest(run_copy)
    status, lines = run_main(capsys, ["train", "--config", expand(config, digits_dir),
                                      "--workdir", run_copy, *overrides])
    assert_one_line(status, lines, *fragments)
    assert tree_digest(run_copy) == before


CONFIG_FILES = {
    "syntax-error": ("def get_config(:\n", ["failed to load", "SyntaxError"]),
    "no-get-config": ("X = 1\n", ["defines no get_config"]),
    "get-config-raises": ("def get_config(arg=None):\n    return {}['total_steps']\n",
                          ["get_config", "KeyError"]),
    "total-steps-missing": ("from herolion.configs.demo import get_config as demo\n\n"
                            "def get_config(arg=None):\n"
                            "    c = demo(arg)\n"
                            "    del c.total_steps\n"
                            "    return c\n", ["config.total_steps", "missing"]),
}


@pytest.mark.parametrize("name", list(CONFIG_FILES))
def test_bad_config_file(capsys, digits_dir, run_copy, tmp_path, name):
    text, fragments = CONFIG_FILES[name]
    path = tmp_path / f"{name.replace('-', '_')}.py"
    path.write_text(text)
    arg = f":steps=20,{TINY_ARGS},data_dir={digits_dir}" if "demo" in text else ""
    before = tree_digest(run_copy)
    status, lines = run_main(capsys, ["train", "--config", f"{path}{arg}",
                                      "--workdir", run_copy])
    assert_one_line(status, lines, *fragments)
    assert tree_digest(run_copy) == before


def test_workdir_is_a_file(capsys, digits_dir, tmp_path):
    path = tmp_path / "a_file"
    path.write_text("not a workdir\n")
    status, lines = run_main(capsys, ["train", "--config", spec(digits_dir), "--workdir", path])
    assert_one_line(status, lines, "--workdir", str(path))
    assert path.read_text() == "not a workdir\n"


def test_workdir_not_writable(capsys, digits_dir):
    # /proc/self accepts no new entries, not even from root (file modes would not stop it).
    status, lines = run_main(capsys, ["train", "--config", spec(digits_dir),
                                      "--workdir", "/proc/self/herolion_run"])
    assert_one_line(status, lines, "--workdir", "/proc/self/herolion_run")


def corrupt_newest_step(workdir):
    """Truncate to half every data file (``d/*``) of the newest step's ``params``. Why all:
    orbax keeps a merged copy of each array file next to the per-process one it wrote,
    and only the files the merged manifest names are read; a lone truncated file may be
    an unread duplicate."""
    step_dir = max((p for p in (Path(workdir) / "checkpoints").iterdir() if p.name.isdigit()),
                   key=lambda p: int(p.name))
    victims = sorted(p for p in (step_dir / "params").rglob("*")
                     if p.is_file() and p.parent.name == "d")
    assert victims, f"no array data files under {step_dir / 'params'}"
    for victim in victims:
        data = victim.read_bytes()
        victim.write_bytes(data[: len(data) // 2])
    return victims


def test_corrupt_checkpoint_is_reported_and_left_alone(capsys, digits_dir, run_copy):
    corrupt_newest_step(run_copy)
    before = tree_digest(run_copy)
    status, lines = run_main(capsys, ["train", "--config", spec(digits_dir),
                                      "--workdir", run_copy])
    assert_one_line(status, lines, "checkpoint", "10")
    assert tree_digest(run_copy) == before


@pytest.mark.parametrize("overrides, extra", [
    (["--config.optimizer=adamw"], ""),       # Lion's state has no second moment
    ([], ",width=32"),                        # another model
], ids=["other-optimizer", "other-model"])
def test_checkpoint_from_another_run_is_refused(capsys, digits_dir, run_copy, overrides, extra):
    before = tree_digest(run_copy)
    status, lines = run_main(capsys, ["train", "--config", spec(digits_dir, extra=extra),
                                      "--workdir", run_copy, *overrides])
    assert_one_line(status, lines, "checkpoint", "does not fit")
    assert tree_digest(run_copy) == before


# -- the real console script, in a subprocess (one CPU device) -------------------------------

def assert_cli_one_line(proc, *fragments):
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("herolion train: error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_cli_unknown_optimizer(digits_dir, run_copy):
    before = tree_digest(run_copy)
    proc = run_cli("train", "--config", spec(digits_dir), "--workdir", run_copy,
                   "--config.optimizer=lamb")
    assert_cli_one_line(proc, "config.optimizer", "'lamb'")
    assert tree_digest(run_copy) == before


def test_cli_mesh_larger_than_the_one_device(digits_dir, run_copy):
    before = tree_digest(run_copy)
    proc = run_cli("train", "--config", spec(digits_dir), "--workdir", run_copy,
                   "--config.mesh=data=2")
    assert_cli_one_line(proc, "config.mesh", "there are 1")
    assert tree_digest(run_copy) == before


def test_cli_corrupt_checkpoint(digits_dir, run_copy):
    corrupt_newest_step(run_copy)
    before = tree_digest(run_copy)
    proc = run_cli("train", "--config", spec(digits_dir), "--workdir", run_copy)
    assert_cli_one_line(proc, "checkpoint", "10")
    assert tree_digest(run_copy) == before
