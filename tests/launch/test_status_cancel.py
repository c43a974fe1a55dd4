"""`herolion status` and `herolion cancel` read the workdir's records (no training here)."""
import json
import subprocess
import sys

from herolion.launch import cli


def make_workdir(tmp_path, record):
    workdir = tmp_path / "run"
    (workdir / "checkpoints" / "10").mkdir(parents=True)
    (workdir / "checkpoints" / "20").mkdir()
    (workdir / "checkpoints" / "30.orbax-checkpoint-tmp-1").mkdir()     # unfinished: ignored
    (workdir / "metrics.jsonl").write_text('{"step": 10, "loss": 2.0}\n{"step": 20, "loss": 1.5}\n'
                                           '{"step": 2')                # being written
    (workdir / "launch").mkdir()
    (workdir / "launch" / "local.json").write_text(json.dumps(record))
    return workdir


def test_status_reports_checkpoint_metrics_and_live_processes(tmp_path, capsys):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        workdir = make_workdir(tmp_path, {"cluster": "local", "pids": [sleeper.pid, 2 ** 22 + 7]})
        assert cli.main(["status", "--workdir", str(workdir), "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["checkpoint_step"] == 20
        assert info["last_metrics"] == {"step": 20, "loss": 1.5}
        assert info["processes"] == {str(sleeper.pid): True, str(2 ** 22 + 7): False}
        assert cli.main(["status", "--workdir", str(workdir)]) == 0
        out = capsys.readouterr().out
        assert "checkpoint: step 20" in out and "1 of 2 alive" in out
    finally:
        sleeper.kill()
        sleeper.wait()


def test_cancel_sends_sigterm_to_recorded_processes(tmp_path, capsys):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        workdir = make_workdir(tmp_path, {"cluster": "local", "pids": [sleeper.pid]})
        assert cli.main(["cancel", "--workdir", str(workdir)]) == 0
        assert sleeper.wait(timeout=10) == -15
        assert "sent SIGTERM to 1 process" in capsys.readouterr().out
    finally:
        if sleeper.poll() is None:
            sleeper.kill()


def test_status_and_cancel_bad_workdir(tmp_path, capsys):
    assert cli.main(["status", "--workdir", str(tmp_path / "missing")]) == 2
    assert "--workdir: no such directory" in capsys.readouterr().err
    assert cli.main(["cancel", "--workdir", str(tmp_path)]) == 2
    assert "no submission record" in capsys.readouterr().err
