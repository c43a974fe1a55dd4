"""The attention core on XLA:CPU: ``models.attention.attend`` (head-major operands) versus
``attend_einsum`` (flax's ``...qhd,...khd`` einsums), side by side in one run.

ViT-S/16 shapes (batch 8, 197 tokens, 6 heads of 64) by default; prints ms per call of
the forward and of forward+backward (grads for q, k, v), median of interleaved rounds,
and the ratio einsum / head-major.

    .venv/bin/python bench/attention.py [--batch 8 --tokens 197 --heads 6 --head-dim 64]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from herolion.models.attention import attend, attend_einsum  # noqa: E402


def per_call(fn, args, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - t0) / calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=197)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=10)
    a = parser.parse_args()
    shape = (a.batch, a.tokens, a.heads, a.head_dim)
    q, k, v = (jax.random.normal(key, shape) for key in jax.random.split(jax.random.key(0), 3))
    fns = {}
    for name, core in (("head-major", attend), ("einsum", attend_einsum)):
        def fwd(q, k, v, core=core):
            return core(q, k, v, None, jnp.float32)
        grad = jax.grad(lambda q, k, v, f=fwd: jnp.sum(f(q, k, v) ** 2), argnums=(0, 1, 2))
        fns[name] = {"forward": jax.jit(fwd), "forward+backward": jax.jit(grad)}
        for fn in fns[name].values():
            jax.block_until_ready(fn(q, k, v))
    times = {(n, kind): [] for n in fns for kind in fns[n]}
    for _ in range(a.rounds):
        for n in fns:
            for kind, fn in fns[n].items():
                times[n, kind].append(per_call(fn, (q, k, v), a.calls))
    print(f"jax {jax.__version__} backend={jax.default_backend()} q/k/v {shape}")
    print("| pass | head-major ms | einsum ms | einsum / head-major |")
    print("|---|---|---|---|")
    for kind in ("forward", "forward+backward"):
        hm = statistics.median(times["head-major", kind])
        es = statistics.median(times["einsum", kind])
        print(f"| {kind} | {hm * 1e3:.2f} | {es * 1e3:.2f} | {es / hm:.2f} |")


if __name__ == "__main__":
    main()
