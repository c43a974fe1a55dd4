"""Tiny training states on the 8-device test mesh, and child Pythons with other device counts.

The device count of a JAX process is fixed when its backend starts, so "save on 8
devices, restore on 2" needs separate processes: :func:`run_python` starts one with
``XLA_FLAGS`` forcing the wanted number of CPU devices.
"""
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from tests.xla_flags import subprocess_xla_flags

REPO = pathlib.Path(__file__).resolve().parents[2]


def mesh_8():
    """The (data=2, fsdp=4) mesh over the 8 fake CPU devices from tests/conftest.py."""
    return Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("data", "fsdp"))


def make_params(mesh, seed=0, scale=1):
    """A small param tree: an fsdp-sharded kernel, a replicated bias, a nested dict."""
    rng = np.random.default_rng(seed)
    fsdp = NamedSharding(mesh, P("fsdp", None))
    rep = NamedSharding(mesh, P())
    return {
        "dense": {"kernel": jax.device_put(rng.normal(size=(8 * scale, 6)).astype(np.float32), fsdp),
                  "bias": jax.device_put(rng.normal(size=(6,)).astype(np.float32), rep)},
        "head": {"kernel": jax.device_put(rng.normal(size=(4, 6)).astype(np.float32), rep)},
    }


def trained_state(mesh, steps=3, seed=0):
    """``(params, opt_state, polyak)`` after a few Lion steps, so the momentum is non-zero."""
    from herolion.optim import lion, polyak  # noqa: PLC0415

    params = make_params(mesh, seed)
    tx = lion(1e-2, weight_decay=0.1)
    opt_state = tx.init(params)
    average = polyak.init(params)
    rng = np.random.default_rng(seed + 1)
    for _ in range(steps):
        grads = jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), params)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = jax.tree.map(lambda p, u: p + u, params, updates)
        average = polyak.update(average, params, 0.9)
    return params, opt_state, average


def host(tree):
    """Everything as numpy, for exact comparisons."""
    return jax.tree.map(np.asarray, jax.device_get(tree))


def assert_trees_equal(a, b):
    a_leaves, a_def = jax.tree.flatten(host(a))
    b_leaves, b_def = jax.tree.flatten(host(b))
    assert a_def == b_def, f"{a_def} != {b_def}"
    for x, y in zip(a_leaves, b_leaves):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def grain_iterator():
    """A tiny shuffled, batched grain iterator over range(100): no files, no tfds."""
    import grain  # noqa: PLC0415

    return iter(grain.MapDataset.range(100).shuffle(seed=7).batch(4))


def tree_digest(path: pathlib.Path) -> dict:
    """Every file under ``path`` with its bytes, to show nothing was changed or deleted."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def child_env(devices: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = subprocess_xla_flags(devices)
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def start_python(code: str, *args: str, devices: int) -> subprocess.Popen:
    """Start ``code`` (with ``sys.argv[1:] == args``) in a background Python."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO,
                            env=child_env(devices), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run_python(code: str, *, devices: int, timeout=240, check=True) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python that sees ``devices`` CPU devices."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          env=child_env(devices), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"child exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    return proc
