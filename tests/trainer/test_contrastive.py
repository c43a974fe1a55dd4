"""Contrastive losses against numpy, global-batch semantics, and the locked-tower train step."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P
from ml_collections import ConfigDict

from herolion import optim
from herolion.trainer import contrastive, mesh as mesh_lib, setup
from herolion.trainer.loop import mesh_context
from herolion.trainer.step import ContrastiveObjective, make_train_step
from herolion.trainer.zeroshot import recall_at
from tests.trainer.steps import run_steps


def unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def np_log_softmax(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def np_softmax_loss(zi, zt, t, b=0.0):
    z = zi @ zt.T * t + b
    n = len(z)
    i2t = -np.mean([np_log_softmax(z, 1)[i, i] for i in range(n)])
    t2i = -np.mean([np_log_softmax(z, 0)[i, i] for i in range(n)])
    return (i2t + t2i) / 2


def np_sigmoid_loss(zi, zt, t, b):
    z = zi @ zt.T * t + b
    total = 0.0
    for i in range(len(z)):
        for j in range(len(z)):
            label = 1.0 if i == j else -1.0
            total += np.logaddexp(0.0, -label * z[i, j])   # -log sigmoid(label * z)
    return total / len(z)


@pytest.mark.parametrize("t,b", [(1.0, None), (10.0, None), (37.5, 2.0)])
def test_softmax_contrastive_matches_numpy(t, b):
    rng = np.random.default_rng(0)
    zi, zt = unit(rng, 24, 16), unit(rng, 24, 16)
    got = contrastive.softmax_contrastive(jnp.asarray(zi, jnp.float32), jnp.asarray(zt, jnp.float32),
                                          t, b)
    np.testing.assert_allclose(float(got), np_softmax_loss(zi, zt, t, b or 0.0), rtol=1e-5)


@pytest.mark.parametrize("t,b", [(1.0, 0.0), (10.0, -10.0)])
def test_sigmoid_contrastive_matches_numpy(t, b):
    rng = np.random.default_rng(1)
    zi, zt = unit(rng, 20, 8), unit(rng, 20, 8)
    got = contrastive.sigmoid_contrastive(jnp.asarray(zi, jnp.float32), jnp.asarray(zt, jnp.float32),
                                          t, b)
    np.testing.assert_allclose(float(got), np_sigmoid_loss(zi, zt, t, b), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(contrastive.LOSSES))
def test_loss_on_8_devices_equals_one_device(name):
    """Batch sharded 8 ways: every image still sees all 64 texts as negatives."""
    rng = np.random.default_rng(2)
    zi, zt = (jnp.asarray(unit(rng, 64, 16), jnp.float32) for _ in range(2))
    fn = jax.jit(lambda a, b: contrastive.LOSSES[name](a, b, 10.0, -5.0))
    single = fn(jax.device_put(zi, jax.devices()[0]), jax.device_put(zt, jax.devices()[0]))
    mesh = mesh_lib.make_mesh("data=-1")
    shard = NamedSharding(mesh, P("data"))
    sharded = fn(jax.device_put(zi, shard), jax.device_put(zt, shard))
    np.testing.assert_allclose(float(sharded), float(single), rtol=1e-6)
    # and the global value is not the mean of per-shard losses (which see 8 negatives)
    local = np.mean([float(fn(zi[i:i + 8], zt[i:i + 8])) for i in range(0, 64, 8)])
    assert abs(local - float(single)) > 1e-3


def test_recall_at_matches_a_brute_force_count():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(30, 30))
    scores[np.arange(30), np.arange(30)] += rng.normal(1.0, 1.0, 30)
    for k, value in recall_at(scores, ks=(1, 3, 10)).items():
        hits = sum(sorted(scores[i], reverse=True).index(scores[i, i]) < k for i in range(30))
        assert value == pytest.approx(hits / 30)


# --- the locked-tower (LiT) train step --------------------------------------------------

def lit_config(**kw):
    base = dict(seed=0, total_steps=10, optimizer="lion", lr=1e-3, wd=0.1, loss="softmax_contrastive",
                schedule=dict(decay_type="cosine", warmup_steps=1),
                model_name="two_towers",
                model=dict(image_model="vit",
                           image=dict(patch_size=(4, 4), width=32, depth=1, mlp_dim=64,
                                      num_heads=2, num_classes=0, pool_type="gap"),
                           text_model="text",
                           text=dict(variant="mu", vocab_size=50, max_len=8, pool_type="mean"),
                           out_dim=32, image_train=False),
                lr_mults=[("img/.*", None)], input=dict(batch_size=16), mesh="data=-1")
    base.update(kw)
    return ConfigDict(base)


def pairs(n, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    return [{"image": rng.normal(size=(batch, 8, 8, 3)).astype(np.float32),
             "labels": rng.integers(0, 50, (batch, 8)).astype(np.int32)} for _ in range(n)]


def run_lit(config, data, devices=None):
    mesh = mesh_lib.make_mesh(config.mesh, devices)
    built = setup.build(config, mesh, data[0]["image"], data[0]["labels"])
    step = make_train_step(built.model, built.tx, built.schedule,
                           objective=ContrastiveObjective(contrastive.get(config.loss)),
                           frozen_mask=built.frozen_mask,
                           accum_steps=config.get("accum_steps", 1))
    state = built.init()
    start = jax.device_get(state.params)
    state, history = run_steps(step, built, mesh, config, state, data)
    return start, state, history, built


def test_locked_tower_is_bitwise_unchanged_and_has_no_optimizer_state():
    start, state, history, built = run_lit(lit_config(), pairs(4))
    end = jax.device_get(state.params)
    jax.tree.map(np.testing.assert_array_equal, start["img"], end["img"])
    moved = [not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(start["txt"]),
                                                      jax.tree.leaves(end["txt"]))]
    assert all(moved)
    assert not np.array_equal(start["t"], end["t"])
    # optimizer state: exactly one f32 momentum per trainable (text tower + temperature) value
    trainable = {k: v for k, v in built.abstract.params.items() if k != "img"}
    floats = [x for x in jax.tree.leaves(state.opt_state) if x.dtype == jnp.float32]
    assert sum(x.size for x in floats) == optim.memory.param_count(trainable)
    assert all(np.isfinite(m["loss"]) for m in history) and "t" in history[0]


def test_locked_tower_costs_no_backward_pass():
    """Compiled FLOPs: freezing the image tower removes its gradient computation."""
    data = pairs(1)

    def flops(config):
        mesh = mesh_lib.make_mesh(config.mesh, jax.devices()[:1])
        built = setup.build(config, mesh, data[0]["image"], data[0]["labels"])
        step = make_train_step(built.model, built.tx, built.schedule,
                               objective=ContrastiveObjective(contrastive.softmax_contrastive),
                               frozen_mask=built.frozen_mask)
        with mesh_context(mesh, config):
            compiled = jax.jit(step).lower(built.abstract, data[0]).compile()
        cost = compiled.cost_analysis()
        return (cost[0] if isinstance(cost, list) else cost)["flops"]

    big_image = dict(lit_config().model.image.to_dict(), depth=4, width=64, mlp_dim=256,
                     num_heads=4)
    locked, open_ = lit_config(), lit_config(lr_mults=[])
    for config in (locked, open_):
        config.model.image, config.model.out_dim = big_image, big_image["width"]
    assert flops(locked) < 0.7 * flops(open_)


def test_lit_step_on_8_devices_matches_one_device():
    data = pairs(3)
    cfg = dict(optimizer="adamw", lr=1e-3)
    _, one, h1, _ = run_lit(lit_config(**cfg), data, devices=jax.devices()[:1])
    _, eight, h8, _ = run_lit(lit_config(**cfg, mesh="data=4,fsdp=2"), data)
    np.testing.assert_allclose([m["loss"] for m in h1], [m["loss"] for m in h8], rtol=1e-5)

    def compare(path, a, b):
        # Attention key biases have an exactly-zero true gradient (softmax ignores a constant
        # per query); Adam's first steps normalise float noise in it to ±lr. Outputs ignore it.
        if "key" not in jax.tree_util.keystr(path):
            np.testing.assert_allclose(a, b, atol=1e-5, err_msg=jax.tree_util.keystr(path))
    jax.tree_util.tree_map_with_path(compare, jax.device_get(one.params),
                                     jax.device_get(eight.params))


# --- gradient accumulation keeps every negative (grad_cache) ------------------------------

@pytest.mark.parametrize("loss,bias", [("softmax_contrastive", None),
                                       ("sigmoid_contrastive", 0.0)])
def test_accumulated_contrastive_grads_equal_the_whole_batch(loss, bias):
    """4 micro-batches through ``grad_cache`` give the gradient of the 16-pair loss, not
    the mean of four 4-pair losses; the locked image tower gets none."""
    from herolion.trainer import frozen as frozen_lib, grad_cache
    config = lit_config(loss=loss)
    config.model.bias_init = bias
    data = pairs(1)[0]
    mesh = mesh_lib.make_mesh(config.mesh, jax.devices()[:1])
    built = setup.build(config, mesh, data["image"], data["labels"])
    params = jax.device_get(built.init().params)
    trainable, frozen = frozen_lib.partition(params, built.frozen_mask)
    objective = ContrastiveObjective(contrastive.get(loss))
    rng = jax.random.key(0)

    def embed(trainable, batch, rng):
        full = frozen_lib.combine(built.frozen_mask, trainable, frozen)
        return objective.embed(built.model, full, {}, batch, rng)

    def whole(trainable):
        zimg, ztxt, t, b = embed(trainable, data, rng)
        return objective.loss_fn(zimg, ztxt, t, b)

    want_loss, want = jax.jit(jax.value_and_grad(whole))(trainable)
    micro = jax.tree.map(lambda x: x.reshape((4, 4) + x.shape[1:]), data)
    got_loss, got, t = jax.jit(lambda p: grad_cache.full_batch_grads(
        embed, objective.loss_fn, p, micro, rng))(trainable)
    np.testing.assert_allclose(float(got_loss), float(want_loss), rtol=1e-5)
    assert float(t) == pytest.approx(10.0)
    leaves = jax.tree_util.tree_leaves_with_path(want)
    assert {jax.tree_util.keystr(p)[:6] for p, _ in leaves} == {"['txt'", "['t']"} | (
        {"['b']"} if bias is not None else set())
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6), got, want)
    # plain accumulation (the mean of four 4-pair problems' gradients) is measurably off
    micro_grad = jax.jit(jax.grad(lambda p, batch: objective.loss_fn(*embed(p, batch, rng))))
    plain = jax.tree.map(lambda *g: sum(g) / 4, *[
        micro_grad(trainable, jax.tree.map(lambda x: x[i], micro)) for i in range(4)])
    flat = lambda tree: np.concatenate([np.ravel(x) for x in jax.tree.leaves(tree)])
    off = np.linalg.norm(flat(plain) - flat(want)) / np.linalg.norm(flat(want))
    assert off > 0.05


def test_lit_train_step_with_accumulation_matches_one_big_batch():
    # SGD-momentum: updates proportional to gradients (Adam/Lion would turn float noise in
    # exactly-zero gradients, e.g. attention key biases, into ±lr steps)
    data, cfg = pairs(3), dict(optimizer="sgdm", lr=0.5, wd=0.0)
    _, one, h1, _ = run_lit(lit_config(**cfg), data, devices=jax.devices()[:1])
    _, acc, h4, _ = run_lit(lit_config(**cfg, accum_steps=4), data, devices=jax.devices()[:1])
    np.testing.assert_allclose([m["loss"] for m in h4], [m["loss"] for m in h1], rtol=1e-5)
    np.testing.assert_allclose([m["grad_norm"] for m in h4], [m["grad_norm"] for m in h1],
                               rtol=1e-4)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=2e-5),
                 jax.device_get(acc.params), jax.device_get(one.params))
