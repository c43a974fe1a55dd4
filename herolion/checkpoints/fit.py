"""Does a saved array item fit the tree a run wants to restore it into?

Checked from the item's orbax metadata (tree paths and global shapes) before any array is
read. Why: a changed model or optimizer then gets one line naming the first leaf that
differs, instead of orbax's structure dump, and no restore is started and abandoned half
way (orbax then leaves reads of the other arrays pending).

Orbax stores NamedTuples as dicts of their fields and tuples as lists, so both trees are
compared by their paths written as ``a/b/0/mu``; dtypes may differ (orbax casts on restore).
"""
import jax


def _key_name(key) -> str:
    for attr in ("key", "name", "idx"):    # DictKey, GetAttrKey, SequenceKey/FlattenedIndexKey
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def leaf_shapes(tree) -> dict:
    """``{'a/b/0/mu': shape}`` for every array leaf of ``tree`` (None leaves are empty)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {"/".join(_key_name(k) for k in path): tuple(leaf.shape) for path, leaf in flat}


def mismatch(wanted, saved) -> str | None:
    """Why ``saved`` (orbax metadata) cannot be restored as ``wanted`` (abstract arrays),
    or None when every path and shape agrees."""
    want, have = leaf_shapes(wanted), leaf_shapes(saved)
    for missing, side in ((sorted(want.keys() - have.keys()), "not in the checkpoint"),
                          (sorted(have.keys() - want.keys()), "in the checkpoint only")):
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            return f"{missing[0]} is {side}{more}"
    for path, shape in want.items():
        if have[path] != shape:
            return f"{path} has shape {list(have[path])} in the checkpoint, {list(shape)} here"
    return None
