"""Shardings for everything the train step carries: params, optimizer state, batches.

Params get theirs from the models' logical axis names (``herolion.models.sharding``).
Optimizer state mirrors them: a state leaf whose path ends with a parameter's path and has
that parameter's shape takes its sharding (Lion's momentum, Adam's m and v); a leaf with
one axis fewer (Adafactor's row/column statistics) takes the parameter's spec without that
axis; everything else (step counters, placeholders) is replicated. This works for any
optax chain, ``multi_transform`` (frozen leaves) included, without knowing its state types.
"""
from __future__ import annotations

import jax
from jax.sharding import NamedSharding, PartitionSpec as P

from herolion.trainer.mesh import data_axes


def replicated(mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def batch_sharding(mesh) -> NamedSharding:
    """Leading (batch) axis split over the data-like mesh axes."""
    return NamedSharding(mesh, P(data_axes(mesh)))


def _keys(path) -> tuple:
    return tuple(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))) for k in path)


def _spec_without_axis(spec: P, ndim: int, axis: int) -> P:
    entries = list(spec) + [None] * (ndim - len(spec))
    del entries[axis]
    while entries and entries[-1] is None:
        entries.pop()
    return P(*entries)


def mirror_shardings(abstract_state, abstract_params, param_shardings, mesh):
    """Shardings for an optimizer-state tree that follow the params' shardings."""
    params = {}
    for (path, leaf), sharding in zip(jax.tree_util.tree_flatten_with_path(abstract_params)[0],
                                      jax.tree.leaves(param_shardings)):
        params[_keys(path)] = (tuple(leaf.shape), sharding.spec)

    def one(path, leaf):
        keys = _keys(path)
        shape = tuple(getattr(leaf, "shape", ()))
        for start in range(len(keys)):
            found = params.get(keys[start:])
            if found is None:
                continue
            p_shape, spec = found
            if shape == p_shape:
                return NamedSharding(mesh, spec)
            if len(shape) == len(p_shape) - 1:
                for axis in range(len(p_shape)):
                    if p_shape[:axis] + p_shape[axis + 1:] == shape:
                        return NamedSharding(mesh, _spec_without_axis(spec, len(p_shape), axis))
            break
        return replicated(mesh)

    return jax.tree_util.tree_map_with_path(one, abstract_state)
