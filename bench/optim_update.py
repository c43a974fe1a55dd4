"""Time per optimizer update on a 50M-parameter tree, measured side by side in one run.

Prints herolion Lion vs optax.lion vs herolion AdamW (and AdafactorW, SGD-m), and Lion's
achieved memory bandwidth as a fraction of a plain jitted ``x*a + b`` over the same
leaves (the bandwidth ceiling for an elementwise pass on this machine).

Bytes counted per parameter (f32): Lion reads g, m, θ and writes m, θ = 20 B;
AdamW reads g, m, v, θ and writes m, v, θ = 28 B; ``x*a+b`` reads x, writes y = 8 B.
Methods run interleaved, round-robin, and the median is reported: this machine is noisy.

    .venv/bin/python bench/optim_update.py [--params 50e6] [--rounds 15]
"""
import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import optax

from herolion import optim


def make_tree(n_params, width=2048):
    rows = 1024
    n = max(1, round(n_params / (rows * width)))
    keys = jax.random.split(jax.random.key(0), n)
    return {f"layer_{i}": jax.random.normal(k, (rows, width), jnp.float32) * 0.02
            for i, k in enumerate(keys)}


def step_fn(tx):
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state
    return jax.jit(step, donate_argnums=(0, 1))


def timed(fn, args_fn, rounds_out, rounds):
    """Run ``fn`` once per call to the returned closure; appends seconds to rounds_out."""
    state = {"args": args_fn()}

    def once():
        start = time.perf_counter()
        out = fn(*state["args"])
        jax.block_until_ready(out)
        rounds_out.append(time.perf_counter() - start)
        state["args"] = (out[0], out[1], state["args"][2]) if len(state["args"]) == 3 else (out,)
    return once


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=float, default=50e6)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    params = make_tree(args.params)
    n = optim.param_count(params)
    grads = jax.tree.map(lambda p: jnp.sin(p * 100.0), params)
    lr, wd = 1e-4, 0.1
    txs = {
        "herolion.lion": optim.lion(lr, weight_decay=wd),
        "optax.lion": optax.lion(lr, weight_decay=wd),
        "herolion.adamw": optim.adamw(lr, weight_decay=wd),
        "herolion.adafactorw": optim.adafactorw(lr, weight_decay=wd),
        "herolion.sgdm": optim.sgdm(lr, weight_decay=wd),
    }
    times = {name: [] for name in [*txs, "x*a+b ceiling"]}
    runners = {}
    for name, tx in txs.items():
        fresh = lambda tx=tx: (jax.tree.map(jnp.copy, params), tx.init(params), grads)
        runners[name] = timed(step_fn(tx), fresh, times[name], args.rounds)
    axpb = jax.jit(lambda x: jax.tree.map(lambda v: v * 1.0001 + 1e-6, x), donate_argnums=0)
    runners["x*a+b ceiling"] = timed(axpb, lambda: (jax.tree.map(jnp.copy, params),),
                                     times["x*a+b ceiling"], args.rounds)
    for run in runners.values():  # compile + warm up
        run(), run()
    for t in times.values():
        t.clear()
    for _ in range(args.rounds):
        for run in runners.values():
            run()

    med = {name: statistics.median(t) for name, t in times.items()}
    ceiling_bw = 8 * n / med["x*a+b ceiling"]
    lion_bw = 20 * n / med["herolion.lion"]
    print(f"parameters: {n:,} (f32), {jax.device_count()} {jax.default_backend()} device(s), "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'method':<22}{'ms/update':>10}{'GB/s':>8}")
    bytes_per = {"herolion.lion": 20, "optax.lion": 20, "herolion.adamw": 28,
                 "herolion.sgdm": 20, "x*a+b ceiling": 8}
    for name, t in med.items():
        bw = f"{bytes_per[name] * n / t / 1e9:8.1f}" if name in bytes_per else f"{'-':>8}"
        print(f"{name:<22}{t * 1e3:>10.1f}{bw}")
    print(f"lion bandwidth / ceiling        : {lion_bw / ceiling_bw:.2f}   (target >= 0.8)")
    print(f"herolion.lion / optax.lion time : {med['herolion.lion'] / med['optax.lion']:.2f}   (target <= 1.0)")
    print(f"herolion.lion / adamw time      : {med['herolion.lion'] / med['herolion.adamw']:.2f}   (target <= 0.8)")


if __name__ == "__main__":
    main()
