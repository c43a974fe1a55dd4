"""The planner against XLA's own memory analysis of the compiled train step.

Three small runs on the 8 fake CPU devices: the real ``setup.build`` + ``make_train_step``,
jitted with the donated state, lowered and compiled; ``memory_analysis()`` gives per-device
argument, output, alias (donated) and temp bytes. Arguments are exactly the sharded state
plus the batch, so those must match the plan to the byte; the whole step (arguments +
outputs − aliased + temp) must be within 15 % of the plan's total.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion import plan as planner
from herolion.trainer import losses, mesh as mesh_lib, setup, sharding
from herolion.trainer.loop import mesh_context
from herolion.trainer.step import make_train_step
from tests.plan.helpers import VIT, config

CASES = {
    "vit-lion-data8": config(mesh="data=8", batch=16),
    "vit-adamw-fsdp4-polyak": config(mesh="data=2,fsdp=4", batch=16, optimizer="adamw",
                                     polyak=dict(decay=0.999)),
    "vit-scan-remat-lion-fsdp8": config(mesh="fsdp=8", batch=16,
                                        model=dict(VIT, depth=4, scan=True)),
}
STEP_AND_RNG = 4 + 8     # int32 step + a uint32[2] key: not in the plan's items


def compiled_memory(cfg):
    mesh = mesh_lib.make_mesh(cfg.mesh)
    built = setup.build(cfg, mesh, np.zeros((1, 32, 32, 3), np.float32))
    decay, _ = setup.polyak_config(cfg)
    step = make_train_step(built.model, built.tx, built.schedule, losses.softmax_xent,
                           polyak_decay=decay)
    batch_sharding = sharding.batch_sharding(mesh)
    n = cfg.input.batch_size
    batch = {"image": jax.ShapeDtypeStruct((n, 32, 32, 3), jnp.float32, sharding=batch_sharding),
             "labels": jax.ShapeDtypeStruct((n, cfg.model.num_classes), jnp.float32,
                                            sharding=batch_sharding)}
    with mesh_context(mesh, cfg):
        jitted = jax.jit(step, donate_argnums=0,
                         out_shardings=(built.shardings, sharding.replicated(mesh)))
        compiled = jitted.lower(setup.with_shardings(built.abstract, built.shardings),
                                batch).compile()
    return compiled.memory_analysis()


@pytest.mark.parametrize("name", list(CASES))
def test_plan_matches_xla_memory_analysis(name):
    cfg = CASES[name]
    lay = planner.plan(cfg, planner.parse_axes(cfg.mesh))["layouts"]["fsdp"]
    mem = compiled_memory(cfg)
    state = lay["params"] + lay["opt"]["config"] + lay["polyak"] + lay["model_state"]
    assert mem.argument_size_in_bytes == state + lay["batch"] + STEP_AND_RNG
    assert mem.alias_size_in_bytes >= state        # the whole state is donated
    xla_total = (mem.argument_size_in_bytes + mem.output_size_in_bytes
                 - mem.alias_size_in_bytes + mem.temp_size_in_bytes)
    ratio = lay["total"]["config"] / xla_total
    print(f"{name}: plan {lay['total']['config']:,} / XLA {xla_total:,} = {ratio:.3f}")
    assert 0.85 <= ratio <= 1.15, (name, ratio, lay, mem)


def lit_config():
    from tests.trainer.test_contrastive import lit_config as base
    cfg = base(mesh="data=8", input=dict(batch_size=16, pp="resize(32)"))
    cfg.model.image = dict(VIT, num_classes=0)
    cfg.model.out_dim = VIT["width"]
    return cfg


def test_plan_matches_xla_for_a_locked_two_tower_step():
    """LiT, data parallel: the image tower is frozen (no state, no gradient), the batch
    holds tokens. (Under FSDP XLA:CPU keeps more gathered weights for a frozen tower than
    the plan counts: 0.76 on this tiny model, see docs/plan.md.)"""
    from herolion.trainer import contrastive
    from herolion.trainer.step import ContrastiveObjective
    cfg = lit_config()
    lay = planner.plan(cfg, planner.parse_axes(cfg.mesh))["layouts"]["fsdp"]
    mesh = mesh_lib.make_mesh(cfg.mesh)
    text_len = cfg.model.text.max_len
    built = setup.build(cfg, mesh, np.zeros((1, 32, 32, 3), np.float32),
                        np.zeros((1, text_len), np.int32))
    step = make_train_step(built.model, built.tx, built.schedule,
                           objective=ContrastiveObjective(contrastive.softmax_contrastive),
                           frozen_mask=built.frozen_mask)
    rows = sharding.batch_sharding(mesh)
    batch = {"image": jax.ShapeDtypeStruct((16, 32, 32, 3), jnp.float32, sharding=rows),
             "labels": jax.ShapeDtypeStruct((16, text_len), jnp.int32, sharding=rows)}
    with mesh_context(mesh, cfg):
        mem = jax.jit(step, donate_argnums=0, out_shardings=(built.shardings, None)).lower(
            setup.with_shardings(built.abstract, built.shardings), batch).compile().memory_analysis()
    state = lay["params"] + lay["opt"]["config"]
    assert mem.argument_size_in_bytes == state + lay["batch"] + STEP_AND_RNG
    xla_total = (mem.argument_size_in_bytes + mem.output_size_in_bytes
                 - mem.alias_size_in_bytes + mem.temp_size_in_bytes)
    ratio = lay["total"]["config"] / xla_total
    print(f"lit: plan {lay['total']['config']:,} / XLA {xla_total:,} = {ratio:.3f}")
    assert 0.85 <= ratio <= 1.15, (ratio, lay, mem)
