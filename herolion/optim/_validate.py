"""Argument checks shared by the optimizer constructors and the config builder.

Each check raises :class:`herolion.errors.ConfigError` with one line that names the
field, so ``lion(learning_rate=-1)`` and ``config.lr = -1`` fail the same clear way.
"""
import numbers

from herolion.errors import ConfigError


def check_learning_rate(value, field: str = "learning_rate"):
    """A learning rate is a number >= 0 or a schedule (callable of the step)."""
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{field}: must be a number >= 0 or a schedule, got {value!r}")
    if value < 0:
        raise ConfigError(f"{field}: must be >= 0, got {value}")
    return value


def check_beta(value, field: str):
    """Decay rates of moving averages live in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ConfigError(f"{field}: must be in [0, 1), got {value!r}")
    return float(value)


def check_nonnegative(value, field: str):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ConfigError(f"{field}: must be a number >= 0, got {value!r}")
    return float(value)


def check_positive(value, field: str):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
        raise ConfigError(f"{field}: must be a number > 0, got {value!r}")
    return value


def check_weight_decay(value, field: str = "weight_decay"):
    """λ >= 0. Per-leaf pytrees (from ``build``) and callables are checked by their maker."""
    if isinstance(value, bool) or isinstance(value, numbers.Real):
        return check_nonnegative(value, field)
    return value
