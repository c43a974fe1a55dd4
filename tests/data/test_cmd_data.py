"""`herolion data prepare` through its argparse parser (as cli.main wires it)."""
import argparse

import pytest

from herolion.errors import ConfigError
from herolion.launch import cmd_data


def parse(argv):
    parser = argparse.ArgumentParser(prog="herolion")
    cmd_data.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_prepare_prints_path_and_is_idempotent(data_dir, capsys):
    args = parse(["data", "prepare", "digits", "--data-dir", data_dir, "--image-size", "32"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip().endswith("digits/1.0.0")


def test_image_folder_via_cli(tmp_path, capsys):
    from PIL import Image
    (tmp_path / "src" / "a").mkdir(parents=True)
    Image.new("RGB", (5, 4), (1, 2, 3)).save(tmp_path / "src" / "a" / "x.png")
    args = parse(["data", "prepare", "image_folder", "--data-dir", str(tmp_path / "d"),
                  "--source-dir", str(tmp_path / "src")])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip().endswith("image_folder/1.0.0")


@pytest.mark.parametrize("argv, pattern", [
    (["data", "prepare", "mnist", "--data-dir", "D"], r"^name: unknown dataset 'mnist'"),
    (["data", "prepare", "image_folder", "--data-dir", "D"], r"^--source-dir: required"),
    (["data", "prepare", "digits", "--data-dir", "D", "--source-dir", "S"], r"only for image_folder"),
    (["data", "prepare", "digits", "--data-dir", "D", "--image-size", "0"], r"^image_size"),
])
def test_bad_input(tmp_path, monkeypatch, argv, pattern):
    monkeypatch.chdir(tmp_path)
    args = parse(argv)
    with pytest.raises(ConfigError, match=pattern):
        args.func(args)


def test_data_dir_is_required():
    with pytest.raises(SystemExit):
        parse(["data", "prepare", "digits"])
