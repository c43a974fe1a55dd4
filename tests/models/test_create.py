"""create(): names, variant strings, bad input -> ConfigError naming the field; light imports."""
import os
import subprocess
import sys

import pytest

import herolion.models as models
from herolion.errors import ConfigError


def test_imports_only_the_numeric_stack():
    # A fresh interpreter: other test modules may have imported tensorflow in this one.
    code = ("import sys, herolion.models; "
            "print([m for m in ('grain', 'tensorflow', 'tensorflow_datasets', 'clu') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_variant_strings():
    m = models.create("vit", variant="B/16")
    got = (m.width, m.depth, m.mlp_dim, m.num_heads, tuple(m.patch_size))
    assert got == (768, 12, 3072, 12, (16, 16))
    g = models.create("vit", variant="g/14")
    assert (g.width, g.depth, g.mlp_dim, g.num_heads) == (1408, 40, 6144, 16)
    G = models.create("vit", variant="G/14")
    assert (G.width, G.depth, G.mlp_dim, G.num_heads) == (1664, 48, 8192, 16)
    assert models.create("vit", variant="mu/4").patch_size == (4, 4)
    assert models.create("vit", variant="S/16", width=100).width == 100  # explicit wins


@pytest.mark.parametrize("call,field", [
    (lambda: models.create("nope"), "model_name"),
    (lambda: models.create("vit", variant="X/16"), "model.variant"),
    (lambda: models.create("vit", variant="B/x"), "model.variant"),
    (lambda: models.create("mixer", variant="Q/16"), "model.variant"),
    (lambda: models.create("resnet", depth=51), "model.depth"),
    (lambda: models.create("coatnet", variant="9"), "model.variant"),
    (lambda: models.create("text", variant="XXL"), "model.variant"),
    (lambda: models.create("vit", pool_type="cls"), "model.pool_type"),
    (lambda: models.create("vit", posemb="rope"), "model.posemb"),
    (lambda: models.create("vit", variant="B/16", widht=3), "model.widht"),
    (lambda: models.create("vit", dtype="float8"), "model.dtype"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ConfigError) as err:
        m = call()
        # dtype is resolved lazily, at trace time.
        import jax, jax.numpy as jnp
        jax.eval_shape(lambda: m.init(jax.random.PRNGKey(0), jnp.zeros((1, 32, 32, 3))))
    assert str(err.value).startswith(field + ":"), str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_variant_lists_known_ones():
    with pytest.raises(ConfigError, match="known: mu, Ti, S"):
        models.create("vit", variant="X")
