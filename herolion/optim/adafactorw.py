"""AdafactorW: big_vision's Adafactor variant (Zhai et al., "Scaling ViTs") + decoupled λ.

- second moment factored into row/column statistics for tensors whose two largest dims
  are both >= ``min_dim_size_to_factor`` (full, elementwise otherwise), with decay
  ``β2_t = min(beta2_cap, 1 − t^(−decay_rate))`` (t counted from 1);
- momentum: an EMA of the scaled update with no debiasing, stored in ``mu_dtype``
  (bf16 by default: ~2 bytes/param in all, the optimizer JFT-3B ViT-g/G used);
- ``θ ← θ − η_t (m + λθ)``.
"""
import jax.numpy as jnp
import optax

from herolion.optim import _validate
from herolion.optim.decay import with_decay_and_lr
from herolion.optim.moments import momentum_ema, scale_by_factored_rms


def capped_power_decay(beta2_cap: float):
    """``step, rate -> min(beta2_cap, 1 − (step+1)^(−rate))``: the big_vision β2 schedule."""

    def decay(step, rate):
        t = jnp.asarray(step, jnp.float32) + 1.0
        return jnp.minimum(beta2_cap, 1.0 - t ** (-rate))

    return decay


def scale_by_adafactor(*, momentum: float | None = 0.9, decay_rate: float = 0.8,
                       beta2_cap: float = 0.999, min_dim_size_to_factor: int = 32,
                       eps: float = 1e-30, mu_dtype=jnp.bfloat16) -> optax.GradientTransformation:
    """The direction of AdafactorW (no learning rate, no decay)."""
    decay = capped_power_decay(_validate.check_beta(beta2_cap, "beta2_cap"))
    rate = _validate.check_positive(decay_rate, "decay_rate")
    rms = scale_by_factored_rms(lambda step: decay(step, rate), min_dim_size_to_factor,
                                _validate.check_nonnegative(eps, "eps"))
    if not momentum:
        return rms
    return optax.chain(rms, momentum_ema(_validate.check_beta(momentum, "momentum"), mu_dtype))


def adafactorw(learning_rate, weight_decay: float = 0.0, *, momentum: float | None = 0.9,
               decay_rate: float = 0.8, beta2_cap: float = 0.999,
               min_dim_size_to_factor: int = 32, eps: float = 1e-30,
               mu_dtype=jnp.bfloat16, mask=None) -> optax.GradientTransformation:
    """AdafactorW; ``momentum=None`` (or 0) drops the momentum state entirely."""
    _validate.check_learning_rate(learning_rate)
    direction = scale_by_adafactor(
        momentum=momentum, decay_rate=decay_rate, beta2_cap=beta2_cap,
        min_dim_size_to_factor=min_dim_size_to_factor, eps=eps, mu_dtype=mu_dtype)
    return with_decay_and_lr(direction, learning_rate,
                             _validate.check_weight_decay(weight_decay), mask)
