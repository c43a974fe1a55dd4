"""Mixup: images and one-hot labels are mixed with the same coefficients."""
import jax
import jax.numpy as jnp
import numpy as np

from herolion.data import mixup


def _batch(b=8, classes=8):
    # example j is the constant image j + 1: a mixed image reveals its coefficients.
    images = jnp.broadcast_to(jnp.arange(1, b + 1, dtype=jnp.float32)[:, None, None, None],
                              (b, 4, 4, 3))
    labels = jax.nn.one_hot(jnp.arange(b) % classes, classes)
    return {"image": images, "labels": labels, "_mask": jnp.ones(b, bool)}


def test_labels_mixed_like_images():
    batch = _batch()
    out = jax.jit(lambda r, x: mixup.mixup(r, x, p=0.5))(jax.random.PRNGKey(1), batch)
    c = mixup.mixup_coefficients(jax.random.PRNGKey(1), 0.5)
    c = np.asarray(c)
    assert abs(c.sum() - 1) < 1e-5 and (c >= 0).all()
    x = np.arange(1, 9, dtype=np.float32)
    ref_images = c[0] * x + c[1] * np.roll(x, 1)
    np.testing.assert_allclose(np.asarray(out["image"])[:, 0, 0, 0], ref_images, rtol=1e-5)
    labels = np.asarray(out["labels"])
    for j in range(8):  # label weights equal the image coefficients
        np.testing.assert_allclose(labels[j, j], c[0], rtol=1e-5)
        np.testing.assert_allclose(labels[j, (j - 1) % 8], c[1], rtol=1e-5)
    np.testing.assert_allclose(labels.sum(-1), 1, rtol=1e-5)
    np.testing.assert_array_equal(out["_mask"], batch["_mask"])  # untouched


def test_off_and_random():
    batch = _batch()
    assert mixup.mixup(jax.random.PRNGKey(0), batch, p=0.0) is batch
    ratios = [float(mixup.mixup_coefficients(jax.random.PRNGKey(s), 0.2)[0]) for s in range(50)]
    assert min(ratios) < 0.2 and max(ratios) > 0.8  # Beta(0.2, 0.2) is U-shaped
    out = mixup.mixup(jax.random.PRNGKey(0), batch, p=1.0, n=3)
    np.testing.assert_allclose(np.asarray(out["labels"]).sum(-1), 1, rtol=1e-5)
