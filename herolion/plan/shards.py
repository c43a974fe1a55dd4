"""Per-device bytes from partition specs and mesh axis sizes, by arithmetic alone.

Why no devices: the planner answers "does ViT-G fit on fsdp=256?" on a laptop. A
``jax.sharding.AbstractMesh`` carries only axis names and sizes, so the trainer's own
sharding code (logical rules, ``mirror_shardings``) runs unchanged on it; each leaf then
holds ``ceil(dim / prod(mesh axes of dim))`` elements per device along every sharded dim.
"""
from __future__ import annotations

import math

import jax
import numpy as np
from jax.sharding import AbstractMesh

from herolion.errors import ConfigError

#: Mesh axes the batch is split over (every axis but 'tensor'), as trainer.mesh.data_axes.
NOT_DATA = ("tensor",)


def parse_axes(spec, field: str = "--mesh") -> dict[str, int]:
    """``'data=2,fsdp=256'`` (or a config's mesh) -> ``{'data': 2, 'fsdp': 256}``."""
    from herolion.trainer.mesh import parse_mesh
    try:
        axes = parse_mesh(spec)
    except ConfigError as err:
        raise ConfigError(f"{field}: {str(err).removeprefix('config.mesh: ')}") from None
    for name, size in axes:
        if size == -1:
            raise ConfigError(f"{field}: axis {name!r} is -1; the planner needs every size "
                              "(e.g. data=2,fsdp=256)")
    return dict(axes)


def abstract_mesh(axes: dict[str, int]) -> AbstractMesh:
    return AbstractMesh(tuple(axes.values()), tuple(axes))


def data_devices(axes: dict[str, int]) -> int:
    return math.prod(size for name, size in axes.items() if name not in NOT_DATA)


def shard_shape(shape, spec, axes: dict[str, int]) -> tuple[int, ...]:
    """The largest per-device block of an array of ``shape`` laid out by ``spec``."""
    out = list(shape)
    for i, entry in enumerate(tuple(spec)[:len(out)]):
        if entry is None:
            continue
        names = (entry,) if isinstance(entry, str) else tuple(entry)
        out[i] = -(-out[i] // math.prod(axes[n] for n in names))
    return tuple(out)


def device_bytes(abstract, shardings, axes: dict[str, int], gathered=()) -> int:
    """Bytes one device holds of ``abstract`` (ShapeDtypeStructs) under ``shardings``;
    mesh axes in ``gathered`` count as all-gathered (as FSDP does with weights)."""
    axes = {name: 1 if name in gathered else size for name, size in axes.items()}
    leaves = [x for x in jax.tree.leaves(abstract) if hasattr(x, "shape")]
    specs = jax.tree.leaves(shardings)
    if len(leaves) != len(specs):
        raise ValueError(f"{len(leaves)} arrays but {len(specs)} shardings")
    return int(sum(math.prod(shard_shape(x.shape, s.spec, axes)) * np.dtype(x.dtype).itemsize
                   for x, s in zip(leaves, specs)))
