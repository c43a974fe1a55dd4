"""The planner: per-device bytes of everything a train step holds, for any mesh.

Two steps, so a search over meshes stays cheap: :func:`analyse` traces the model and the
optimizers once (``jax.eval_shape``: abstract, never allocated); :func:`layout` maps those
abstract trees onto a mesh of any size (an ``AbstractMesh``) with the trainer's own rules.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from herolion import models, optim
from herolion.errors import ConfigError
from herolion.models import sharding as model_sharding
from herolion.plan import activations, shards
from herolion.trainer import setup
from herolion.trainer import sharding as trainer_sharding

#: ``--optimizer`` names -> (optimizer, config.optax); 'config' is the config's own.
VARIANTS = {
    "lion": ("lion", {}),
    "lion_bf16": ("lion", {"mu_dtype": "bfloat16"}),
    "adamw": ("adamw", {}),
    "adafactorw": ("adafactorw", {}),
    "sgdm": ("sgdm", {}),
}
IMAGE_MODELS = ("vit", "mixer", "resnet", "coatnet")
#: Mesh axes whose weight shards each device all-gathers to compute (FSDP's).
GATHERED = ("fsdp",)
SIZE_OPS = ("resize", "central_crop", "random_crop", "inception_crop",
            "decode_jpeg_and_inception_crop")


@dataclasses.dataclass
class Analysis:
    """Everything mesh-independent: abstract trees and per-example activation bytes."""
    config: Any
    image_size: tuple[int, int]
    boxed: Any                    # boxed abstract variables (logical axis names)
    params: Any
    model_state: Any
    polyak: Any                   # abstract average, or None
    opt_states: dict[str, Any]    # label -> abstract optimizer state
    trainable: Any                # params-shaped bools: False for frozen (lr_mults None)
    act_per_example: dict[str, int]
    remat_scan: bool              # blocks under nn.scan + remat (one layer live at a time)
    num_classes: int              # 4-byte label values per example (classes, or text tokens)
    param_count: int


def image_size(config, override=None) -> tuple[int, int]:
    """``--image-size``, else the last resize/crop op of ``config.input.pp``."""
    from herolion.data.preprocess import parse_op, split_ops
    if override:
        return (int(override), int(override))
    pp = (config.get("input") or {}).get("pp") or ""
    size = None
    for text in split_ops(pp) if isinstance(pp, str) else ():
        name, args, kwargs = parse_op(text, "config.input.pp")
        value = kwargs.get("size", args[0] if args else None)
        if name in SIZE_OPS and value is not None:
            size = value
    if size is None:
        raise ConfigError("--image-size: config.input.pp sets no image size (resize or "
                          "crop); pass --image-size N")
    return tuple(size) if isinstance(size, (list, tuple)) else (int(size), int(size))


def variant_config(config, label):
    """A copy of ``config`` with the optimizer named by ``label`` (its default kwargs)."""
    if label == "config":
        return config
    name, optax_kwargs = VARIANTS[label]
    out = copy.deepcopy(config)
    out.optimizer = name
    out.optax = dict(optax_kwargs)
    return out


def analyse(config, optimizers=("config",), image=None) -> Analysis:
    """Traces the model and each optimizer's state abstractly (seconds even for ViT-G)."""
    from herolion.trainer import contrastive, losses
    name = config.get("model_name")
    if not name:
        raise ConfigError("config.model_name: missing")
    two_towers = name == "two_towers"
    if name not in IMAGE_MODELS and not two_towers:
        raise ConfigError(f"config.model_name: plan covers image classifiers "
                          f"({', '.join(IMAGE_MODELS)}) and two_towers, got {name!r}")
    model = models.create(name, **dict(config.get("model", {}) or {}))
    size = image_size(config, image)
    example = jnp.zeros((1, *size, 3), jnp.float32)
    text_len = None
    inputs = (example,)
    if two_towers:   # LiT: images and [B, max_len] tokens; the label is the text
        text_len = int(((config.get("model") or {}).get("text") or {}).get("max_len", 64))
        inputs = (example, jnp.zeros((1, text_len), jnp.int32))
    boxed = jax.eval_shape(lambda rng: model.init({"params": rng, "dropout": rng}, *inputs,
                                                  train=False), jax.random.PRNGKey(0))
    variables = dict(nn.unbox(boxed))
    params = variables.pop("params")
    opt_states = {}
    for label in optimizers:
        tx = optim.build(variant_config(config, label), params)
        opt_states[label] = jax.eval_shape(tx.init, params)
    decay, dtype = setup.polyak_config(config)
    polyak = None if decay is None else jax.tree.map(
        lambda p: jax.ShapeDtypeStruct(p.shape, dtype or p.dtype), params)
    loss_fn = (contrastive.get(config.get("loss", "softmax_contrastive")) if two_towers
               else losses.get(config.get("loss", "softmax_xent")))
    trainable = jax.tree.map(lambda m: m is not None,
                             optim.builder.lr_multipliers(config, params),
                             is_leaf=lambda m: m is None)
    acts = activations.per_example(model, params, variables, (*size, 3), loss_fn, trainable,
                                   text_len)
    if two_towers:
        label_elems = text_len
    else:
        logits = jax.eval_shape(lambda p, s: model.apply({"params": p, **s}, example,
                                                         train=False), params, variables)
        label_elems = int(np.prod(logits.shape[1:]))
    return Analysis(config=config, image_size=size, boxed=boxed, params=params,
                    model_state=variables, polyak=polyak, opt_states=opt_states,
                    trainable=trainable,
                    act_per_example=acts, remat_scan=_remat_scan(model),
                    num_classes=label_elems,
                    param_count=optim.param_count(params))


