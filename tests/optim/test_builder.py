"""`optim.build`: a config becomes one optax transform with per-leaf rules."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from herolion import optim
from herolion.errors import ConfigError


def params():
    rng = np.random.default_rng(0)
    f = lambda *s: jnp.asarray(rng.normal(size=s), jnp.float32)
    return {
        "img": {"embedding": {"kernel": f(4, 4, 3, 8), "bias": f(8)}, "cls": f(1, 1, 8),
                "pos_embedding": f(1, 5, 8), "norm": {"scale": f(8)}},
        "txt": {"Dense_0": {"kernel": f(8, 6), "bias": f(6)}},
        "head": {"kernel": f(8, 3), "bias": f(3)},
    }


def config(**kw):
    base = dict(optimizer="sgdm", lr=0.1, wd=0.01, optax=dict(momentum=0.0))
    return ConfigDict({**base, **kw})


def one_update(cfg, p, g, steps=1):
    tx = optim.build(cfg, p)
    state = tx.init(p)
    for _ in range(steps):
        updates, state = tx.update(g, state, p)
    return updates, state


def test_plain_sgd_probe_shows_default_decay_and_multipliers():
    """With momentum 0 the update is −η·m_lr·(g + λ·m_wd·θ): each leaf's factors are visible."""
    p = params()
    g = jax.tree.map(jnp.ones_like, p)
    cfg = config(lr_mults=[("head/.*", 10.0)], wd_mults=[("txt/.*", 0.5)])
    updates, _ = one_update(cfg, p, g)
    lr, wd = 0.1, 0.01
    expect = {
        "img": {"embedding": {"kernel": -lr * (1 + wd * p["img"]["embedding"]["kernel"]),
                              "bias": -lr * g["img"]["embedding"]["bias"]},
                "cls": -lr * g["img"]["cls"], "pos_embedding": -lr * g["img"]["pos_embedding"],
                "norm": {"scale": -lr * g["img"]["norm"]["scale"]}},
        # wd_mults matched: even the bias decays (the rule overrides the default).
        "txt": {"Dense_0": {"kernel": -lr * (1 + 0.5 * wd * p["txt"]["Dense_0"]["kernel"]),
                            "bias": -lr * (1 + 0.5 * wd * p["txt"]["Dense_0"]["bias"])}},
        "head": {"kernel": -10 * lr * (1 + wd * p["head"]["kernel"]),
                 "bias": -10 * lr * g["head"]["bias"]},
    }
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), updates, expect)


def test_lion_from_config_equals_lion_constructor():
    p = params()
    g = jax.tree.map(lambda x: jnp.sin(7 * x), p)
    cfg = ConfigDict(dict(optimizer="lion", lr=1e-3, wd=1.0, optax=dict(b2=0.98)))
    built, _ = one_update(cfg, p, g, steps=3)
    mask = jax.tree_util.tree_map_with_path(
        lambda path, x: x.ndim >= 2 and path[-1].key not in ("cls", "pos_embedding"), p)
    tx = optim.lion(1e-3, b2=0.98, weight_decay=1.0, mask=mask)
    state = tx.init(p)
    for _ in range(3):
        direct, state = tx.update(g, state, p)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), built, direct)


def test_frozen_leaves_get_no_state_and_no_update():
    p = params()
    g = jax.tree.map(jnp.ones_like, p)
    cfg = ConfigDict(dict(optimizer="adamw", lr=1e-3, lr_mults=[("img/.*", None)]))
    updates, state = one_update(cfg, p, g)
    for leaf in jax.tree.leaves(updates["img"]):
        np.testing.assert_array_equal(leaf, 0.0)
    assert all(np.abs(leaf).min() > 0 for leaf in jax.tree.leaves(updates["txt"]))
    trainable = optim.param_count(p) - optim.param_count(p["img"])
    used = optim.state_bytes(optim.build(cfg, p), p)
    assert 8 * trainable <= used <= 8 * trainable + 16  # m and v for trainable leaves + counts
    assert optim.tree_bytes(state) == used


def test_schedule_from_config_at_chosen_steps():
    cfg = config(total_steps=100, schedule=dict(decay_type="cosine", warmup_steps=10))
    sched = optim.build_schedule(cfg)
    np.testing.assert_allclose([float(sched(s)) for s in (0, 5, 10, 55, 100)],
                               [0.0, 0.05, 0.1, 0.05, 0.0], atol=1e-7)
    # the first update of the built optimizer uses schedule(0) == 0 (warmup from zero)
    p = params()
    updates, _ = one_update(cfg, p, jax.tree.map(jnp.ones_like, p))
    assert all(float(jnp.abs(u).max()) == 0.0 for u in jax.tree.leaves(updates))


def test_gradient_clipping_bounds_the_global_norm():
    p = params()
    g = jax.tree.map(lambda x: 1e3 * jnp.ones_like(x), p)
    updates, _ = one_update(config(wd=0.0, grad_clip_norm=1.0), p, g)
    norm = float(jnp.sqrt(sum(jnp.sum(u ** 2) for u in jax.tree.leaves(updates))))
    np.testing.assert_allclose(norm, 0.1 * 1.0, rtol=1e-5)


def test_mu_dtype_string_is_understood():
    p = params()
    cfg = ConfigDict(dict(optimizer="lion", lr=1e-4, optax=dict(mu_dtype="bfloat16")))
    _, state = one_update(cfg, p, jax.tree.map(jnp.ones_like, p))
    assert {x.dtype for x in jax.tree.leaves(state[0].mu)} == {jnp.dtype(jnp.bfloat16)}


@pytest.mark.parametrize("overrides, field", [
    (dict(lr=-1.0), "config.lr"),
    (dict(lr=None), "config.lr"),
    (dict(optimizer="lamb"), "config.optimizer"),
    (dict(optimizer="lion", optax=dict(b1=1.5)), r"config.optax.b1"),
    (dict(optimizer="adamw", optax=dict(b2=-0.1)), r"config.optax.b2"),
    (dict(optimizer="lion", optax=dict(beta1=0.9)), r"config.optax.beta1"),
    (dict(optimizer="lion", optax=dict(mu_dtype="bfloat17")), r"config.optax.mu_dtype"),
    (dict(lr_mults=[("nothing/.*", 2.0)]), r"config.lr_mults\[0\]"),
    (dict(wd_mults=[(".*", 1.0), ("txt/Dense_9/.*", 0.0)]), r"config.wd_mults\[1\]"),
    (dict(wd_mults=[("(", 1.0)]), r"config.wd_mults\[0\]"),
    (dict(lr_mults=[("head/.*", -1.0)]), r"config.lr_mults\[0\]"),
    (dict(wd=-0.1), "config.wd"),
    (dict(grad_clip_norm=-1.0), "config.grad_clip_norm"),
    (dict(schedule=dict(decay_type="cosine")), "config.schedule"),
    (dict(schedule=dict(warmup=10)), "config.schedule.warmup"),
])
def test_bad_config_names_the_field(overrides, field):
    with pytest.raises(ConfigError, match=f"^{field}") as err:
        optim.build(config(**overrides), params())
    assert "\n" not in str(err.value)
