"""Contrastive gradients over the whole batch, computed one micro-batch at a time.

Why: a contrastive loss couples every pair in the batch, so the classification trick
(sum the gradients of micro-batch losses) would make each micro-batch its own, smaller
contrastive problem with fewer negatives. Instead (the "gradient cache" of Gao et al.,
2021), for micro-batches ``mb_1..mb_k`` of one batch:

1. embed every micro-batch (forward only): ``z_i = embed(θ, mb_i)``;
2. take the loss over all the embeddings at once and its gradient ``g_i = ∂L/∂z_i``
   (and ``∂L/∂t``, ``∂L/∂b`` for the temperature and bias);
3. for each micro-batch, recompute the embedding and pull ``g_i`` back to the params:
   ``Σ_i vjp(embed(·, mb_i))(g_i)``.

By the chain rule the sum is exactly ``∂L/∂θ`` of the full-batch loss; only one
micro-batch's activations are alive at a time, for one extra forward pass. The
temperature and bias do not depend on the batch, so each micro-batch pulls back
``1/k`` of their gradient. Dropout draws the same key in steps 1 and 3.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def full_batch_grads(embed, loss_fn, params, micro, rng):
    """``(loss, grads, t)`` of ``loss_fn`` over all micro-batches together.

    ``embed(params, micro_batch, rng) -> (zimg, ztxt, t, b)`` (``b`` may be None);
    ``micro`` is the batch reshaped to ``[k, batch / k, ...]``; micro-batch ``i`` uses
    ``fold_in(rng, i)``. Equal to differentiating ``loss_fn`` on the unsplit batch.
    """
    k = jax.tree.leaves(micro)[0].shape[0]
    index = jnp.arange(k)

    def forward(_, inputs):
        i, mb = inputs
        return None, embed(params, mb, jax.random.fold_in(rng, i))

    _, (zimg, ztxt, t, b) = jax.lax.scan(forward, None, (index, micro))
    t, b = t[0], (None if b is None else b[0])

    def whole(zimg, ztxt, t, b):
        merge = lambda z: z.reshape((-1,) + z.shape[2:])   # [k, m, d] -> [k*m, d], batch order
        return loss_fn(merge(zimg), merge(ztxt), t, b)

    loss, (g_img, g_txt, g_t, g_b) = jax.value_and_grad(whole, argnums=(0, 1, 2, 3))(
        zimg, ztxt, t, b)
    g_t = g_t / k
    g_b = None if g_b is None else g_b / k

    def backward(grad_sum, inputs):
        i, mb, gi, gt = inputs
        _, pull = jax.vjp(lambda p: embed(p, mb, jax.random.fold_in(rng, i)), params)
        (grads,) = pull((gi, gt, g_t, g_b))
        return jax.tree.map(jnp.add, grad_sum, grads), None

    zeros = jax.tree.map(jnp.zeros_like, params)
    grads, _ = jax.lax.scan(backward, zeros, (index, micro, g_img, g_txt))
    return loss, grads, t
