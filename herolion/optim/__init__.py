"""Optimizers as optax ``GradientTransformation``s: Lion, AdamW, AdafactorW, SGD-momentum.

All four share the paper's decoupled decay ``θ ← θ − η_t (update + λ θ)``. Drop any of
them into plain JAX/optax code, or let :func:`build` make one from a trainer config.
"""
from herolion.optim import polyak
from herolion.optim.adafactorw import adafactorw, scale_by_adafactor
from herolion.optim.adamw import adamw
from herolion.optim.builder import OPTIMIZERS, build, build_schedule
from herolion.optim.decay import add_decayed_weights, scale_per_leaf
from herolion.optim.lion import ScaleByLionState, lion, scale_by_lion
from herolion.optim.memory import param_count, state_bytes, tree_bytes
from herolion.optim.schedules import warmup_then_decay
from herolion.optim.sgdm import sgdm

__all__ = [
    "OPTIMIZERS", "ScaleByLionState", "adafactorw", "adamw", "add_decayed_weights", "build",
    "build_schedule", "lion", "param_count", "polyak", "scale_by_adafactor", "scale_by_lion",
    "scale_per_leaf", "sgdm", "state_bytes", "tree_bytes", "warmup_then_decay",
]
