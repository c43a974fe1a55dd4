"""What a workdir says about its run: newest checkpoint, last metrics, who is running it.

Read by ``herolion status`` and ``herolion cancel``; everything comes from files the
trainer and ``herolion submit`` write (``checkpoints/``, ``metrics.jsonl``,
``launch/local.json`` or ``launch/slurm.json``), so it works from any machine that sees
the workdir.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from herolion.errors import ConfigError


def workdir_path(workdir) -> Path:
    path = Path(workdir)
    if not path.is_dir():
        raise ConfigError(f"--workdir: no such directory {workdir}")
    return path


def latest_checkpoint(workdir: Path) -> int | None:
    """The newest committed step (orbax writes unfinished steps under a tmp name)."""
    ckpt = workdir / "checkpoints"
    steps = [int(p.name) for p in ckpt.iterdir() if p.name.isdigit()] if ckpt.is_dir() else []
    return max(steps) if steps else None


def last_metrics(workdir: Path) -> dict | None:
    path = workdir / "metrics.jsonl"
    if not path.is_file():
        return None
    for line in reversed(path.read_text().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue            # a line being written right now
    return None


def launch_record(workdir: Path) -> dict | None:
    """The submission record: local pids or a SLURM job id (the newest one written)."""
    launch = workdir / "launch"
    records = list(launch.glob("*.json")) if launch.is_dir() else []
    if not records:
        return None
    newest = max(records, key=lambda p: p.stat().st_mtime)
    return json.loads(newest.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
