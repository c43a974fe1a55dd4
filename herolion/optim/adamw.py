"""AdamW exactly as the paper's Algorithm 1.

``m̂ = m/(1−β1^t)``, ``v̂ = v/(1−β2^t)``, ``θ ← θ − η_t (m̂/(√v̂ + ε) + λθ)``: bias-corrected,
ε outside the square root, decay decoupled and scaled by η_t. Two state tensors per
parameter: the memory Lion halves.
"""
import optax

from herolion.optim import _validate
from herolion.optim.decay import with_decay_and_lr
from herolion.optim.moments import scale_by_adam


def adamw(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 0.0, *, mu_dtype=None, mask=None) -> optax.GradientTransformation:
    """AdamW (Algorithm 1). ``mu_dtype`` stores the first moment only in that dtype."""
    _validate.check_learning_rate(learning_rate)
    direction = scale_by_adam(_validate.check_beta(b1, "b1"), _validate.check_beta(b2, "b2"),
                              _validate.check_nonnegative(eps, "eps"), mu_dtype)
    return with_decay_and_lr(direction, learning_rate,
                             _validate.check_weight_decay(weight_decay), mask)
