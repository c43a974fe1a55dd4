"""The attention core against a numpy reference, and the flax-style einsum form."""
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.models.attention import attend, attend_einsum


def numpy_attention(q, k, v, bias):
    """Per head: softmax(q kᵀ + bias) v, with q [..., q, h, d] and k, v [..., k, h, d]."""
    logits = np.einsum("...qhd,...khd->...hqk", q.astype(np.float64), k.astype(np.float64))
    if bias is not None:
        logits = logits + bias
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("...hqk,...khd->...qhd", weights, v.astype(np.float64))


@pytest.mark.parametrize("lead,with_bias", [((2,), False), ((2,), True), ((2, 3), True), ((), False)])
def test_attend_matches_numpy_and_einsum(lead, with_bias):
    rng = np.random.default_rng(0)
    heads, nq, nk, dim = 3, 5, 7, 4
    q = rng.normal(size=(*lead, nq, heads, dim)).astype(np.float32)
    k = rng.normal(size=(*lead, nk, heads, dim)).astype(np.float32)
    v = rng.normal(size=(*lead, nk, heads, dim)).astype(np.float32)
    # a relative-position-style bias [h, q, k], and a padding mask on the last key
    bias = None
    if with_bias:
        bias = rng.normal(size=(heads, nq, nk)).astype(np.float32)
        bias[..., -1] = -1e9
    want = numpy_attention(q, k, v, bias)
    got = attend(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), bias, jnp.float32)
    assert got.shape == (*lead, nq, heads, dim)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    flax_style = attend_einsum(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), bias, jnp.float32)
    np.testing.assert_allclose(got, flax_style, rtol=1e-5, atol=1e-6)
    if with_bias:   # the masked key gets no weight
        v_changed = v.copy()
        v_changed[..., -1, :, :] += 100.0
        again = attend(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v_changed), bias, jnp.float32)
        np.testing.assert_allclose(again, got, rtol=1e-5, atol=1e-5)


def test_bfloat16_weights_keep_float32_softmax():
    rng = np.random.default_rng(1)
    q, k, v = (jnp.asarray(rng.normal(size=(2, 6, 2, 8)), jnp.bfloat16) for _ in range(3))
    out = attend(q, k, v, None, jnp.bfloat16)
    assert out.dtype == jnp.bfloat16
    want = numpy_attention(*(np.asarray(a, np.float32) for a in (q, k, v)), None)
    np.testing.assert_allclose(np.asarray(out, np.float32), want, atol=0.05)
