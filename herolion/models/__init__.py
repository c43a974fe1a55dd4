"""Model zoo: ``create(name, **kwargs) -> flax.linen.Module``.

Names: vit, mixer, resnet, coatnet, text, two_towers. Image models are called as
``model.apply(vars, images[B, H, W, 3], train=bool)`` and return logits ``[B, num_classes]``
(``num_classes=0`` returns the pooled representation instead). ResNet and CoAtNet keep
BatchNorm statistics in the 'batch_stats' collection: pass ``mutable=['batch_stats']`` with
``train=True``. ``model.init`` returns variables whose params are boxed with logical axis
names (``nn.LogicallyPartitioned``); ``flax.linen.unbox`` gives the plain pytree, and
``herolion.models.sharding.logical_to_mesh_sharding`` maps the boxed tree to shardings.

Only jax/flax/numpy are imported here; each family module is imported when first created.
"""
from __future__ import annotations

import importlib
import inspect

import flax.linen as nn
import jax

from herolion.errors import ConfigError

NAMES = ("vit", "mixer", "resnet", "coatnet", "text", "two_towers")


def create(name: str, /, **kwargs) -> nn.Module:
    """Builds model ``name`` from big_vision-style kwargs (``variant='B/16'``, ...)."""
    if name not in NAMES:
        raise ConfigError(f"model_name: unknown model {name!r}; known: {', '.join(NAMES)}")
    module = importlib.import_module(f"herolion.models.{name}")
    try:
        return module.create(**kwargs)
    except TypeError as err:
        # dataclass __init__ rejects an unknown keyword: name the field.
        bad = [k for k in kwargs if k not in _fields(module)]
        if bad:
            raise ConfigError(
                f"model.{bad[0]}: unknown argument for {name!r}; known: "
                f"{', '.join(sorted(_fields(module)))}") from None
        raise ConfigError(f"model: {err}") from None


def _fields(module) -> set[str]:
    cls = module.MODEL
    names = set(inspect.signature(cls).parameters) - {"parent", "name"}
    return names | set(inspect.signature(module.create).parameters) - {"kw", "kwargs"}


def count_params(params) -> int:
    """Number of scalars in a (boxed or plain, concrete or abstract) params tree."""
    leaves = jax.tree.leaves(nn.unbox(params))
    return int(sum(int(_size(x.shape)) for x in leaves))


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
