"""Activation memory per example, from what JAX autodiff keeps for the backward pass.

Why residuals: ``jax.vjp`` returns the arrays the backward pass needs (its residuals),
already shaped by the model's own remat policy, scan and compute dtype, for any model —
all found with ``jax.eval_shape``, nothing allocated. Residuals at batch 2 minus those
at batch 1 are the bytes per example; weights kept as residuals cancel out (they are
counted as params). With ``scan`` + remat only each block's input is saved, and the
backward pass recomputes one block at a time: one block's full residuals are added.

It is an estimate *before* XLA's fusion: XLA recomputes elementwise chains (GELU,
LayerNorm internals) instead of keeping every intermediate, so compiled programs keep
less (docs/plan.md gives measured ratios).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from herolion.optim.memory import tree_bytes


def _residual_bytes(model, params, model_state, image_shape, batch: int, loss_fn,
                    trainable, text_len=None) -> int:
    from herolion.trainer.step import apply_model
    keep = [i for i, t in enumerate(jax.tree.leaves(trainable)) if t]

    def forward_loss(params, model_state, images, texts):
        if texts is None:
            logits, _ = apply_model(model, params, model_state, images, train=True,
                                    rng=jax.random.PRNGKey(0))
            return loss_fn(logits, jnp.zeros(logits.shape, jnp.float32)).mean()
        zimg, ztxt, out = model.apply({"params": params, **model_state}, images, texts,
                                      train=True, rngs={"dropout": jax.random.PRNGKey(0)})
        return loss_fn(zimg, ztxt, out["t"], out.get("b"))    # two towers: contrastive

    def pullback(params, model_state, images, texts):
        leaves, treedef = jax.tree.flatten(params)

        def loss(trained):   # differentiated w.r.t. trainable leaves only, as the step is
            merged = list(leaves)
            for i, leaf in zip(keep, trained):
                merged[i] = leaf
            return forward_loss(jax.tree.unflatten(treedef, merged), model_state, images, texts)
        return jax.vjp(loss, [leaves[i] for i in keep])[1]

    images = jax.ShapeDtypeStruct((batch,) + tuple(image_shape), jnp.float32)
    texts = None if text_len is None else jax.ShapeDtypeStruct((batch, text_len), jnp.int32)
    return tree_bytes(jax.eval_shape(pullback, params, model_state, images, texts))


def per_example(model, params, model_state, image_shape, loss_fn,
                trainable=None, text_len=None) -> dict[str, int]:
    """``{'saved': B, 'recompute': B}``: bytes per example kept across the step, and the
    extra bytes of one block recomputed in the backward pass (0 without scan + remat).
    ``trainable``: params-shaped bools (default: all); frozen leaves get no gradient.
    ``text_len``: a two-tower model, fed images and ``[B, text_len]`` tokens."""
    trainable = jax.tree.map(lambda _: True, params) if trainable is None else trainable

    def grow(m):
        one = _residual_bytes(m, params, model_state, image_shape, 1, loss_fn, trainable,
                              text_len)
        return _residual_bytes(m, params, model_state, image_shape, 2, loss_fn,
                               trainable, text_len) - one

    saved = grow(model)
    recompute = 0
    if bool(getattr(model, "scan", False)) and getattr(model, "remat_policy", "none") != "none":
        full = grow(model.clone(remat_policy="none"))
        recompute = max(0, full - saved) // max(1, int(getattr(model, "depth", 1)))
    return {"saved": int(saved), "recompute": int(recompute)}
