"""Table 6's flatness: the training loss under Gaussian weight noise, ``E_ε[L(w + ε)]``.

The noise is *relative*: each tensor W gets ε ~ N(0, (σ·rms(W))²) per entry, so
``‖ε‖ ≈ σ‖W‖`` for every tensor. Why relative: AdamW and Lion end with differently
scaled weights (Lion's λ is larger), and absolute noise would mostly measure that
scale rather than the shape of the minimum. σ = 0 is the unperturbed loss.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from herolion.repro.train import make_model, mean_loss


def perturb(params, key, sigma):
    """``params`` plus relative Gaussian noise of scale ``sigma`` (see the module doc)."""
    leaves, treedef = jax.tree.flatten(params)
    # One draw for all tensors, then sliced: one random-number kernel instead of one per
    # tensor (each costs seconds of CPU compile time).
    sizes = [w.size for w in leaves]
    flat = jax.random.normal(key, (sum(sizes),))
    offsets = np.cumsum([0] + sizes)
    noisy = [w + sigma * jnp.sqrt(jnp.mean(jnp.square(w)))
             * flat[offsets[i]:offsets[i + 1]].reshape(w.shape) for i, w in enumerate(leaves)]
    return jax.tree.unflatten(treedef, noisy)


def perturbed_losses(setup, params, images, labels, sigmas, draws, seed=0):
    """Training loss per seed, σ and draw: array ``[seeds, len(sigmas), draws]``.

    ``params`` has a leading seed axis; every model sees the same noise keys.
    """
    fn = _compiled(setup, draws, seed)
    return np.asarray(fn(params, jnp.asarray(images), jnp.asarray(labels),
                         jnp.asarray(sigmas, jnp.float32)))


@functools.cache
def _compiled(setup, draws, seed):
    model = make_model(setup)
    keys = jax.random.split(jax.random.PRNGKey(seed), draws)

    def per_model(params, images, labels, sigmas):
        def one(sigma, key):
            return mean_loss(model, perturb(params, key, sigma), images, labels)
        return jax.lax.map(lambda s: jax.lax.map(lambda k: one(s, k), keys), sigmas)

    return jax.jit(jax.vmap(per_model, (0, None, None, None)))
