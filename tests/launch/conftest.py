"""A prepared ``digits`` dataset shared by the CLI tests of one session, and a tiny demo
run straight to its end (once per module that asks) to compare other runs against."""
import pytest

from tests.launch.cli_helpers import run_cli, tiny_args


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    from herolion.data.prepare import prepare
    path = tmp_path_factory.mktemp("tfds")
    prepare("digits", path)
    return str(path)


@pytest.fixture(scope="module")
def straight_run(digits_dir, tmp_path_factory):
    """The workdir of an uninterrupted 40-step tiny demo run on one CPU device."""
    workdir = tmp_path_factory.mktemp("straight")
    proc = run_cli(*tiny_args(digits_dir, workdir))
    assert proc.returncode == 0, proc.stdout[-3000:]
    return workdir
