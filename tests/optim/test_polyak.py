"""Polyak averaging is an EMA of the parameters, computed in f32, stored in its dtype."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion import optim
from herolion.errors import ConfigError


def test_polyak_is_an_ema_of_params():
    rng = np.random.default_rng(0)
    seq = [{"w": rng.normal(size=(4, 3)).astype(np.float32)} for _ in range(10)]
    avg = optim.polyak.init(seq[0])
    want = seq[0]["w"].astype(np.float64)
    for p in seq[1:]:
        avg = jax.jit(optim.polyak.update, static_argnums=2)(avg, p, 0.9)
        want = 0.9 * want + 0.1 * p["w"]
    np.testing.assert_allclose(avg["w"], want, rtol=1e-6, atol=1e-7)


def test_polyak_state_dtype_is_selectable():
    params = {"w": jnp.ones((3, 3), jnp.float32)}
    avg = optim.polyak.init(params, dtype=jnp.bfloat16)
    assert avg["w"].dtype == jnp.bfloat16
    new = optim.polyak.update(avg, {"w": jnp.zeros((3, 3))}, 0.5)
    assert new["w"].dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(new["w"], np.float32), 0.5)


def test_polyak_bad_decay():
    with pytest.raises(ConfigError, match="^polyak.decay"):
        optim.polyak.update({"w": jnp.ones(2)}, {"w": jnp.ones(2)}, -0.1)
