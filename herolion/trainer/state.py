"""The train state: one pytree the step consumes and returns (donated, sharded).

``model_state`` holds non-param collections (BatchNorm's ``batch_stats``); ``polyak`` is the
parameter average (None when off); ``rng`` is the run's base key — the step folds the
step number into it, so a resumed run replays exactly the same randomness.
"""
from __future__ import annotations

from typing import Any

import flax.struct
import jax


@flax.struct.dataclass
class TrainState:
    step: jax.Array
    params: Any
    opt_state: Any
    model_state: Any
    polyak: Any
    rng: jax.Array
