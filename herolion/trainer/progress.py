"""Progress with rates and ETA, from wall-clock time between reports.

``report(step)`` returns steps/s, images/s/device and seconds left, measured since the
previous report (the first report after a (re)start measures from the start, compile
time included; later ones show the steady state).
"""
from __future__ import annotations

import datetime
import time


class Progress:
    def __init__(self, total_steps: int, global_batch: int, num_devices: int, start_step: int = 0):
        self.total, self.batch, self.devices = total_steps, global_batch, num_devices
        self._t, self._step = time.perf_counter(), start_step

    def report(self, step: int) -> dict:
        now = time.perf_counter()
        steps = max(step - self._step, 0)
        dt = max(now - self._t, 1e-9)
        self._t, self._step = now, step
        steps_per_sec = steps / dt
        eta = (self.total - step) / steps_per_sec if steps_per_sec > 0 else float("inf")
        return {"steps_per_sec": steps_per_sec,
                "images_per_sec_per_device": steps_per_sec * self.batch / self.devices,
                "eta_seconds": eta}

    @staticmethod
    def format(step: int, total: int, scalars: dict, rates: dict) -> str:
        eta = rates["eta_seconds"]
        eta = str(datetime.timedelta(seconds=int(eta))) if eta != float("inf") else "?"
        shown = " ".join(f"{k} {v:.4g}" for k, v in scalars.items())
        return (f"step {step}/{total} {shown} | {rates['steps_per_sec']:.2f} steps/s "
                f"{rates['images_per_sec_per_device']:.1f} img/s/device ETA {eta}")
