"""Parameters, forward GFLOPs per image and optimizer-state bytes for the paper's models.

    .venv/bin/python bench/models.py [--only vit] [--compile]

Everything is abstract (``jax.eval_shape`` and ``jit(...).lower``): no weights are
allocated, so ViT-G/14 runs on a laptop. GFLOPs come from XLA's cost analysis of the
lowered (unoptimised) forward at batch 1 — XLA counts 2 flops per multiply-add, so these are
twice the "GFLOPs" (really GMACs) most papers quote. ``--compile`` uses the compiled
module's analysis instead (slower, needs memory for the compiler only).
Optimizer state is ``herolion.optim.state_bytes`` for Lion (one momentum), AdamW (two
moments) and AdafactorW (factored second moment + bf16 momentum) at their defaults.
"""
from __future__ import annotations

import argparse
import time

import flax.linen as nn
import jax
import jax.numpy as jnp

from herolion.models import count_params, create

ROWS = [
    ("ViT-S/16", "vit", {"variant": "S/16"}, 224),
    ("ViT-B/16", "vit", {"variant": "B/16"}, 224),
    ("ViT-B/16", "vit", {"variant": "B/16"}, 384),
    ("ViT-L/16", "vit", {"variant": "L/16"}, 384),
    ("ViT-L/16", "vit", {"variant": "L/16"}, 512),
    ("ViT-H/14", "vit", {"variant": "H/14"}, 392),
    ("ViT-H/14", "vit", {"variant": "H/14"}, 518),
    ("ViT-g/14", "vit", {"variant": "g/14", "pool_type": "map"}, 518),
    ("ViT-G/14", "vit", {"variant": "G/14", "pool_type": "map"}, 518),
    ("Mixer-S/16", "mixer", {"variant": "S/16"}, 224),
    ("Mixer-B/16", "mixer", {"variant": "B/16"}, 224),
    ("ResNet-50", "resnet", {"depth": 50}, 224),
    ("CoAtNet-1", "coatnet", {"variant": "1"}, 224),
    ("CoAtNet-3", "coatnet", {"variant": "3"}, 224),
]


def gflops(model, variables, size: int, compile_: bool) -> float:
    images = jax.ShapeDtypeStruct((1, size, size, 3), jnp.float32)
    lowered = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(variables, images)
    analysis = lowered.compile().cost_analysis() if compile_ else lowered.cost_analysis()
    if isinstance(analysis, (list, tuple)):
        analysis = analysis[0]
    return float(analysis.get("flops", float("nan"))) / 1e9


def optimizer_bytes(params) -> dict[str, int]:
    from herolion import optim
    return {name: optim.state_bytes(getattr(optim, name)(learning_rate=1e-3), params)
            for name in ("lion", "adamw", "adafactorw")}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="substring of the model names to run")
    parser.add_argument("--compile", action="store_true", help="cost analysis after compile")
    args = parser.parse_args(argv)
    mib = 2 ** 20
    print(f"{'model':<11} {'image':>5} {'params':>14} {'GFLOPs/img':>10} "
          f"{'Lion MiB':>9} {'AdamW MiB':>10} {'AdafW MiB':>10} {'Lion/AdamW':>10} {'s':>5}")
    for label, name, kw, size in ROWS:
        if args.only and args.only.lower() not in label.lower():
            continue
        t0 = time.time()
        model = create(name, num_classes=1000, **kw)
        abstract = jax.eval_shape(
            lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, size, size, 3))))
        variables = nn.unbox(abstract)
        n = count_params(variables["params"])
        flops = gflops(model, variables, size, args.compile)
        opt = optimizer_bytes(variables["params"])
        cells = [f"{opt[k] / mib:>{w}.1f}" if opt[k] is not None else f"{'-':>{w}}"
                 for k, w in (("lion", 9), ("adamw", 10), ("adafactorw", 10))]
        ratio = (f"{opt['lion'] / opt['adamw']:>10.3f}" if opt["lion"] and opt["adamw"]
                 else f"{'-':>10}")
        print(f"{label:<11} {size:>5} {n:>14,} {flops:>10.2f} {' '.join(cells)} {ratio} "
              f"{time.time() - t0:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
