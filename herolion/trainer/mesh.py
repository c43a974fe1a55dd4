"""A device mesh from a config: named axes (data / fsdp / tensor ...) with sizes or -1.

``config.mesh = [("data", -1)]`` is plain data parallelism over every device;
``[("data", 2), ("fsdp", -1)]`` shards params and optimizer state over 'fsdp' (FSDP).
A ``-1`` takes whatever the other axes leave; the product must equal the device count.
"""
from __future__ import annotations

import math

import jax
import numpy as np
from jax.sharding import Mesh

from herolion.errors import ConfigError

DEFAULT_MESH = (("data", -1),)


def parse_mesh(spec) -> list[tuple[str, int]]:
    """Accepts ``[(name, size), ...]``, a ``{name: size}`` dict or ``"data=2,fsdp=-1"``."""
    if spec is None or spec == "" or spec == ():
        spec = DEFAULT_MESH
    if isinstance(spec, str):
        items = []
        for part in filter(None, spec.split(",")):
            name, sep, size = part.partition("=")
            if not sep:
                raise ConfigError(f"config.mesh: expected NAME=SIZE, got {part!r}")
            items.append((name.strip(), size.strip()))
        spec = items
    elif hasattr(spec, "items"):
        spec = list(spec.items())
    out = []
    for item in spec:
        try:
            name, size = item
            size = int(size)
        except (TypeError, ValueError):
            raise ConfigError(f"config.mesh: entries must be (name, size), got {item!r}") from None
        if size == 0 or size < -1:
            raise ConfigError(f"config.mesh: axis {name!r} has size {size}; use >= 1 or -1")
        if name in (n for n, _ in out):
            raise ConfigError(f"config.mesh: axis {name!r} appears twice")
        out.append((str(name), size))
    if sum(size == -1 for _, size in out) > 1:
        raise ConfigError("config.mesh: at most one axis may have size -1")
    return out


def make_mesh(spec=None, devices=None) -> Mesh:
    """The ``Mesh`` over ``devices`` (default: all, across processes) for ``spec``."""
    devices = list(jax.devices() if devices is None else devices)
    axes = parse_mesh(spec)
    known = math.prod(size for _, size in axes if size != -1)
    if any(size == -1 for _, size in axes):
        if len(devices) % known:
            raise ConfigError(f"config.mesh: fixed axes ({known} devices) do not divide "
                              f"the {len(devices)} devices")
        axes = [(n, len(devices) // known if s == -1 else s) for n, s in axes]
    shape = tuple(size for _, size in axes)
    if math.prod(shape) != len(devices):
        raise ConfigError(f"config.mesh: {dict(axes)} needs {math.prod(shape)} devices, "
                          f"there are {len(devices)}")
    try:
        from jax.experimental import mesh_utils
        grid = mesh_utils.create_device_mesh(shape, devices=devices)
    except (ValueError, NotImplementedError, AssertionError):
        grid = np.asarray(devices).reshape(shape)
    return Mesh(grid, tuple(name for name, _ in axes))


def data_axes(mesh: Mesh) -> tuple[str, ...]:
    """Mesh axes the batch is split over: every axis but 'tensor' (data and fsdp)."""
    return tuple(name for name in mesh.axis_names if name != "tensor")
