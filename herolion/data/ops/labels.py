"""Label ops: one-hot encoding with optional label smoothing.

``onehot(depth, key="label", key_result="labels")`` reads the integer class from
``key`` (tfds' name) and writes float32 ``[depth]`` to ``key_result`` (big_vision's
name for targets). Values are ``off`` everywhere and ``on`` at the label(s); then
``label_smoothing=s`` gives ``y * (1 - s) + s / depth``.
"""
import numpy as np

from herolion.data.ops.registry import register


def onehot_array(label, depth, *, on=1.0, off=0.0, label_smoothing=0.0):
    """Pure function behind the op; ``label`` may be an int or a sequence (multi-label)."""
    labels = np.atleast_1d(np.asarray(label, np.int64))
    if labels.size and (labels.min() < 0 or labels.max() >= depth):
        raise ValueError(f"onehot: label {label} outside 0..{depth - 1}")
    y = np.full((depth,), off, np.float32)
    y[labels] = on
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / depth
    return y.astype(np.float32)


@register("onehot")
def onehot(depth, key="label", key_result="labels", *, on=1.0, off=0.0, label_smoothing=0.0):
    depth = int(depth)
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")

    def op(example, rng):
        del rng
        y = onehot_array(example[key], depth, on=on, off=off, label_smoothing=label_smoothing)
        return {**example, key_result or key: y}
    return op
