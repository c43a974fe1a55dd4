"""A dead peer is noticed: SIGKILL one of two local processes, the other exits within the
heartbeat timeout (no silent hang), `submit` fails, and a resubmission resumes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.launch.cli_helpers import cli_env

HEARTBEAT_S = 10
DEMO = "herolion/configs/demo.py"


def submit(workdir, digits_dir, steps):
    argv = [str(Path(sys.executable).with_name("herolion")), "submit", "--num-processes", "2",
            "--heartbeat-timeout", str(HEARTBEAT_S), "--max-restarts", "0",
            "--config", f"{DEMO}:steps={steps},width=16,depth=1,batch=32,data_dir={digits_dir}",
            "--workdir", str(workdir), "--config.log_steps=5", "--config.ckpt_steps=10",
            "--config.async_checkpoints=False"]
    return subprocess.Popen(argv, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def committed(workdir):
    ckpt = workdir / "checkpoints"
    return sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) if ckpt.exists() else []


def test_killing_one_process_stops_the_other_and_resubmission_resumes(digits_dir, tmp_path):
    workdir = tmp_path / "run"
    proc = submit(workdir, digits_dir, steps=100000)
    try:
        deadline = time.time() + 300
        while not committed(workdir):
            assert proc.poll() is None and time.time() < deadline, "no checkpoint"
            time.sleep(0.2)
        pids = json.loads((workdir / "launch" / "local.json").read_text())["pids"]
        os.kill(pids[1], signal.SIGKILL)
        killed_at = time.time()
        out, _ = proc.communicate(timeout=HEARTBEAT_S * 6)
        waited = time.time() - killed_at
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode not in (0, 75), out
    assert waited < HEARTBEAT_S * 6, waited
    last = max(committed(workdir))
    # the resubmission (a shorter run, so it ends soon) starts from the newest checkpoint
    again = submit(workdir, digits_dir, steps=last + 10)
    out, _ = again.communicate(timeout=300)
    log0 = (workdir / "logs" / "process_0.log").read_text()
    assert again.returncode == 0, out + log0[-3000:]
    assert f"resumed from step {last}" in log0
    assert max(committed(workdir)) == last + 10
