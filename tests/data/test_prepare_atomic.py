"""A half-written dataset is never read as complete; preparing again finishes it."""
import os
import subprocess
import sys
import textwrap

import pytest

from herolion.errors import ConfigError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KILLED_MIDWAY = textwrap.dedent("""
    import os, sys
    from herolion.data import builders, prepare
    real = builders.Digits._example
    count = [0]
    def dying(self, *args):
        count[0] += 1
        if count[0] == 500:
            os._exit(7)  # like a SIGKILL: no cleanup at all
        return real(self, *args)
    builders.Digits._example = dying
    prepare.prepare("digits", sys.argv[1])
""")


def test_killed_prepare_leaves_no_dataset(tmp_path):
    from herolion.data import prepare, source
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 7, proc.stderr[-2000:]
    leftovers = os.listdir(tmp_path / "digits")
    assert "1.0.0" not in leftovers and any("incomplete" in f for f in leftovers)
    with pytest.raises(ConfigError, match="not prepared"):
        source.open_source("digits", "train", tmp_path)
    path = prepare.prepare("digits", tmp_path)
    assert len(source.open_source("digits", "train", tmp_path)) == 1438
    assert path.endswith(os.path.join("digits", "1.0.0"))


def test_failed_prepare_cleans_up(tmp_path, monkeypatch):
    from herolion.data import builders, prepare

    def boom(self, *args):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(builders.Digits, "_example", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        prepare.prepare("digits", tmp_path)
    assert not os.path.exists(tmp_path / "digits" / "1.0.0")
