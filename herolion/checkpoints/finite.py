"""The NaN/Inf guard: stop a diverged run *before* it can write a checkpoint.

A NaN loss means the params are (or are about to be) garbage; saving them would replace
the last good checkpoint under keep-last-N. The trainer calls :func:`check_finite` on
the step's metrics before it saves, so a diverged run stops with a message naming the
step and the metric, and resuming picks up the last good step.
"""
import numpy as np


class NonFiniteError(RuntimeError):
    """A metric was NaN or ±Inf; ``step`` and ``names`` say where."""

    def __init__(self, step: int, names: list[str], values: list[str]):
        self.step = int(step)
        self.names = list(names)
        pairs = ", ".join(f"{n}={v}" for n, v in zip(names, values))
        super().__init__(f"step {self.step}: non-finite metric {pairs}; stopping without "
                         "saving, so the last good checkpoint is kept (a lower lr may help)")


def check_finite(step: int, metrics: dict) -> None:
    """Raise :class:`NonFiniteError` if any metric has a NaN or Inf value.

    Values may be Python numbers, numpy or jax arrays (any shape; reading them waits
    for the device). Non-numeric values are ignored. All offending metrics are named,
    in sorted order, on one line.
    """
    bad_names, bad_values = [], []
    for name in sorted(metrics):
        value = _as_array(metrics[name])
        if value is None or value.size == 0:
            continue
        if not np.all(np.isfinite(value)):
            bad_names.append(str(name))
            bad_values.append(_describe(value))
    if bad_names:
        raise NonFiniteError(step, bad_names, bad_values)


def _as_array(value):
    """A float (or complex) numpy array, or None for values that cannot be non-finite."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return None
    try:
        array = np.asarray(value)
        if array.dtype.kind in "fc":
            return array
        if array.dtype.kind in "iubSUO":
            return None
        return array.astype(np.float32)  # bfloat16, float8 (ml_dtypes)
    except (TypeError, ValueError):
        return None


def _describe(array) -> str:
    if array.size == 1:
        return str(array.reshape(()).item())
    bad = int(np.sum(~np.isfinite(array)))
    return f"<{bad} of {array.size} non-finite>"
