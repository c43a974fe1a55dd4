"""Independent numpy (float64) implementations of the paper's update rules.

Written from the formulas (Algorithms 1-2, Step-3 program, Adafactor paper), not from
herolion's code. Values stored in a low-precision dtype (bf16 params or momentum) are
rounded to it after every step, exactly where the stored tensor is written.
"""
import ml_dtypes
import numpy as np

BF16 = ml_dtypes.bfloat16


def store(x, dtype):
    """Round ``x`` to ``dtype`` and back to float64: what a stored tensor holds."""
    return np.asarray(np.asarray(x).astype(dtype), np.float64)


def lion_step(p, g, m, t, lr, b1, b2, wd, bias_correction):
    """One step; returns (new_p, new_m) in float64. ``t`` counts from 1."""
    m_hat = m / (1 - (b2 ** (t - 1) if t > 1 else 0)) if bias_correction else m
    update = np.sign(b1 * m_hat + (1 - b1) * g)
    new_p = p - lr * (update + wd * p)
    new_m = b2 * m + (1 - b2) * g
    return new_p, new_m


def adamw_step(p, g, m, v, t, lr, b1, b2, eps, wd):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return p - lr * (m_hat / (np.sqrt(v_hat) + eps) + wd * p), m, v


def factored_dims(shape, min_dim):
    """(second largest axis, largest axis) if both are >= min_dim, else None."""
    if len(shape) < 2:
        return None
    order = np.argsort(shape, kind="stable")
    small, large = int(order[-2]), int(order[-1])
    return (small, large) if shape[small] >= min_dim else None


def adafactor_step(p, g, stats, mom, t, lr, wd, momentum, decay_rate, beta2_cap, min_dim,
                   eps, mu_dtype):
    """big_vision Adafactor + decoupled decay. ``stats``: (row, col) or full v."""
    beta2 = min(beta2_cap, 1 - t ** (-decay_rate))
    g2 = g * g + eps
    dims = factored_dims(p.shape, min_dim)
    if dims is not None:
        small, large = dims
        row, col = stats
        row = beta2 * row + (1 - beta2) * g2.mean(axis=large, keepdims=True)
        col = beta2 * col + (1 - beta2) * g2.mean(axis=small, keepdims=True)
        v_hat = row * col / row.mean(axis=small, keepdims=True)
        stats = (row, col)
    else:
        stats = beta2 * stats + (1 - beta2) * g2
        v_hat = stats
    update = g / np.sqrt(v_hat)
    if momentum:
        update = momentum * mom + (1 - momentum) * update
        mom = store(update, mu_dtype)
    return p - lr * (update + wd * p), stats, mom


def adafactor_init(p, min_dim):
    dims = factored_dims(p.shape, min_dim)
    if dims is None:
        return np.zeros_like(p)
    small, large = dims
    return (np.zeros_like(p.mean(axis=large, keepdims=True)),
            np.zeros_like(p.mean(axis=small, keepdims=True)))


def sgdm_step(p, g, m, lr, momentum, nesterov, wd):
    m = momentum * m + g
    direction = g + momentum * m if nesterov else m
    return p - lr * (direction + wd * p), m
