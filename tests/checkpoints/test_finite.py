"""The NaN guard names the step and every offending metric, on one line."""
import jax.numpy as jnp
import numpy as np
import pytest

from herolion.checkpoints import NonFiniteError, check_finite


def test_finite_metrics_pass():
    check_finite(3, {"loss": 0.5, "lr": jnp.float32(1e-3), "grad_norm": np.ones(4),
                     "bf16": jnp.ones(2, jnp.bfloat16), "step": 3, "name": "vit"})


def test_non_finite_metrics_raise_naming_step_and_metric():
    with pytest.raises(NonFiniteError) as err:
        check_finite(17, {"loss": jnp.float32(np.nan), "grad_norm": np.array([1.0, np.inf]),
                          "acc": 0.5, "w": jnp.array(-np.inf, jnp.bfloat16)})
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("step 17: non-finite metric")
    assert "loss=nan" in message and "w=-inf" in message and "grad_norm=<1 of 2" in message
    assert "acc" not in message
    assert err.value.step == 17 and err.value.names == ["grad_norm", "loss", "w"]
    assert isinstance(err.value, RuntimeError)
