"""The activation estimate follows the model's remat policy, by the block formulas.

With ``scan`` + remat ('nothing_saveable') each block saves only its input, so one more
block adds exactly ``tokens × width × 4`` bytes per example; the backward pass recomputes
one block at a time, whose residuals are what one more block adds without remat.
"""
import pytest

from herolion import plan as planner
from tests.plan.helpers import VIT, config

TOKENS = (32 // 8) ** 2        # 32x32 images, 8x8 patches, gap pooling (no class token)


def per_example(**model):
    return planner.analyse(config(model=dict(VIT, **model))).act_per_example


def test_remat_saves_each_block_input_only():
    four, two = per_example(depth=4, scan=True), per_example(depth=2, scan=True)
    assert four["saved"] - two["saved"] == 2 * TOKENS * VIT["width"] * 4


def test_one_block_recomputed_is_one_block_of_residuals():
    four, two = per_example(depth=4), per_example(depth=2)
    assert four["recompute"] == two["recompute"] == 0       # no scan, no remat
    block = (four["saved"] - two["saved"]) // 2
    assert block > 10 * TOKENS * VIT["width"] * 4            # q, k, v, MLP hidden, ...
    scanned = per_example(depth=4, scan=True)
    assert scanned["recompute"] == pytest.approx(block, rel=0.05)


def test_activations_scale_with_the_micro_batch():
    cfg = config(batch=64, accum_steps=2)
    analysis = planner.analyse(cfg)
    per_device, micro = planner.batch_per_device(cfg, {"data": 8})
    assert (per_device, micro) == (8, 4)
    lay = planner.layout(analysis, {"data": 8}, per_device, micro)
    assert lay["activations"] == 4 * analysis.act_per_example["saved"]
    assert lay["grads"] == 2 * lay["params"]                  # running sum + micro-batch
    assert lay["batch"] == 8 * (32 * 32 * 3 + 10) * 4


def test_frozen_params_get_no_gradient_and_no_backward_pass():
    # LiT-style: everything but the head frozen (lr_mults None): only the head's gradient
    # is held, and autodiff keeps just what the head's backward needs (pooled features).
    cfg = config(lr_mults=[("head/.*", 1.0), (".*", None)])
    analysis = planner.analyse(cfg)
    lay = planner.layout(analysis, {"data": 8}, 2, 2)
    head = analysis.params["head"]
    assert lay["grads"] == 4 * (head["kernel"].size + head["bias"].size)
    assert analysis.act_per_example["saved"] <= 4 * VIT["width"] * 2
    assert per_example()["saved"] > 100 * analysis.act_per_example["saved"]
