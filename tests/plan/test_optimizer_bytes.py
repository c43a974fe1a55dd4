"""Param and optimizer-state bytes equal optim.state_bytes and the hand formulas."""
import jax
import pytest

from herolion import optim
from herolion import plan as planner
from herolion.plan.core import variant_config
from tests.plan.helpers import config


@pytest.fixture(scope="module")
def replicated():
    cfg = config(polyak=dict(decay=0.999, dtype="bfloat16"))
    analysis = planner.analyse(cfg, ("config", *planner.VARIANTS))
    return cfg, analysis, planner.layout(analysis, {"data": 8}, 2, 2)


def test_params_grads_and_polyak(replicated):
    _, analysis, lay = replicated
    n = analysis.param_count
    assert n == sum(x.size for x in jax.tree.leaves(analysis.params))
    assert lay["params"] == lay["grads"] == 4 * n == optim.tree_bytes(analysis.params)
    assert lay["polyak"] == 2 * n            # bf16 average


def test_state_bytes_match_optim_state_bytes(replicated):
    cfg, analysis, lay = replicated
    for label in planner.VARIANTS:
        tx = optim.build(variant_config(cfg, label), analysis.params)
        assert lay["opt"][label] == optim.state_bytes(tx, analysis.params), label


def test_hand_formulas(replicated):
    _, analysis, lay = replicated
    n, opt = analysis.param_count, lay["opt"]
    counter = 16                              # a few int32 step counts (schedule, moments)
    assert 4 * n <= opt["lion"] <= 4 * n + counter
    assert 2 * n <= opt["lion_bf16"] <= 2 * n + counter
    assert 8 * n <= opt["adamw"] <= 8 * n + counter
    assert 4 * n <= opt["sgdm"] <= 4 * n + counter
    # AdafactorW: bf16 momentum (2 B/param) + factored second moments (rows + cols)
    assert 2 * n < opt["adafactorw"] < 0.3 * opt["adamw"]
    assert opt["config"] == opt["lion"]


def test_fsdp_divides_optimizer_state(replicated):
    _, analysis, full = replicated
    lay = planner.layout(analysis, {"data": 2, "fsdp": 4}, 2, 2)
    for label in ("lion", "lion_bf16", "adamw", "sgdm"):
        assert full["opt"][label] / 4 <= lay["opt"][label] < full["opt"][label] / 4 * 1.05
    assert lay["opt"]["lion"] - lay["params"] <= 16   # momentum sharded like the params
