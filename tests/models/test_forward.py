"""Forward + backward of a tiny variant of every family: shapes, finiteness, determinism
given the rng, and that dropout / stochastic depth really act in train mode.

One jitted value_and_grad per model (compiles dominate the time on CPU); eval-mode checks run
eagerly.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.models import create
from .helpers import fake_init

TOKENS = jnp.arange(16).reshape(2, 8) % 50

# (name, kwargs, whether train mode is stochastic)
MODELS = [
    ("vit", {"variant": "mu/8", "dropout": 0.2, "droppath": 0.5}, True),
    ("vit", {"variant": "mu/8", "pool_type": "map", "scan": True, "droppath": 0.5}, True),
    ("mixer", {"variant": "mu/8", "droppath": 0.5}, True),
    ("resnet", {"depth": 18, "width": 8}, False),
    ("coatnet", {"variant": "mu", "droppath": 0.5}, True),
    ("text", {"variant": "mu", "vocab_size": 50, "max_len": 8, "droppath": 0.5}, True),
]


def _inputs(name, images):
    return TOKENS if name == "text" else images


@pytest.mark.parametrize("name,kw,stochastic", MODELS, ids=lambda x: str(x))
def test_forward_backward(name, kw, stochastic, images):
    model = create(name, num_classes=5, **kw)
    x = _inputs(name, images)
    variables = fake_init(model, x)

    @jax.jit
    def step(params, rng):
        def loss(p):
            logits, updates = model.apply({**variables, "params": p}, x, train=True,
                                          rngs={"dropout": rng}, mutable=["batch_stats"])
            return jnp.mean((logits - 1.0) ** 2), (logits, updates)
        return jax.value_and_grad(loss, has_aux=True)(params)

    (loss, (logits, updates)), grads = step(variables["params"], jax.random.PRNGKey(2))
    if "batch_stats" in variables:  # BatchNorm: train mode updates the running statistics
        changed = jax.tree.map(lambda a, b: not np.allclose(a, b),
                               variables["batch_stats"], updates["batch_stats"])
        assert all(jax.tree.leaves(changed))
    else:
        assert not updates
    assert logits.shape == (2, 5)
    assert np.isfinite(float(loss))
    assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    assert sum(float(jnp.abs(g).sum()) for g in jax.tree.leaves(grads)) > 0
    assert float(jnp.abs(grads["head"]["kernel"]).sum()) > 0

    (loss2, (logits2, _)), grads2 = step(variables["params"], jax.random.PRNGKey(2))
    np.testing.assert_array_equal(logits, logits2)
    jax.tree.map(np.testing.assert_array_equal, grads, grads2)
    (_, (logits3, _)), _ = step(variables["params"], jax.random.PRNGKey(3))
    assert (not np.allclose(logits, logits3)) == stochastic

    # Eval mode: deterministic, no rng needed, nothing mutated.
    evaluate = jax.jit(lambda v: model.apply(v, x, train=False))
    out = evaluate(variables)
    assert out.shape == (2, 5) and np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, evaluate(variables))


@pytest.mark.parametrize("name,kw,width", [
    ("vit", {"variant": "mu/8"}, 32), ("mixer", {"variant": "mu/8"}, 32),
    ("resnet", {"depth": 18, "width": 8}, 64), ("coatnet", {"variant": "mu"}, 32),
    ("text", {"variant": "mu", "vocab_size": 50, "max_len": 8}, 32)])
def test_num_classes_zero_returns_the_representation(name, kw, width, images):
    model = create(name, num_classes=0, **kw)
    x = _inputs(name, images)
    variables = fake_init(model, x)
    assert "head" not in variables["params"]
    assert jax.eval_shape(lambda: model.apply(variables, x)).shape == (2, width)


def test_vit_gap_sincos_and_bf16_compute(images):
    model = create("vit", variant="mu/8", pool_type="gap", posemb="sincos2d", num_classes=3,
                   dtype="bfloat16")
    variables = fake_init(model, images)
    assert "pos_embedding" not in variables["params"] and "cls" not in variables["params"]
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(variables["params"]))
    out = jax.jit(lambda v: model.apply(v, images))(variables)
    assert out.dtype == jnp.bfloat16 and np.all(np.isfinite(np.asarray(out, np.float32)))


def test_text_pooling_types():
    outs = []
    for pool in ("first", "last", "mean"):
        model = create("text", variant="mu", vocab_size=50, max_len=8, num_classes=4,
                       pool_type=pool)
        variables = fake_init(model, TOKENS)
        outs.append(np.asarray(model.apply(variables, TOKENS)))
    assert not np.allclose(outs[0], outs[1]) and not np.allclose(outs[0], outs[2])


def test_two_towers():
    model = create("two_towers", image_model="vit", image={"variant": "mu/8"},
                   text_model="text", text={"variant": "mu", "vocab_size": 50, "max_len": 8},
                   out_dim=16, bias_init=-10.0)
    images = jnp.ones((2, 16, 16, 3))
    variables = fake_init(model, images, TOKENS)
    assert set(variables["params"]) == {"img", "txt", "t", "b"}
    assert variables["params"]["img"]["head"]["kernel"].shape == (32, 16)
    # The image head is not zero-initialised in a two-tower model.
    real = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), images, TOKENS))
    assert real["params"]["t"].shape == ()

    apply = jax.jit(model.apply)
    zimg, ztxt, out = apply(variables, images, TOKENS)
    assert zimg.shape == ztxt.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(zimg, axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ztxt, axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(float(out["t"]), np.exp(float(variables["params"]["t"])), rtol=1e-6)
    assert float(out["b"]) == float(variables["params"]["b"])
    zimg_only, none, _ = apply(variables, images, None)
    assert none is None
    np.testing.assert_allclose(zimg_only, zimg, rtol=1e-6)

    @jax.jit
    def grads(params):
        def loss(p):
            zi, zt, o = model.apply({"params": p}, images, TOKENS)
            logits = zi @ zt.T * o["t"] + o["b"]
            return -jnp.mean(jnp.diag(jax.nn.log_softmax(logits)))
        return jax.grad(loss)(params)

    g = grads(variables["params"])
    assert np.isfinite(float(g["t"])) and float(jnp.abs(g["txt"]["head"]["kernel"]).sum()) > 0
    assert float(jnp.abs(g["img"]["head"]["kernel"]).sum()) > 0


def test_two_towers_temperature_init():
    model = create("two_towers", image={"variant": "mu/8"},
                   text={"variant": "mu", "vocab_size": 50, "max_len": 8}, out_dim=4)
    params = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), jnp.ones((1, 16, 16, 3)),
                                               TOKENS))["params"]
    assert "b" not in params
    t = model.init({"params": jax.random.PRNGKey(0)}, None, None)["params"]["t"]
    np.testing.assert_allclose(float(t), np.log(10.0), rtol=1e-6)


def test_text_padding_mask_makes_the_embedding_independent_of_padding():
    import jax
    import jax.numpy as jnp
    from herolion import models
    tokens = jnp.array([[5, 9, 3, 1, 0, 0, 0, 0], [7, 1, 0, 0, 0, 0, 0, 0]], jnp.int32)
    longer = jnp.pad(tokens, ((0, 0), (0, 4)))
    for scan in (False, True):
        masked = models.create("text", variant="mu", vocab_size=16, max_len=12, num_classes=8,
                               pool_type="mean", pad_id=0, scan=scan)
        params = jax.jit(masked.init)(jax.random.PRNGKey(0), longer)
        apply = jax.jit(masked.apply)
        a, b = apply(params, tokens), apply(params, longer)
        assert jnp.allclose(a, b, atol=1e-5)
        plain = jax.jit(models.create("text", variant="mu", vocab_size=16, max_len=12,
                                      num_classes=8, pool_type="mean", scan=scan).apply)
        assert not jnp.allclose(plain(params, tokens), plain(params, longer), atol=1e-3)
