"""Small run state (step, RNG key, counters) as JSON, so a checkpoint's ``state`` is readable.

The ``state`` item is a JSON file rather than arrays: a person (or a shell script) can
read the step and seed of a checkpoint with ``cat``. Arrays that sneak in (a jax scalar
step, an RNG key) are turned into plain numbers and lists here, and :func:`encode_key`
/ :func:`decode_key` round-trip both typed keys (``jax.random.key``) and raw uint32 keys
(``jax.random.PRNGKey``) exactly.
"""
import jax
import numpy as np

from herolion.errors import ConfigError


def to_json(value, where: str = "state"):
    """A JSON-compatible copy of ``value``: dicts with str keys, lists, numbers, strings."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(f"{where}: keys must be strings, got {key!r}")
            out[key] = to_json(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if _is_typed_key(value):
        return encode_key(value)
    if isinstance(value, (np.ndarray, np.generic, jax.Array)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return array.tolist()
    raise ConfigError(f"{where}: cannot be stored as JSON ({type(value).__name__})")


def encode_key(key) -> dict:
    """``{"impl": name or None, "data": [...uint32...], "shape": [...]}`` for any PRNG key."""
    if _is_typed_key(key):
        impl = str(jax.random.key_impl(key))
        data = np.asarray(jax.random.key_data(key))
    else:
        impl, data = None, np.asarray(key)
    return {"impl": impl, "data": data.astype(np.uint32).reshape(-1).tolist(),
            "shape": list(data.shape)}


def decode_key(encoded):
    """Inverse of :func:`encode_key`; a bare list of ints is read as a raw uint32 key."""
    if isinstance(encoded, dict):
        data = np.asarray(encoded["data"], np.uint32).reshape(encoded.get("shape", [-1]))
        impl = encoded.get("impl")
        if impl is not None:
            return jax.random.wrap_key_data(data, impl=impl)
        return jax.numpy.asarray(data)
    return jax.numpy.asarray(np.asarray(encoded, np.uint32))


def _is_typed_key(value) -> bool:
    return isinstance(value, jax.Array) and jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key)
