"""How many bytes an optimizer's state takes, computed abstractly (no allocation)."""
import jax
import numpy as np


def tree_bytes(tree) -> int:
    """Sum of ``size * itemsize`` over the array leaves of a (possibly abstract) tree."""
    return int(sum(np.prod(x.shape, dtype=np.int64) * np.dtype(x.dtype).itemsize
                   for x in jax.tree.leaves(tree) if hasattr(x, "shape")))


def param_count(params) -> int:
    return int(sum(np.prod(x.shape, dtype=np.int64) for x in jax.tree.leaves(params)))


def state_bytes(tx, params) -> int:
    """Bytes of ``tx.init(params)``, via ``jax.eval_shape``: fine for ViT-G on a laptop.

    ``params`` may hold real arrays or ``jax.ShapeDtypeStruct`` leaves.
    """
    abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), params)
    return tree_bytes(jax.eval_shape(tx.init, abstract))
