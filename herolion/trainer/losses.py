"""Classification losses on logits: labels are one-hot/multi-hot floats or integer ids."""
import jax.numpy as jnp
import optax

from herolion.errors import ConfigError


def _dense(labels, logits):
    if labels.ndim == logits.ndim - 1:
        return jax_one_hot(labels, logits.shape[-1])
    return labels.astype(jnp.float32)


def jax_one_hot(ids, depth):
    return (ids[..., None] == jnp.arange(depth)).astype(jnp.float32)


def softmax_xent(logits, labels):
    """Per-example ``−Σ y·log softmax(z)`` (labels may be smoothed or mixed)."""
    return optax.softmax_cross_entropy(logits.astype(jnp.float32), _dense(labels, logits))


def sigmoid_xent(logits, labels):
    """Per-example sum over classes of binary cross-entropy (big_vision's sigmoid_xent)."""
    return optax.sigmoid_binary_cross_entropy(
        logits.astype(jnp.float32), _dense(labels, logits)).sum(-1)


LOSSES = {"softmax_xent": softmax_xent, "sigmoid_xent": sigmoid_xent}


def get(name: str):
    if name not in LOSSES:
        raise ConfigError(f"config.loss: unknown {name!r}; known: {', '.join(LOSSES)}")
    return LOSSES[name]
