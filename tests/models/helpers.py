"""Helpers shared by the model tests.

``fake_init`` fills a model's variables from numpy instead of running ``model.init``: the
threefry initialisers take tens of seconds to compile on a busy 2-core CPU, and the tests
need values, not the initialisers (which ``jax.eval_shape`` already exercises).
"""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def fake_init(model, *inputs, seed: int = 0):
    """Plain (unboxed) variables of ``model``'s shapes, with fan-in scaled random values."""
    abstract = nn.unbox(jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), *inputs)))
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = str(getattr(path[-1], "key", path[-1]))
        shape = leaf.shape
        if name in ("scale", "var"):
            value = 1.0 + 0.1 * rng.standard_normal(shape) if name == "scale" else np.ones(shape)
        elif name == "mean":
            value = np.zeros(shape)
        else:
            fan_in = max(1, int(np.prod(shape[:-1]))) if len(shape) > 1 else 10
            value = rng.standard_normal(shape) / np.sqrt(fan_in)
        return jnp.asarray(value, leaf.dtype)

    return jax.tree_util.tree_map_with_path(fill, abstract)
