"""A prepared ``digits`` dataset shared by the CLI tests of one session."""
import pytest


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    from herolion.data.prepare import prepare
    path = tmp_path_factory.mktemp("tfds")
    prepare("digits", path)
    return str(path)
