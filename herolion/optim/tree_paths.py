"""'/'-joined parameter paths ("Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel").

Per-parameter rules in configs (lr_mults, wd_mults, frozen) are regexes over these
paths, matched with ``re.fullmatch`` — the convention big_vision users know.
"""
import re

import jax
import optax


def _key_name(key) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def tree_paths(tree) -> list[str]:
    """The '/'-joined path of every leaf of ``tree``, in ``jax.tree.leaves`` order."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return ["/".join(_key_name(k) for k in path) for path, _ in flat]


def map_with_path(fn, tree):
    """``jax.tree.map`` where ``fn(path, leaf)`` also sees the leaf's '/'-joined path."""
    return jax.tree_util.tree_map_with_path(
        lambda path, leaf: fn("/".join(_key_name(k) for k in path), leaf), tree)


def first_match(rules, path: str):
    """Index of the first ``(regex, value)`` rule whose regex fully matches ``path``."""
    for i, (pattern, _) in enumerate(rules):
        if re.fullmatch(pattern, path):
            return i
    return None


def is_masked(x) -> bool:
    """Leaves that ``optax.multi_transform`` hides from an inner transform."""
    return isinstance(x, optax.MaskedNode)
