"""Ops that select, drop or copy keys (e.g. ``keep("image", "labels")`` before batching)."""
from herolion.data.ops.registry import register


@register("keep")
def keep(*keys):
    """Keeps only ``keys`` (those that exist)."""
    def op(example, rng):
        del rng
        return {k: v for k, v in example.items() if k in keys}
    return op


@register("drop")
def drop(*keys):
    """Removes ``keys``."""
    def op(example, rng):
        del rng
        return {k: v for k, v in example.items() if k not in keys}
    return op


@register("copy")
def copy(inkey, outkey):
    """``example[outkey] = example[inkey]``."""
    def op(example, rng):
        del rng
        return {**example, outkey: example[inkey]}
    return op
