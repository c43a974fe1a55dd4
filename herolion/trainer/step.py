"""The pure train step: ``(state, batch) -> (state, metrics)``, jitted with donated state.

Randomness is ``fold_in(state.rng, state.step)``: a function of the step alone, so a run
resumed from a checkpoint draws exactly what the uninterrupted run drew. Gradients may be
accumulated over ``accum_steps`` micro-batches (a ``lax.scan``; same result as one big
batch for models without batch statistics; contrastive objectives keep the whole batch's
negatives, see ``grad_cache``). Metrics: loss, lr, and the global norms of
gradients, params and updates.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from herolion.errors import ConfigError
from herolion.optim import polyak as polyak_lib
from herolion.trainer import frozen as frozen_lib
from herolion.trainer import grad_cache
from herolion.trainer.state import TrainState


def apply_model(model, params, model_state, images, *, train, rng=None):
    """Logits, and the updated non-param collections (BatchNorm stats) in train mode."""
    variables = {"params": params, **model_state}
    rngs = {"dropout": rng} if rng is not None else None
    if train and model_state:
        logits, new_state = model.apply(variables, images, train=True, rngs=rngs,
                                        mutable=list(model_state))
        return logits, dict(new_state)
    return model.apply(variables, images, train=train, rngs=rngs), model_state


def classification_objective(loss_fn, *, image_key: str = "image", label_key: str = "labels"):
    """``(model, params, model_state, batch, rng) -> (loss, (model_state, extra_metrics))``."""

    def objective(model, params, model_state, batch, rng):
        logits, new_state = apply_model(model, params, model_state, batch[image_key],
                                        train=True, rng=rng)
        return loss_fn(logits, batch[label_key]).mean(), (new_state, {})

    return objective


class ContrastiveObjective:
    """Two towers (LiT): a contrastive ``loss_fn(zimg, ztxt, t, b)`` over the global batch;
    reports the temperature. Non-param collections pass through unchanged. With
    ``accum_steps > 1`` the step uses :meth:`embed` to keep every negative of the batch
    (:mod:`herolion.trainer.grad_cache`)."""

    def __init__(self, loss_fn, *, image_key: str = "image", text_key: str = "labels"):
        self.loss_fn, self.image_key, self.text_key = loss_fn, image_key, text_key

    def embed(self, model, params, model_state, batch, rng):
        """``(zimg, ztxt, t, b)``; ``b`` is None without a bias."""
        zimg, ztxt, out = model.apply({"params": params, **model_state}, batch[self.image_key],
                                      batch[self.text_key], train=True, rngs={"dropout": rng})
        return zimg, ztxt, out["t"], out.get("b")

    def __call__(self, model, params, model_state, batch, rng):
        zimg, ztxt, t, b = self.embed(model, params, model_state, batch, rng)
        return self.loss_fn(zimg, ztxt, t, b), (model_state, {"t": t})


def make_train_step(model, tx, schedule, loss_fn=None, *, accum_steps: int = 1,
                    mixup_p: float = 0.0, polyak_decay: float | None = None,
                    image_key: str = "image", label_key: str = "labels",
                    objective=None, frozen_mask=None):
    """Builds ``train_step(state, batch)``; jit it with ``donate_argnums=0``.

    ``loss_fn(logits, labels)`` makes a classification step; ``objective`` (see
    :class:`ContrastiveObjective`) replaces it for other tasks. ``frozen_mask`` (a
    params-shaped tree of bools, :mod:`herolion.trainer.frozen`) leaves those params out
    of differentiation and carries them over bitwise.
    """
    if objective is None:
        objective = classification_objective(loss_fn, image_key=image_key, label_key=label_key)

    def with_frozen(trainable, frozen_params):
        return trainable if frozen_mask is None else frozen_lib.combine(
            frozen_mask, trainable, jax.lax.stop_gradient(frozen_params))

    def micro_loss(trainable, frozen_params, model_state, batch, rng):
        return objective(model, with_frozen(trainable, frozen_params), model_state, batch, rng)

    grad_fn = jax.value_and_grad(micro_loss, has_aux=True)

    def full_grads(grads, frozen_params):
        """Zeros where frozen: the optimizer maps them to zero updates (dead code for XLA)."""
        if frozen_mask is None:
            return grads
        return frozen_lib.combine(frozen_mask, grads, jax.tree.map(jnp.zeros_like, frozen_params))

    def train_step(state: TrainState, batch):
        rng = jax.random.fold_in(state.rng, state.step)
        mix_rng, drop_rng = jax.random.split(rng)
        if mixup_p:
            from herolion.data.mixup import mixup
            batch = mixup(mix_rng, batch, p=mixup_p, keys=(image_key, label_key))
        if frozen_mask is None:
            trainable, frozen_params = state.params, None
        else:
            trainable, frozen_params = frozen_lib.partition(state.params, frozen_mask)
        micro = None if accum_steps == 1 else jax.tree.map(   # [accum_steps, batch / accum, ...]
            lambda x: x.reshape((accum_steps, x.shape[0] // accum_steps) + x.shape[1:]), batch)
        if micro is None:
            (loss, (model_state, extra)), grads = grad_fn(
                trainable, frozen_params, state.model_state, batch, drop_rng)
        elif isinstance(objective, ContrastiveObjective):
            def embed(trainable, mb, rng):
                params = with_frozen(trainable, frozen_params)
                return objective.embed(model, params, state.model_state, mb, rng)

            loss, grads, t = grad_cache.full_batch_grads(embed, objective.loss_fn, trainable,
                                                         micro, drop_rng)
            model_state, extra = state.model_state, {"t": t}
        else:
            def body(carry, inputs):
                loss_sum, grad_sum, model_state = carry
                i, mb = inputs
                (loss, (model_state, extra)), grads = grad_fn(
                    trainable, frozen_params, model_state, mb, jax.random.fold_in(drop_rng, i))
                return (loss_sum + loss, jax.tree.map(jnp.add, grad_sum, grads),
                        model_state), extra

            zeros = jax.tree.map(jnp.zeros_like, trainable)
            (loss, grads, model_state), extras = jax.lax.scan(
                body, (jnp.zeros([], jnp.float32), zeros, state.model_state),
                (jnp.arange(accum_steps), micro))
            loss = loss / accum_steps
            grads = jax.tree.map(lambda g: g / accum_steps, grads)
            extra = jax.tree.map(lambda x: x[-1], extras)
        grads = full_grads(grads, frozen_params)

        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        if frozen_mask is not None:
            params = frozen_lib.combine(frozen_mask, frozen_lib.partition(params, frozen_mask)[0],
                                        frozen_params)
        polyak = state.polyak
        if polyak_decay is not None:
            polyak = polyak_lib.update(polyak, params, polyak_decay)
        metrics = {
            "loss": loss,
            "lr": jnp.asarray(schedule(state.step), jnp.float32),
            "grad_norm": optax.tree.norm(grads),
            "param_norm": optax.tree.norm(params),
            "update_norm": optax.tree.norm(updates),
            **extra,
        }
        new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state,
                                  model_state=model_state, polyak=polyak)
        return new_state, metrics

    return train_step


def make_eval_step(model, *, image_key: str = "image", label_key: str = "labels",
                   mask_key: str = "_mask", class_subset=None):
    """``(params, model_state, batch) -> dict`` of *sums* (correct, count, loss) over the
    valid examples: summing across batches gives exact accuracy whatever the padding.

    ``class_subset`` (class ids): the prediction is the argmax over those logits only, as
    ImageNet-A/R are scored (200 of the 1000 classes); labels keep their full ids."""
    subset = None if class_subset is None else np.asarray(class_subset, np.int32)

    def eval_step(params, model_state, batch):
        logits, _ = apply_model(model, params, model_state, batch[image_key], train=False)
        labels = batch[label_key]
        mask = batch[mask_key].astype(jnp.float32) if mask_key in batch else jnp.ones(
            logits.shape[:1], jnp.float32)
        if subset is None:
            top1 = jnp.argmax(logits, -1)
        else:
            if subset.max() >= logits.shape[-1]:
                raise ConfigError(f"class_subset: class id {int(subset.max())} is out of range "
                                  f"for the model's {logits.shape[-1]} classes")
            top1 = jnp.asarray(subset)[jnp.argmax(logits[:, subset], -1)]
        if labels.ndim == logits.ndim:   # one-hot or multi-hot (ReaL): correct if in the set
            correct = jnp.take_along_axis(labels, top1[:, None], -1)[:, 0] > 0
            valid = labels.sum(-1) > 0     # ReaL has examples with no valid label
        else:
            correct = top1 == labels
            valid = jnp.ones_like(correct)
        weight = mask * valid.astype(jnp.float32)
        return {"correct": jnp.sum(correct * weight), "count": jnp.sum(weight)}

    return eval_step
