"""Mixup (Zhang et al., 2018) on a batch, inside the jitted train step, big_vision style.

Why in the step: it needs only the batch and a JAX key, costs nothing on the host,
and stays deterministic under ``jit``. One set of coefficients per batch is drawn
from ``Dirichlet(p, ..., p)`` (``n`` = 2 gives ``Beta(p, p)``); example ``j``
becomes ``sum_i c_i * x[j - i]`` (``jnp.roll`` along the batch), for the images
*and* the one-hot labels with the same coefficients. Config: ``mixup.p``
(0 or missing: off), ``mixup.n`` (default 2).
"""
import jax
import jax.numpy as jnp

DEFAULT_KEYS = ("image", "labels")


def mixup_coefficients(rng, p, n=2):
    """The ``n`` mixing weights (sum to 1) for one batch."""
    return jax.random.dirichlet(rng, jnp.full((n,), p, jnp.float32))


def mix(x, coefficients):
    """``sum_i c_i * roll(x, i, axis=0)`` in x's dtype."""
    out = sum(c * jnp.roll(x, i, axis=0).astype(jnp.float32)
              for i, c in enumerate(coefficients))
    return out.astype(x.dtype)


def mixup(rng, batch, p=0.1, *, n=2, keys=DEFAULT_KEYS):
    """Returns ``batch`` with ``keys`` mixed (others untouched); ``p <= 0`` is a no-op."""
    if not p or p <= 0:
        return batch
    c = mixup_coefficients(rng, p, n)
    coefficients = [c[i] for i in range(n)]
    return {k: (mix(v, coefficients) if k in keys else v) for k, v in batch.items()}
