"""Optimizer memory from jax.eval_shape: Lion 4 B/param, bf16 Lion 2, AdamW 8, AdafactorW ~2.

The tree is ViT-B/16's parameter shapes (224 px, 1000 classes), written down here so the
check needs no model code: 86,567,656 parameters.
"""
import jax
import jax.numpy as jnp
import pytest

from herolion import optim


def vit_b16_shapes(width=768, depth=12, mlp=3072, heads=12, patch=16, image=224, classes=1000):
    grid = (image // patch) ** 2
    block = {
        "LayerNorm_0": {"scale": (width,), "bias": (width,)},
        "MultiHeadDotProductAttention_0": {
            **{n: {"kernel": (width, heads, width // heads), "bias": (heads, width // heads)}
               for n in ("query", "key", "value")},
            "out": {"kernel": (heads, width // heads, width), "bias": (width,)}},
        "LayerNorm_1": {"scale": (width,), "bias": (width,)},
        "MlpBlock_0": {"Dense_0": {"kernel": (width, mlp), "bias": (mlp,)},
                       "Dense_1": {"kernel": (mlp, width), "bias": (width,)}},
    }
    tree = {
        "embedding": {"kernel": (patch, patch, 3, width), "bias": (width,)},
        "cls": (1, 1, width),
        "pos_embedding": (1, grid + 1, width),
        "Transformer": {**{f"encoderblock_{i}": block for i in range(depth)},
                        "encoder_norm": {"scale": (width,), "bias": (width,)}},
        "head": {"kernel": (width, classes), "bias": (classes,)},
    }
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s, jnp.float32), tree,
                        is_leaf=lambda x: isinstance(x, tuple))


@pytest.fixture(scope="module")
def vit_b16():
    return vit_b16_shapes()


def test_tree_is_vit_b16(vit_b16):
    assert optim.param_count(vit_b16) == 86_567_656


@pytest.mark.parametrize("tx, low, high", [
    (optim.lion(1e-3), 4.0, 4.0001),
    (optim.lion(1e-3, mu_dtype=jnp.bfloat16), 2.0, 2.0001),
    (optim.adamw(1e-3), 8.0, 8.0001),
    (optim.adafactorw(1e-3), 2.0, 2.2),
    (optim.sgdm(1e-3), 4.0, 4.0001),
], ids=["lion_f32", "lion_bf16", "adamw", "adafactorw", "sgdm"])
def test_bytes_per_param(vit_b16, tx, low, high):
    per_param = optim.state_bytes(tx, vit_b16) / optim.param_count(vit_b16)
    assert low <= per_param <= high


def test_frozen_leaves_cost_no_state(vit_b16):
    from ml_collections import ConfigDict
    cfg = ConfigDict(dict(optimizer="adamw", lr=1e-3, lr_mults=[("Transformer/.*", None)]))
    frozen = optim.state_bytes(optim.build(cfg, vit_b16), vit_b16)
    trainable = optim.param_count({k: v for k, v in vit_b16.items() if k != "Transformer"})
    assert trainable == 1_511_656
    assert 8 * trainable <= frozen <= 8 * trainable + 64
