"""Build (abstractly first, then directly sharded) everything a run carries.

Nothing here allocates a full copy on one device: the model is initialised under
``jax.jit(..., out_shardings=...)`` so params and optimizer state are born sharded.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from herolion import models, optim
from herolion.errors import ConfigError
from herolion.models import sharding as model_sharding
from herolion.trainer import frozen, sharding
from herolion.trainer.state import TrainState


@dataclasses.dataclass
class Built:
    model: Any
    tx: Any
    schedule: Any
    abstract: TrainState        # ShapeDtypeStructs
    shardings: TrainState       # NamedShardings, same structure
    init: Any                   # jitted () -> TrainState, born sharded
    init_from: Any              # jitted (params) -> TrainState: fine-tuning starts
    frozen_mask: Any = None     # params-shaped bools (True: frozen), or None
    init_params: Any = None     # jitted () -> fresh params, born sharded


def rules_from(config):
    name = config.get("sharding_rules", "fsdp")
    table = {"fsdp": model_sharding.FSDP_RULES, "data_parallel": model_sharding.DATA_PARALLEL_RULES}
    if isinstance(name, str):
        if name not in table:
            raise ConfigError(f"config.sharding_rules: unknown {name!r}; known: {', '.join(table)}")
        return table[name]
    return tuple(tuple(r) for r in name)


def rules_for_mesh(rules, mesh):
    """Rules with mesh axes the mesh lacks (or has with size 1) removed, so models'
    annotations never name an axis that does not exist."""
    live = {name for name, size in mesh.shape.items() if size > 1}
    out = []
    for logical, axes in rules:
        if axes is None:
            out.append((logical, None))
            continue
        kept = tuple(a for a in ((axes,) if isinstance(axes, str) else axes) if a in live)
        out.append((logical, kept[0] if len(kept) == 1 else (kept or None)))
    return tuple(out)


def polyak_config(config):
    """``(decay, dtype)`` or ``(None, None)`` when Polyak averaging is off."""
    cfg = config.get("polyak")
    if not cfg:
        return None, None
    decay = cfg.get("decay", 0.9999) if hasattr(cfg, "get") else float(cfg)
    if not isinstance(decay, (int, float)) or not 0 <= decay < 1:
        raise ConfigError(f"config.polyak.decay: must be in [0, 1), got {decay!r}")
    dtype = cfg.get("dtype") if hasattr(cfg, "get") else None
    return float(decay), (jnp.dtype(dtype) if dtype else None)


def build(config, mesh, example_images, example_texts=None) -> Built:
    """Model, optimizer and the sharded initial state for ``example_images``' shape
    (and ``example_texts``' for two-tower models, which take both)."""
    model_name = config.get("model_name")
    if not model_name:
        raise ConfigError("config.model_name: missing")
    model = models.create(model_name, **dict(config.get("model", {}) or {}))
    rules = rules_from(config)
    example = jax.ShapeDtypeStruct((1,) + tuple(example_images.shape[1:]), jnp.float32)
    seed = config.get("seed", 0)
    if not isinstance(seed, int):
        raise ConfigError(f"config.seed: must be an integer, got {seed!r}")

    inputs = [jax.ShapeDtypeStruct(example.shape, example.dtype)]
    if example_texts is None and model_name == "two_towers":
        text_len = ((config.get("model") or {}).get("text") or {}).get("max_len", 64)
        example_texts = jax.ShapeDtypeStruct((1, text_len), jnp.int32)
    if example_texts is not None:
        inputs.append(jax.ShapeDtypeStruct((1,) + tuple(example_texts.shape[1:]), jnp.int32))

    def init_variables(rng):
        return model.init({"params": rng, "dropout": rng},
                          *(jnp.zeros(x.shape, x.dtype) for x in inputs), train=False)

    boxed = jax.eval_shape(init_variables, jax.random.PRNGKey(0))
    var_shardings = model_sharding.logical_to_mesh_sharding(boxed, mesh, rules)
    abstract_vars = nn.unbox(boxed)
    abstract_params = abstract_vars["params"]
    param_shardings = var_shardings["params"]
    model_state_shardings = {k: v for k, v in var_shardings.items() if k != "params"}

    tx = optim.build(config, abstract_params)
    frozen_mask = frozen.mask_from_config(config, abstract_params)
    schedule = optim.build_schedule(config)
    abstract_opt = jax.eval_shape(tx.init, abstract_params)
    opt_shardings = sharding.mirror_shardings(abstract_opt, abstract_params, param_shardings, mesh)
    decay, polyak_dtype = polyak_config(config)
    polyak_shardings = param_shardings if decay is not None else None
    rep = sharding.replicated(mesh)
    shardings = TrainState(step=rep, params=param_shardings, opt_state=opt_shardings,
                           model_state=model_state_shardings, polyak=polyak_shardings, rng=rep)

    def init_state(params=None):
        base = jax.random.PRNGKey(seed)
        variables = nn.unbox(init_variables(jax.random.fold_in(base, 0)))
        fresh = variables.pop("params")
        params = fresh if params is None else params
        return TrainState(
            step=jnp.zeros([], jnp.int32), params=params, opt_state=tx.init(params),
            model_state=dict(variables),
            polyak=optim.polyak.init(params, polyak_dtype) if decay is not None else None,
            rng=jax.random.fold_in(base, 1))

    abstract = jax.eval_shape(init_state)
    init = jax.jit(init_state, out_shardings=shardings)
    init_from = jax.jit(init_state, in_shardings=(param_shardings,), out_shardings=shardings)
    init_params = jax.jit(lambda: init_state().params, out_shardings=param_shardings)
    return Built(model=model, tx=tx, schedule=schedule, abstract=abstract,
                 shardings=shardings, init=init, init_from=init_from, frozen_mask=frozen_mask,
                 init_params=init_params)


def with_shardings(abstract, shardings):
    """ShapeDtypeStructs carrying their target sharding (what a sharded restore needs)."""
    return jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
                        abstract, shardings)
