"""Turn a trainer config into one ``optax.GradientTransformation``.

Config keys (big_vision names where it has one)::

    optimizer       'lion' | 'adamw' | 'adafactorw' | 'sgdm'
    lr, wd          peak learning rate η and decoupled decay λ (effective decay η_t·λ)
    optax           extra constructor kwargs, e.g. dict(b1=0.9, b2=0.99, mu_dtype='bfloat16')
    schedule        dict(decay_type='cosine', warmup_steps=10_000, end_ratio=0., timescale=...)
                    (None or missing: constant η); needs ``total_steps`` for cosine/linear
    total_steps     length of the run, in steps
    grad_clip_norm  clip gradients to this global norm first (None/0: off)
    lr_mults        [(regex, multiplier | None), ...] over '/'-joined param paths; the first
                    full match wins; ``None`` freezes the leaf: no update AND no optimizer state
    wd_mults        [(regex, multiplier), ...]; the first full match wins, else the default

Default decay: every parameter with >= 2 dims is decayed except position embeddings and
class/probe tokens; biases, norm scales (1-D) and scalars are never decayed by default.
"""
import inspect
import numbers
import re

import jax
import jax.numpy as jnp
import optax

from herolion.errors import ConfigError
from herolion.optim import _validate, decay, schedules
from herolion.optim.adafactorw import adafactorw
from herolion.optim.adamw import adamw
from herolion.optim.lion import lion
from herolion.optim.sgdm import sgdm
from herolion.optim.tree_paths import first_match, map_with_path, tree_paths

OPTIMIZERS = {"lion": lion, "adamw": adamw, "adafactorw": adafactorw, "sgdm": sgdm}
NO_DECAY_NAMES = r"(.*/)?(pos_embedding|posemb\w*|cls|class_token|probe)"
_OWN_ARGS = ("learning_rate", "weight_decay", "mask")  # set by the builder itself


def _get(config, key, default=None):
    value = config.get(key, default) if hasattr(config, "get") else getattr(config, key, default)
    return default if value is None else value


def default_decays(path: str, leaf) -> bool:
    """Whether a parameter is decayed when no ``wd_mults`` rule names it."""
    return len(leaf.shape) >= 2 and not re.fullmatch(NO_DECAY_NAMES, path)


def _check_rules(rules, field: str, paths, allow_none: bool):
    """Rules are (regex, value) pairs; every regex must compile and match some path."""
    rules = [tuple(rule) for rule in (rules or ())]
    for i, rule in enumerate(rules):
        if len(rule) != 2:
            raise ConfigError(f"config.{field}[{i}]: must be a (regex, multiplier) pair, got {rule!r}")
        pattern, value = rule
        try:
            re.compile(pattern)
        except (re.error, TypeError) as err:
            raise ConfigError(f"config.{field}[{i}]: bad regex {pattern!r}: {err}") from None
        if not any(re.fullmatch(pattern, p) for p in paths):
            raise ConfigError(f"config.{field}[{i}]: regex {pattern!r} matches no parameter "
                              f"(paths look like {paths[0]!r})")
        ok_none = allow_none and value is None
        if not ok_none and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                            or value < 0):
            want = "a number >= 0 or None (frozen)" if allow_none else "a number >= 0"
            raise ConfigError(f"config.{field}[{i}]: multiplier must be {want}, got {value!r}")
    return rules


def lr_multipliers(config, params):
    """Per-leaf lr multiplier: a number, or None for a frozen leaf."""
    rules = _check_rules(_get(config, "lr_mults", ()), "lr_mults", tree_paths(params), True)

    def mult(path, _):
        i = first_match(rules, path)
        return 1.0 if i is None else rules[i][1]

    return map_with_path(mult, params)


def weight_decays(config, params):
    """Per-leaf λ: ``config.wd`` times the matching ``wd_mults`` value or the default 0/1."""
    wd = _validate.check_nonnegative(_get(config, "wd", 0.0), "config.wd")
    rules = _check_rules(_get(config, "wd_mults", ()), "wd_mults", tree_paths(params), False)

    def leaf_wd(path, leaf):
        i = first_match(rules, path)
        mult = rules[i][1] if i is not None else float(default_decays(path, leaf))
        return wd * mult

    return map_with_path(leaf_wd, params)


def build_schedule(config):
    """``step -> η_t`` from ``config.lr``, ``config.schedule`` and ``config.total_steps``."""
    lr = _get(config, "lr")
    if lr is None:
        raise ConfigError("config.lr: missing (the peak learning rate)")
    _validate.check_learning_rate(lr, "config.lr")
    spec = _get(config, "schedule", {})
    if isinstance(spec, str):
        spec = {"decay_type": spec}
    spec = dict(spec)
    known = {"decay_type", "warmup_steps", "end_ratio", "timescale"}
    for key in spec:
        if key not in known:
            raise ConfigError(f"config.schedule.{key}: unknown key; known: {', '.join(sorted(known))}")
    return schedules.warmup_then_decay(
        lr, _get(config, "total_steps"), warmup_steps=spec.get("warmup_steps", 0),
        decay_type=spec.get("decay_type", "constant"), end_ratio=spec.get("end_ratio", 0.0),
        timescale=spec.get("timescale", 10_000), field="config.schedule")


def _constructor_kwargs(name, kwargs):
    ctor = OPTIMIZERS[name]
    allowed = [p for p in inspect.signature(ctor).parameters if p not in _OWN_ARGS]
    out = {}
    for key, value in dict(kwargs or {}).items():
        if key not in allowed:
            raise ConfigError(f"config.optax.{key}: not an option of {name}; known: "
                              + ", ".join(allowed))
        if key == "mu_dtype" and isinstance(value, str):
            try:
                value = jnp.dtype(value)
            except TypeError:
                raise ConfigError(f"config.optax.mu_dtype: unknown dtype {value!r}") from None
        out[key] = value
    return out


def build(config, params) -> optax.GradientTransformation:
    """The optimizer a config names, with schedule, clipping, per-leaf rules and frozen leaves.

    ``params`` may be abstract (``jax.ShapeDtypeStruct`` leaves): only paths and shapes
    are read. Raises :class:`ConfigError` naming the field for any bad value.
    """
    name = _get(config, "optimizer")
    if name not in OPTIMIZERS:
        raise ConfigError(f"config.optimizer: unknown {name!r}; known: " + ", ".join(OPTIMIZERS))
    kwargs = _constructor_kwargs(name, _get(config, "optax", {}))
    schedule = build_schedule(config)
    lr_mults = lr_multipliers(config, params)
    wds = weight_decays(config, params)
    try:
        core = OPTIMIZERS[name](schedule, weight_decay=wds, **kwargs)
    except ConfigError as err:
        raise ConfigError(f"config.optax.{err}") from None

    parts = []
    clip = _get(config, "grad_clip_norm", 0.0)
    if _validate.check_nonnegative(clip, "config.grad_clip_norm"):
        parts.append(optax.clip_by_global_norm(clip))
    parts.append(core)
    mults = [m for m in _leaves(lr_mults) if m is not None]
    if any(m != 1 for m in mults):
        parts.append(decay.scale_per_leaf(lr_mults))
    tx = optax.chain(*parts) if len(parts) > 1 else core

    if len(mults) == len(_leaves(lr_mults)):
        return tx
    labels = jax.tree.map(lambda m: "frozen" if m is None else "train", lr_mults,
                          is_leaf=lambda x: x is None)
    return optax.multi_transform({"train": tx, "frozen": optax.set_to_zero()}, labels)



def _leaves(tree):
    return jax.tree.leaves(tree, is_leaf=lambda x: x is None)