def batch_per_device(config, axes) -> tuple[int, int]:
    """``(per-device batch, micro-batch)`` from ``config.input.batch_size`` on ``axes``."""
    batch = (config.get("input") or {}).get("batch_size")
    devices = shards.data_devices(axes)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"config.input.batch_size: must be a positive integer, got {batch!r}")
    if batch % devices:
        raise ConfigError(f"config.input.batch_size: {batch} is not divisible by the {devices} "
                          "devices of the batch axes")
    accum = config.get("accum_steps", 1)
    if isinstance(accum, bool) or not isinstance(accum, int) or accum < 1 \
            or (batch // devices) % accum:
        raise ConfigError(f"config.accum_steps: must be a positive integer dividing the "
                          f"per-device batch {batch // devices}, got {accum!r}")
    return batch // devices, batch // devices // accum


def layout(analysis: Analysis, axes: dict[str, int], per_device: int, micro: int,
           rules=None) -> dict[str, Any]:
    """Bytes per device on a mesh with ``axes``: one entry per item, 'opt' per optimizer."""
    rules = setup.rules_from(analysis.config) if rules is None else rules
    mesh = shards.abstract_mesh(axes)
    var_shardings = model_sharding.logical_to_mesh_sharding(analysis.boxed, mesh, rules)
    p_shard = var_shardings["params"]
    params = shards.device_bytes(analysis.params, p_shard, axes)
    accum = per_device // micro
    height, width = analysis.image_size
    acts = analysis.act_per_example
    out = {
        "params": params,
        "grads": (2 if accum > 1 else 1) * _trainable_bytes(analysis, p_shard, axes),
        "gathered": _gathered(analysis, p_shard, axes),
        "polyak": 0 if analysis.polyak is None else shards.device_bytes(analysis.polyak,
                                                                        p_shard, axes),
        "model_state": sum(shards.device_bytes(analysis.model_state[k], var_shardings[k], axes)
                           for k in analysis.model_state),
        "batch": per_device * (height * width * 3 + analysis.num_classes) * 4,
        "activations": micro * (acts["saved"] + acts["recompute"]),
        "opt": {},
    }
    for label, state in analysis.opt_states.items():
        s_shard = trainer_sharding.mirror_shardings(state, analysis.params, p_shard, mesh)
        out["opt"][label] = shards.device_bytes(state, s_shard, axes)
    base = sum(v for k, v in out.items() if k != "opt")
    out["total"] = {label: base + b for label, b in out["opt"].items()}
    return out


def _trainable_bytes(analysis: Analysis, p_shard, axes) -> int:
    """Per-device bytes of the params that get a gradient (frozen leaves get none)."""
    def pick(tree):
        return jax.tree.map(lambda x, t: x if t else None, tree, analysis.trainable)
    return shards.device_bytes(pick(analysis.params), pick(p_shard), axes)


def _gathered(analysis: Analysis, p_shard, axes) -> int:
    """FSDP's extra bytes: weights all-gathered over 'fsdp'. Without per-layer remat the
    gathered weights stay alive for the backward pass (all layers); with scan + remat a
    layer is re-gathered in the backward pass, so one layer's weights plus its full-size
    gradient before the reduce-scatter are live (2 layers' worth)."""
    boxes = jax.tree.leaves(analysis.boxed["params"], is_leaf=_is_box)
    total = 0
    for leaf, box, sharding in zip(jax.tree.leaves(analysis.params), boxes,
                                   jax.tree.leaves(p_shard)):
        extra = (shards.device_bytes(leaf, sharding, axes, GATHERED)
                 - shards.device_bytes(leaf, sharding, axes))
        names = tuple(getattr(box, "names", ()) or ())
        if analysis.remat_scan and "layers" in names:
            extra = 2 * extra // leaf.shape[names.index("layers")]
        total += extra
    return int(total)


def _remat_scan(model) -> bool:
    return bool(getattr(model, "scan", False)) and getattr(model, "remat_policy", "none") != "none"


def _is_box(x) -> bool:
    return isinstance(x, nn.meta.AxisMetadata)


def no_fsdp_axes(axes: dict[str, int]) -> dict[str, int]:
    """Same devices, all on 'data' (plus 'tensor' if any): params replicated."""
    out = {"data": shards.data_devices(axes)}
    if axes.get("tensor", 1) > 1:
        out["tensor"] = axes["tensor"]
    return out


def min_devices(analysis: Analysis, hbm: int, label: str = "config", *, per_device=None,
                global_batch=None, limit: int = 65536):
    """Smallest N such that a pure FSDP mesh ``fsdp=N`` fits ``hbm`` per device, at a fixed
    ``per_device`` batch (N: every count up to 64, then multiples of 8) or splitting a fixed
    ``global_batch`` (N: its divisors). Indivisible dims stay replicated, as in training."""
    if (per_device is None) == (global_batch is None):
        raise ValueError("give exactly one of per_device and global_batch")
    n = 1
    while n <= limit:
        batch = per_device or (global_batch // n if global_batch % n == 0 else None)
        if batch and layout(analysis, {"fsdp": n}, batch, batch)["total"][label] <= hbm:
            return n
        n += 1 if n < 64 else 8
    return None
