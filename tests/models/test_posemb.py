"""Position-embedding resampling and loading params into a new resolution / head."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.errors import ConfigError
from herolion.models import create
from herolion.models.posemb import adapt_params, load_params_for, resample_posemb
from .helpers import fake_init


@pytest.mark.parametrize("tokens", [16, 17, 197])
def test_same_grid_is_identity(tokens):
    old = jax.random.normal(jax.random.PRNGKey(0), (1, tokens, 8))
    np.testing.assert_array_equal(resample_posemb(old, tokens), old)


def test_class_token_kept_apart_and_constant_grid_stays_constant():
    grid = jnp.full((1, 16, 4), 3.0)
    cls = jnp.arange(4.0)[None, None]
    new = resample_posemb(jnp.concatenate([cls, grid], axis=1), 1 + 64)
    assert new.shape == (1, 65, 4)
    np.testing.assert_array_equal(new[:, :1], cls)
    np.testing.assert_allclose(new[:, 1:], 3.0, rtol=1e-6)


def test_resample_follows_the_2d_grid():
    # A ramp along x, 2x2 -> 4x4: every row of the new grid is the same ramp.
    old = jnp.array([[0.0], [1.0], [0.0], [1.0]])[None]
    new = np.asarray(resample_posemb(old, 16))[0, :, 0].reshape(4, 4)
    np.testing.assert_allclose(new, np.tile(new[:1], (4, 1)))
    assert np.all(np.diff(new[0]) >= 0) and new[0, 0] < new[0, -1]


def test_finetune_init_at_higher_resolution():
    small = create("vit", variant="mu/4", num_classes=10, head_zeroinit=False)
    old = fake_init(small, jnp.zeros((1, 16, 16, 3)))["params"]
    new = load_params_for("vit", {"variant": "mu/4", "num_classes": 7}, old, (1, 32, 32, 3))
    assert new["pos_embedding"].shape == (1, 1 + 64, 32)
    assert not np.any(new["head"]["kernel"]) and new["head"]["kernel"].shape == (32, 7)
    old_flat = dict(jax.tree_util.tree_leaves_with_path(old))
    for path, value in jax.tree_util.tree_leaves_with_path(new):
        keys = jax.tree_util.keystr(path)
        if "pos_embedding" in keys or "head" in keys:
            continue
        np.testing.assert_array_equal(value, old_flat[path], err_msg=keys)
    np.testing.assert_array_equal(new["pos_embedding"][:, 0], old["pos_embedding"][:, 0])
    big = create("vit", variant="mu/4", num_classes=7)
    out = big.apply({"params": new}, jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 3)))
    assert out.shape == (2, 7) and np.all(np.isfinite(out))
    rep = create("vit", variant="mu/4", num_classes=0).apply(
        {"params": new}, jnp.ones((2, 32, 32, 3)))
    assert np.all(np.isfinite(rep))


def test_head_kept_when_same_shape_and_not_reinit():
    model = create("vit", variant="mu/4", num_classes=5, head_zeroinit=False)
    params = fake_init(model, jnp.zeros((1, 16, 16, 3)))["params"]
    abstract = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(9), jnp.zeros((1, 16, 16, 3))))
    kept = adapt_params(abstract["params"], params, reinit_head=False)
    jax.tree.map(np.testing.assert_array_equal, kept, params)
    fresh = adapt_params(abstract["params"], params)
    assert not np.any(fresh["head"]["kernel"])


def test_incompatible_params_name_the_key():
    old = fake_init(create("vit", variant="mu/4"), jnp.zeros((1, 16, 16, 3)))["params"]
    with pytest.raises(ConfigError, match="Transformer/encoderblock_0/MlpBlock_0/Dense_0/"):
        load_params_for("vit", {"variant": "mu/4", "mlp_dim": 48}, old, (1, 16, 16, 3))
    with pytest.raises(ConfigError, match="MAPHead_0"):
        load_params_for("vit", {"variant": "mu/4", "pool_type": "map"}, old, (1, 16, 16, 3))
