"""One optimizer's whole lr × λ × seed grid as a single jitted program.

Why vmap + scan: a tiny ViT step is far too small to keep even 2 CPU cores busy, and
Python-driven loops would spend most of their time dispatching. ``train_grid`` vmaps the
train loop over grid cells (inner) and seeds (outer), scans over steps, and compiles
once per optimizer. lr and λ are traced arrays: the herolion optimizers take the
learning rate as a schedule (``step -> lr·shape(step)``) and λ as any scalar, so the
cells run the package's own ``herolion.optim.lion`` / ``adamw`` update unchanged.
A seed fixes the init and the batch order, shared by every cell and optimizer.
"""
import functools
from dataclasses import dataclass, field

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from herolion import models, optim
from herolion.optim.builder import default_decays
from herolion.optim.tree_paths import map_with_path
from herolion.trainer.losses import softmax_xent

# name -> (herolion constructor, betas). 'signum' is Section 3.2's ablation:
# m = interpolate(g, m, 0.9); update = sign(m), i.e. Lion with β1 = β2 = 0.9.
OPTIMIZERS = {
    "adamw": (optim.adamw, dict(b1=0.9, b2=0.999)),
    "lion": (optim.lion, dict(b1=0.9, b2=0.99)),
    "signum": (optim.lion, dict(b1=0.9, b2=0.9)),
}


@dataclass(frozen=True)
class Setup:
    """Everything except the grid: model, steps, batch, schedule, evaluation cadence."""
    steps: int = 300
    batch: int = 32  # measured on 2 shared cores: per-example cost is lowest at 32
    warmup: int = 30
    eval_every: int = 30
    clip: float = 1.0  # global-norm gradient clipping for every optimizer (0 = off)
    model: dict = field(default_factory=lambda: dict(
        patch_size=(4, 4), width=32, depth=2, mlp_dim=64, num_heads=4, num_classes=10,
        pool_type="gap", posemb="learn"))

    def __hash__(self):
        return hash((self.steps, self.batch, self.warmup, self.eval_every, self.clip,
                     tuple(sorted((k, str(v)) for k, v in self.model.items()))))


def make_model(setup):
    return models.create("vit", **setup.model)


def make_tx(name, lr, wd, setup):
    """The herolion optimizer ``name`` with peak lr ``lr`` (may be traced) and λ ``wd``."""
    make, betas = OPTIMIZERS[name]
    shape = optim.warmup_then_decay(1.0, setup.steps, setup.warmup, "cosine")
    tx = make(lambda step: lr * shape(step), weight_decay=wd,
              mask=lambda params: map_with_path(default_decays, params), **betas)
    return optax.chain(optax.clip_by_global_norm(setup.clip), tx) if setup.clip else tx


def init_params(model, seed, image_shape):
    variables = model.init(jax.random.PRNGKey(seed), jnp.zeros((1,) + image_shape))
    return nn.unbox(variables)["params"]


def mean_loss(model, params, images, labels):
    return softmax_xent(model.apply({"params": params}, images), labels).mean()


def accuracy(model, params, images, labels):
    return (model.apply({"params": params}, images).argmax(-1) == labels).mean()


def train_one(name, setup, data, lr, wd, params, seed):
    """One run from ``params``: returns final params and, every ``eval_every`` steps, the
    mean train loss of those steps and the accuracy on each split in ``data['evals']``."""
    model = make_model(setup)
    x, y = data["train"]
    tx = make_tx(name, lr, wd, setup)
    batch_key = jax.random.fold_in(jax.random.PRNGKey(seed), 1)
    grad_fn = jax.value_and_grad(lambda p, xb, yb: mean_loss(model, p, xb, yb))
    # All evaluation splits in one forward pass (one compiled graph, not one per split).
    names = list(data["evals"])
    eval_x = jnp.concatenate([data["evals"][k][0] for k in names])
    eval_y = jnp.concatenate([data["evals"][k][1] for k in names])
    bounds = np.cumsum([0] + [len(data["evals"][k][1]) for k in names])

    def step(carry, t):
        params, opt_state = carry
        idx = jax.random.randint(jax.random.fold_in(batch_key, t), (setup.batch,), 0, len(x))
        loss, grads = grad_fn(params, x[idx], y[idx])
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    def chunk(carry, c):
        steps = c * setup.eval_every + jnp.arange(setup.eval_every)
        carry, losses = jax.lax.scan(step, carry, steps)
        hit = model.apply({"params": carry[0]}, eval_x).argmax(-1) == eval_y
        accs = {k: hit[bounds[i]:bounds[i + 1]].mean() for i, k in enumerate(names)}
        return carry, dict(loss=losses.mean(), **accs)

    n_chunks = setup.steps // setup.eval_every
    (params, _), curves = jax.lax.scan(chunk, (params, tx.init(params)), jnp.arange(n_chunks))
    return params, curves


def train_grid(name, setup, data, lrs, wds, seeds):
    """Runs cells ``(lrs[i], wds[i])`` × ``seeds``; outputs have leading axes [seed, cell].

    The seeds' initial params are made outside the big program (their random draws
    would only add compile time to it).
    """
    if setup.steps % setup.eval_every:
        raise ValueError("steps must be a multiple of eval_every")
    model = make_model(setup)
    shape = np.shape(data["train"][0])[1:]
    inits = [init_params(model, int(s), shape) for s in seeds]
    params = jax.tree.map(lambda *a: jnp.stack(a), *inits)
    out = _compiled(name, setup)(jnp.asarray(lrs, jnp.float32), jnp.asarray(wds, jnp.float32),
                                 params, jnp.asarray(seeds, jnp.uint32),
                                 jax.tree.map(jnp.asarray, data))
    return jax.tree.map(np.asarray, out)


@functools.cache
def _compiled(name, setup):
    def run(lrs, wds, params, seeds, data):
        one = lambda lr, wd, p, seed: train_one(name, setup, data, lr, wd, p, seed)
        per_seed = jax.vmap(one, (0, 0, None, None))
        return jax.vmap(per_seed, (None, None, 0, 0))(lrs, wds, params, seeds)
    return jax.jit(run)
