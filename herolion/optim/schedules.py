"""Learning-rate schedules in steps: linear warmup from 0, then a decay to the end.

``η(step)`` for the optax convention that the first update sees ``step = 0``.
The paper trains with cosine decay after 10k warmup steps.
"""
import math

import jax.numpy as jnp

from herolion.errors import ConfigError
from herolion.optim import _validate

DECAY_TYPES = ("cosine", "linear", "rsqrt", "constant")


def warmup_then_decay(peak: float, total_steps: int, warmup_steps: int = 0,
                      decay_type: str = "cosine", end_ratio: float = 0.0,
                      timescale: int = 10_000, field: str = "schedule"):
    """``step -> η_t``: ``peak·step/warmup`` for ``step < warmup``, then

    - cosine:   ``peak·(r + (1 − r)·½(1 + cos(π·p)))``, p = progress after warmup ∈ [0, 1]
    - linear:   ``peak·(1 − (1 − r)·p)``
    - rsqrt:    ``peak / √(1 + (step − warmup)/timescale)`` (no end; ``total_steps`` unused)
    - constant: ``peak``

    with r = ``end_ratio`` (final η as a fraction of the peak).
    """
    _validate.check_learning_rate(peak, "lr")
    if decay_type not in DECAY_TYPES:
        raise ConfigError(f"{field}.decay_type: unknown {decay_type!r}; known: "
                          + ", ".join(DECAY_TYPES))
    if not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ConfigError(f"{field}.warmup_steps: must be an integer >= 0, got {warmup_steps!r}")
    if decay_type in ("cosine", "linear"):
        if not isinstance(total_steps, int) or total_steps <= warmup_steps:
            raise ConfigError(f"{field}: total_steps ({total_steps!r}) must be an integer "
                              f"larger than warmup_steps ({warmup_steps})")
    if not 0 <= end_ratio <= 1:
        raise ConfigError(f"{field}.end_ratio: must be in [0, 1], got {end_ratio!r}")
    _validate.check_positive(timescale, f"{field}.timescale")

    def schedule(step):
        step = jnp.asarray(step, jnp.float32)
        after = step - warmup_steps
        if decay_type == "cosine":
            p = jnp.clip(after / (total_steps - warmup_steps), 0.0, 1.0)
            decayed = end_ratio + (1 - end_ratio) * 0.5 * (1 + jnp.cos(math.pi * p))
        elif decay_type == "linear":
            p = jnp.clip(after / (total_steps - warmup_steps), 0.0, 1.0)
            decayed = 1 - (1 - end_ratio) * p
        elif decay_type == "rsqrt":
            decayed = 1 / jnp.sqrt(1 + jnp.maximum(after, 0.0) / timescale)
        else:
            decayed = jnp.ones_like(step)
        if warmup_steps:
            decayed = jnp.where(step < warmup_steps, step / warmup_steps, decayed)
        return peak * decayed

    return schedule
