"""Logical axis names -> mesh axes (data / fsdp / tensor).

Models only name their axes ('embed', 'mlp', 'heads', 'kv', 'vocab', 'layers', ...); the
trainer picks a rule set here and maps an abstract variable tree to ``NamedSharding``s.
Keeping the names in the models and the rules here means a giant model is sharded by
changing a config line, never the model code.

Logical names used by herolion.models:
  batch   activations' leading axis            embed   model width (d_model)
  mlp     MLP hidden width                      heads   attention heads
  kv      per-head width                        vocab   token-embedding rows
  classes head outputs                          length  sequence / token positions
  layers  stacked-layer axis under nn.scan      norm    LayerNorm/BatchNorm params
  conv_in conv input channels                   conv_out conv output channels
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
from flax.core import meta
from jax.sharding import NamedSharding, PartitionSpec as P

Rules = Sequence[tuple[str, Any]]

#: Fully sharded data parallel: weights split over 'fsdp' along their width, the hidden
#: MLP/heads axes over 'tensor' (absent or size 1 on a pure FSDP mesh), batch over both
#: data axes.
FSDP_RULES: Rules = (
    ("batch", ("data", "fsdp")),
    ("embed", "fsdp"),
    ("conv_out", "fsdp"),
    ("mlp", "tensor"),
    ("heads", "tensor"),
    ("vocab", "tensor"),
    ("kv", None),
    ("classes", None),
    ("length", None),
    ("layers", None),
    ("norm", None),
    ("conv_in", None),
)

#: Plain data parallel: weights replicated, batch split over every data-like axis.
DATA_PARALLEL_RULES: Rules = (("batch", ("data", "fsdp")),)

DEFAULT_RULES = FSDP_RULES


def _is_box(x) -> bool:
    return isinstance(x, meta.AxisMetadata)


def _fit(spec_entry, dim: int, mesh_shape: dict[str, int]):
    """Keeps the mesh axes of one dimension that exist and divide it; else replicates."""
    if spec_entry is None:
        return None
    axes = (spec_entry,) if isinstance(spec_entry, str) else tuple(spec_entry)
    axes = tuple(a for a in axes if a in mesh_shape and mesh_shape[a] > 1)
    if not axes or dim % math.prod(mesh_shape[a] for a in axes):
        return None
    return axes[0] if len(axes) == 1 else axes


#: Logical dims never chosen for an FSDP fallback: a scan's stacked layer axis is sliced
#: one layer per iteration, so sharding it would gather the whole stack.
NO_FALLBACK = ("layers",)


def _batch_axes(rules: Rules) -> tuple[str, ...]:
    for name, axes in rules:
        if name == "batch":
            return () if axes is None else ((axes,) if isinstance(axes, str) else tuple(axes))
    return ()


def _fsdp_fallback(entries, names, shape, raw, mesh_shape, rules):
    """Re-places a batch-like mesh axis (FSDP: weights gathered before use, so *which*
    dimension holds the shards is free) that its rule's dimension could not take — e.g.
    ViT-G's width 1664 on fsdp=256 — onto the largest other unsharded named dimension it
    divides (its MLP width 8192), as big_vision's FSDP does. Tensor-parallel axes never
    move; unnamed dims (a conv's spatial ones) are not candidates."""
    used = {a for e in entries if e is not None for a in ((e,) if isinstance(e, str) else e)}
    wanted = [a for e in raw if e is not None for a in ((e,) if isinstance(e, str) else e)]
    for axis in wanted:
        if axis in used or axis not in _batch_axes(rules) or mesh_shape.get(axis, 1) <= 1:
            continue
        free = [i for i, (e, n) in enumerate(zip(entries, names))
                if e is None and n is not None and n not in NO_FALLBACK
                and shape[i] % mesh_shape[axis] == 0]
        if free:
            entries[max(free, key=lambda i: (shape[i], -i))] = axis
            used.add(axis)
    return entries


def mesh_spec(names: Sequence[str | None], shape: Sequence[int], mesh_shape: dict[str, int],
              rules: Rules | None = None) -> P:
    """The PartitionSpec for one array of ``shape`` with logical ``names`` on a mesh.

    Dimensions a mesh axis doesn't divide (or whose axis the mesh lacks) are replicated;
    an FSDP axis that loses its dimension that way moves to the largest other dimension
    it divides (see ``_fsdp_fallback``).
    """
    rules = DEFAULT_RULES if rules is None else rules
    raw = tuple(nn.logical_to_mesh_axes(tuple(names), rules))
    entries = [_fit(e, d, mesh_shape) for e, d in zip(raw, shape)]
    entries = _fsdp_fallback(entries, tuple(names), tuple(shape), raw, mesh_shape, rules)
    while entries and entries[-1] is None:
        entries.pop()
    return P(*entries)


def logical_specs(abstract_vars) -> Any:
    """Logical PartitionSpecs (names, not mesh axes) of a boxed variable tree."""
    return nn.get_partition_spec(abstract_vars)


def logical_to_mesh_sharding(abstract_vars, mesh: jax.sharding.Mesh,
                             rules: Rules | None = None) -> Any:
    """NamedShardings for a variable tree (boxed, e.g. ``jax.eval_shape(model.init, ...)``).

    The result has the structure of the *unboxed* tree (``nn.unbox(abstract_vars)``).
    Unannotated leaves (e.g. BatchNorm statistics) are replicated; so is every dimension a
    mesh axis does not divide.
    """
    mesh_shape = dict(mesh.shape)

    def one(leaf):
        if _is_box(leaf) and hasattr(leaf, "names"):
            value = leaf.unbox() if not hasattr(leaf, "value") else leaf.value
            return NamedSharding(mesh, mesh_spec(leaf.names, value.shape, mesh_shape, rules))
        return NamedSharding(mesh, P())

    return jax.tree.map(one, abstract_vars, is_leaf=_is_box)


def constrain_batch(x):
    """Shards an activation's leading axis with the 'batch' rule, when a mesh is set.

    A no-op outside ``jax.set_mesh(mesh)`` + ``nn.logical_axis_rules(rules)``; mesh axes the
    batch size does not divide are dropped, so odd eval batches still run.
    """
    mesh = jax.sharding.get_abstract_mesh()
    rules = nn.get_logical_axis_rules()
    if mesh.empty or not rules:
        return x
    spec = mesh_spec(("batch",), x.shape[:1], dict(mesh.shape), rules)
    batch_axes = spec[0] if len(spec) else None
    safe_rules = (("batch", batch_axes),)
    return nn.with_logical_constraint(x, ("batch",) + (None,) * (x.ndim - 1), rules=safe_rules)
