"""big_vision flat .npz export/import for ViT params."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.errors import ConfigError
from herolion.models import create
from herolion.models.npz import flatten, load_npz, save_npz
from .helpers import fake_init


@pytest.fixture(scope="module")
def params():
    model = create("vit", variant="mu/4", pool_type="map", num_classes=3, head_zeroinit=False)
    return fake_init(model, jnp.zeros((1, 16, 16, 3)))["params"]


def test_flat_keys_are_big_vision_paths(params):
    keys = set(flatten(params))
    for key in ("embedding/kernel", "pos_embedding", "head/bias",
                "Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel",
                "Transformer/encoderblock_1/MultiHeadDotProductAttention_0/query/kernel",
                "Transformer/encoder_norm/scale", "MAPHead_0/probe"):
        assert key in keys, key


def test_round_trip_is_exact(params, tmp_path):
    path = tmp_path / "vit.npz"
    save_npz(path, params)
    with np.load(path, allow_pickle=False) as f:
        assert "Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel" in f.files
    loaded = load_npz(path, params)
    assert jax.tree.structure(loaded) == jax.tree.structure(params)
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(a, np.asarray(b)) or
                 (a.dtype == b.dtype) or pytest.fail("dtype"), loaded, params)


def test_import_against_an_abstract_template(params, tmp_path):
    path = tmp_path / "vit.npz"
    save_npz(path, params)
    template = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), params)
    loaded = load_npz(path, template)
    np.testing.assert_array_equal(loaded["pos_embedding"], params["pos_embedding"])


def _write(path, flat):
    with open(path, "wb") as f:
        np.savez(f, **flat)


def test_missing_key_is_named(params, tmp_path):
    flat = {k: np.asarray(v) for k, v in flatten(params).items()}
    del flat["Transformer/encoderblock_1/LayerNorm_1/bias"]
    _write(tmp_path / "x.npz", flat)
    key = "Transformer/encoderblock_1/LayerNorm_1/bias"
    with pytest.raises(ConfigError, match=f"missing key '{key}'"):
        load_npz(tmp_path / "x.npz", params)


def test_misshaped_key_is_named(params, tmp_path):
    flat = {k: np.asarray(v) for k, v in flatten(params).items()}
    flat["head/kernel"] = np.zeros((32, 4), np.float32)
    _write(tmp_path / "x.npz", flat)
    with pytest.raises(ConfigError, match=r"key 'head/kernel' has shape \(32, 4\)"):
        load_npz(tmp_path / "x.npz", params)


def test_unexpected_key_is_named(params, tmp_path):
    flat = {k: np.asarray(v) for k, v in flatten(params).items()}
    flat["extra/kernel"] = np.zeros(3)
    _write(tmp_path / "x.npz", flat)
    with pytest.raises(ConfigError, match="unexpected key 'extra/kernel'"):
        load_npz(tmp_path / "x.npz", params)


def test_old_posembed_input_key_is_accepted(params, tmp_path):
    flat = {k: np.asarray(v) for k, v in flatten(params).items()}
    flat["Transformer/posembed_input/pos_embedding"] = flat.pop("pos_embedding")
    _write(tmp_path / "x.npz", flat)
    loaded = load_npz(tmp_path / "x.npz", params)
    np.testing.assert_array_equal(loaded["pos_embedding"], params["pos_embedding"])


def test_big_vision_tok_posemb_without_class_row(params, tmp_path):
    flat = {k: np.asarray(v) for k, v in flatten(params).items()}
    assert flat["pos_embedding"].shape == (1, 16, 32)  # map pooling: no class token
    tok = create("vit", variant="mu/4", pool_type="tok", num_classes=3)
    template = jax.eval_shape(lambda: tok.init(jax.random.PRNGKey(0),
                                               jnp.zeros((1, 16, 16, 3))))["params"]
    flat = {k: v for k, v in flat.items() if not k.startswith("MAPHead_0")}
    flat["cls"] = np.ones((1, 1, 32), np.float32)
    _write(tmp_path / "bv.npz", flat)
    loaded = load_npz(tmp_path / "bv.npz", template)
    assert loaded["pos_embedding"].shape == (1, 17, 32)
    np.testing.assert_array_equal(loaded["pos_embedding"][:, 0], 0.0)
    np.testing.assert_array_equal(loaded["pos_embedding"][:, 1:], params["pos_embedding"])


def test_pickled_object_arrays_are_refused(params, tmp_path):
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, **{"pos_embedding": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ConfigError, match="evil.npz"):
        load_npz(path, params)
