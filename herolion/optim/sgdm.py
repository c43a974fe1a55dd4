"""SGD with momentum: the paper's ResNet baseline and ViT's fine-tuning optimizer.

``m ← μ·m + g``; direction ``m`` (or ``g + μ·m`` with Nesterov);
``θ ← θ − η_t (direction + λθ)`` — decay decoupled like the other three optimizers so a
config's ``wd`` means the same thing whichever optimizer it names.
"""
import optax

from herolion.optim import _validate
from herolion.optim.decay import with_decay_and_lr
from herolion.optim.moments import heavy_ball


def sgdm(learning_rate, momentum: float = 0.9, nesterov: bool = False,
         weight_decay: float = 0.0, mask=None, *, mu_dtype=None) -> optax.GradientTransformation:
    """Momentum SGD (heavy-ball trace as in optax/PyTorch); ``momentum=0`` is plain SGD."""
    _validate.check_learning_rate(learning_rate)
    momentum = _validate.check_beta(momentum, "momentum")
    direction = heavy_ball(momentum, nesterov, mu_dtype) if momentum else optax.identity()
    return with_decay_and_lr(direction, learning_rate,
                             _validate.check_weight_decay(weight_decay), mask)
