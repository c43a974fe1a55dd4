"""The ``state`` item is JSON: arrays and RNG keys are converted exactly."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.checkpoints import decode_key, encode_key
from herolion.checkpoints.jsonable import to_json
from herolion.errors import ConfigError


@pytest.mark.parametrize("make", [lambda: jax.random.key(42),
                                  lambda: jax.random.PRNGKey(42),
                                  lambda: jax.random.split(jax.random.key(1), 3)])
def test_keys_round_trip_through_json(make):
    key = make()
    back = decode_key(json.loads(json.dumps(encode_key(key))))
    assert back.dtype == key.dtype and back.shape == key.shape
    data = jax.random.key_data if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else np.asarray
    np.testing.assert_array_equal(data(back), data(key))


def test_raw_key_as_plain_list():
    key = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(decode_key(np.asarray(key).tolist()), key)


def test_to_json_converts_arrays_and_rejects_the_rest():
    out = to_json({"step": jnp.int32(4), "x": (1, np.float32(0.5)), "v": np.arange(3)})
    assert out == {"step": 4, "x": [1, 0.5], "v": [0, 1, 2]}
    json.dumps(out)
    with pytest.raises(ConfigError, match=r"state\.f: cannot be stored as JSON"):
        to_json({"f": object()})
    with pytest.raises(ConfigError, match="keys must be strings"):
        to_json({1: 2})
