"""`herolion demo`: a one-minute look at the optimizers on real data (sklearn's digits).

A small MLP is trained with each optimizer from a config built by ``herolion.optim.build``
(paper-style warmup + cosine), then test accuracy and optimizer-state bytes are printed.
The trainer's own demo (`herolion train --config herolion/configs/demo.py`) replaces it
as the main job once the trainer lands.
"""
import json
import time

# The paper's Table 5 convention: Lion's lr is ~3-10x smaller and λ ~3-10x larger.
RECIPES = {
    "lion": dict(lr=3e-3, wd=0.1),
    "adamw": dict(lr=1e-2, wd=0.01),
    "adafactorw": dict(lr=1e-2, wd=0.01),
    "sgdm": dict(lr=0.1, wd=1e-4),
}


def register(sub):
    parser = sub.add_parser("demo", help="train a small MLP on sklearn digits with each optimizer")
    parser.add_argument("--steps", type=int, default=300, help="train steps per optimizer")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizers", default=",".join(RECIPES),
                        help="comma-separated subset of " + ",".join(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object per optimizer")
    parser.set_defaults(func=run)


def load_digits_split(seed):
    """sklearn's 1,797 real 8x8 digits, 80/20 stratified split, scaled to [0, 1]."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return train_test_split(x, y.astype(np.int32), test_size=0.2, random_state=seed, stratify=y)


def train_one(name, steps, batch_size, seed, data):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from ml_collections import ConfigDict

    from herolion import optim

    x_train, x_test, y_train, y_test = data
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = {
        "hidden": {"kernel": jax.random.normal(k1, (64, 128)) / 8.0, "bias": jnp.zeros(128)},
        "head": {"kernel": jax.random.normal(k2, (128, 10)) / np.sqrt(128), "bias": jnp.zeros(10)},
    }
    cfg = ConfigDict(dict(optimizer=name, total_steps=steps, **RECIPES[name],
                          schedule=dict(decay_type="cosine", warmup_steps=steps // 10)))
    tx = optim.build(cfg, params)

    def logits_fn(p, x):
        h = jax.nn.gelu(x @ p["hidden"]["kernel"] + p["hidden"]["bias"])
        return h @ p["head"]["kernel"] + p["head"]["bias"]

    def loss_fn(p, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(logits_fn(p, x), y).mean()

    @jax.jit
    def step(p, s, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, s = tx.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    state = tx.init(params)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(steps):
        idx = rng.integers(0, len(x_train), batch_size)
        params, state, loss = step(params, state, x_train[idx], y_train[idx])
    seconds = time.perf_counter() - start
    accuracy = float((np.asarray(logits_fn(params, x_test)).argmax(-1) == y_test).mean())
    return dict(optimizer=name, final_loss=float(loss), test_accuracy=accuracy,
                state_bytes=optim.state_bytes(tx, params), params=optim.param_count(params),
                seconds=round(seconds, 2))


def run(args):
    from herolion.errors import ConfigError
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    for n in names:
        if n not in RECIPES:
            raise ConfigError(f"--optimizers: unknown {n!r}; known: " + ", ".join(RECIPES))
    if args.steps < 1:
        raise ConfigError(f"--steps: must be >= 1, got {args.steps}")
    data = load_digits_split(args.seed)
    if not args.json:
        print(f"{'optimizer':<11} {'test acc':>8} {'loss':>7} {'state B/param':>13} {'time':>6}")
    for name in names:
        r = train_one(name, args.steps, args.batch_size, args.seed, data)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{name:<11} {r['test_accuracy']:>8.3f} {r['final_loss']:>7.3f} "
                  f"{r['state_bytes'] / r['params']:>13.2f} {r['seconds']:>5.1f}s")
