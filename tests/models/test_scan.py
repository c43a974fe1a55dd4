"""Scanned (nn.scan + remat) and unscanned ViT layouts convert into each other."""
import jax
import numpy as np

from herolion.models import create
from herolion.models.transformer import scanned_to_unscanned, unscanned_to_scanned
from .helpers import fake_init


def test_scanned_params_convert_and_give_the_same_outputs():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 16, 3))
    scanned = create("vit", variant="mu/8", num_classes=3, scan=True, head_zeroinit=False)
    plain = create("vit", variant="mu/8", num_classes=3, head_zeroinit=False)
    params = fake_init(scanned, x)["params"]
    assert params["Transformer"]["encoderblock"]["LayerNorm_0"]["scale"].shape == (2, 32)
    unscanned = scanned_to_unscanned(params)
    assert "encoderblock_1" in unscanned["Transformer"]
    assert "encoderblock" in params["Transformer"]  # input untouched
    np.testing.assert_allclose(plain.apply({"params": unscanned}, x),
                               scanned.apply({"params": params}, x), atol=1e-5, rtol=1e-5)
    back = unscanned_to_scanned(unscanned)
    jax.tree.map(np.testing.assert_array_equal, back, params)
