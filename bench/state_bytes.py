"""Optimizer-state bytes per parameter on the paper's ViTs (B/16 … G/14), abstractly.

    .venv/bin/python bench/state_bytes.py [--hbm-gb 80]

For each model: parameters, optimizer-state bytes/param for Lion (f32 and bf16 momentum),
AdamW and AdafactorW (``herolion.optim.state_bytes`` over ``jax.eval_shape`` of the real
model: no allocation), and the GB of params + gradients + optimizer state (f32 weights),
activations excluded — "Lion halves AdamW's memory" as numbers. Divide by the FSDP
degree for bytes per device.
"""
import argparse

import flax.linen as nn
import jax
import jax.numpy as jnp

from herolion import optim
from herolion.models import create

MODELS = [("ViT-B/16", dict(variant="B/16"), 224), ("ViT-L/16", dict(variant="L/16"), 224),
          ("ViT-H/14", dict(variant="H/14"), 224), ("ViT-g/14", dict(variant="g/14", pool_type="map"), 224),
          ("ViT-G/14", dict(variant="G/14", pool_type="map"), 224)]
OPTIMIZERS = {
    "lion f32": lambda: optim.lion(1e-4),
    "lion bf16": lambda: optim.lion(1e-4, mu_dtype=jnp.bfloat16),
    "adamw": lambda: optim.adamw(1e-4),
    "adafactorw": lambda: optim.adafactorw(1e-4),
}


def abstract_params(kwargs, size):
    model = create("vit", num_classes=1000, **kwargs)
    variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0),
                                                  jnp.zeros((1, size, size, 3))))
    return nn.unbox(variables)["params"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    head = "".join(f"{name:>12}" for name in OPTIMIZERS)
    print(f"{'model':<10}{'params':>15}  state bytes/param:{head}  | params+grads+state GB:{head}")
    for name, kwargs, size in MODELS:
        params = abstract_params(kwargs, size)
        n = optim.param_count(params)
        weights = optim.tree_bytes(params)
        per_param, total = [], []
        for make in OPTIMIZERS.values():
            state = optim.state_bytes(make(), params)
            per_param.append(state / n)
            total.append((2 * weights + state) / 1e9)
        print(f"{name:<10}{n:>15,}  {'':18}" + "".join(f"{b:>12.3f}" for b in per_param)
              + f"  | {'':22}" + "".join(f"{g:>12.1f}" for g in total))


if __name__ == "__main__":
    main()
