"""Restore targets: ``jax.ShapeDtypeStruct`` leaves that carry the *current* sharding.

orbax restores each array straight into the sharding of its target leaf, reading only
the slices each device needs. That is what makes a checkpoint saved on one mesh load on
another (8 devices -> 2 -> 1): the saved sharding is ignored, the target's is used.
"""
import jax


def abstract_tree(tree, shardings=None):
    """``ShapeDtypeStruct`` leaves for ``tree`` (arrays or ShapeDtypeStructs).

    ``shardings``: a matching tree of ``jax.sharding.Sharding`` (e.g. the
    ``out_shardings`` used to init the state) or one sharding for every leaf; by
    default each leaf keeps its own ``.sharding``.
    """
    if shardings is None:
        return jax.tree.map(_leaf, tree)
    if isinstance(shardings, jax.sharding.Sharding):
        return jax.tree.map(lambda x: _leaf(x, shardings), tree)
    return jax.tree.map(_leaf, tree, shardings)


def with_default_sharding(tree):
    """Give leaves without a sharding one on the first local device (single-host use)."""
    device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])

    def fill(x):
        sharding = getattr(x, "sharding", None)
        return _leaf(x, sharding if sharding is not None else device)

    return jax.tree.map(fill, tree)


def _leaf(x, sharding=None):
    sharding = sharding if sharding is not None else getattr(x, "sharding", None)
    return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding)
