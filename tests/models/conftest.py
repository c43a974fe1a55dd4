"""Fixtures for the model tests: a tiny image batch."""
import jax
import jax.numpy as jnp
import pytest


@pytest.fixture
def images():
    return jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 3), jnp.float32)
