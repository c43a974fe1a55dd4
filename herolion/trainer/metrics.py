"""Where metrics go: TensorBoard event files (:mod:`.tensorboard`, no TensorFlow) and
``WORKDIR/metrics.jsonl``.

Only process 0 writes; every other process gets a writer that drops everything, so the
loop calls ``write`` unconditionally. One JSON object per line: ``{"step": N, ...}``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path


def _plain(value):
    value = float(value)
    return value if math.isfinite(value) else str(value)


class MetricsWriter:
    def __init__(self, workdir, *, primary: bool = True, tensorboard: bool = True):
        self.primary = primary
        self._jsonl = None
        self._tb = None
        if not primary:
            return
        self._jsonl = open(Path(workdir) / "metrics.jsonl", "a", buffering=1)
        if tensorboard:
            from herolion.trainer.tensorboard import ScalarWriter
            self._tb = ScalarWriter(workdir)

    def write(self, step: int, scalars: dict):
        if not self.primary or not scalars:
            return
        row = {"step": int(step), **{k: _plain(v) for k, v in scalars.items()}}
        self._jsonl.write(json.dumps(row) + "\n")
        if self._tb is not None:
            self._tb.write_scalars(int(step), {k: float(v) for k, v in scalars.items()})

    def flush(self):
        if self._tb is not None:
            self._tb.flush()

    def close(self):
        if self._tb is not None:
            self._tb.close()
        if self._jsonl is not None:
            self._jsonl.close()
