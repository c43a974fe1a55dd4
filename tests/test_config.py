"""Config files, ``FILE.py:ARGS`` and typed ``--config.a.b=VALUE`` overrides."""
import json

import pytest

from herolion import config as config_lib
from herolion.errors import ConfigError

CONFIG = '''
from herolion.config import parse_arg
from ml_collections import ConfigDict

def get_config(arg=None):
    a = parse_arg(arg, steps=10, name="x", fast=False, lr=1e-3)
    return ConfigDict(dict(total_steps=a.steps, name=a.name, fast=a.fast, lr=a.lr,
                           input=dict(batch_size=8, pp="decode"), mesh=[("data", -1)]))
'''


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text(CONFIG)
    return path


def test_args_are_typed_by_their_defaults(config_file):
    c = config_lib.load_config(f"{config_file}:steps=20,name=vit,fast,lr=3e-4")
    assert (c.total_steps, c.name, c.fast, c.lr) == (20, "vit", True, 3e-4)


def test_overrides_keep_types_and_reach_nested_fields(config_file):
    c = config_lib.load_config(str(config_file), ["--config.lr=0.5", "--config.input.batch_size=16",
                                                  "--config.input.pp=decode|flip_lr",
                                                  "--config.mesh=[('data', 2), ('fsdp', 4)]"])
    assert c.lr == 0.5 and isinstance(c.lr, float)
    assert c.input.batch_size == 16 and c.input.pp == "decode|flip_lr"
    assert list(c.mesh) == [("data", 2), ("fsdp", 4)]


@pytest.mark.parametrize("spec, overrides, field", [
    ("{f}:stepz=3", [], "config arg 'stepz'"),
    ("{f}:steps=abc", [], "config arg steps"),
    ("{f}", ["--config.input.batch_size=1.5"], "--config.input.batch_size"),
    ("{f}", ["--config.lr=fast"], "--config.lr"),
    ("{f}", ["--config.fast=maybe"], "--config.fast"),
    ("{f}", ["--config.nope.x=1"], "--config.nope"),
    ("{f}", ["--config.input"], "--config.input"),
    ("{f}", ["--config.input=3"], "--config.input"),
    ("/no/such/file.py", [], "--config: no such file"),
])
def test_bad_configs_name_the_field(config_file, spec, overrides, field):
    with pytest.raises(ConfigError, match=f"^{field}") as err:
        config_lib.load_config(spec.format(f=config_file), overrides)
    assert "\n" not in str(err.value)


def test_broken_config_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def get_config(:\n")
    with pytest.raises(ConfigError, match="failed to load: SyntaxError"):
        config_lib.load_config(str(bad))


def test_saved_config_round_trips(config_file, tmp_path):
    c = config_lib.load_config(str(config_file))
    path = config_lib.save_config(c, tmp_path)
    assert json.loads(path.read_text())["input"]["batch_size"] == 8
    assert config_lib.load_saved_config(tmp_path).total_steps == 10
