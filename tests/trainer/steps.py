"""Running a built train step the way the loop does (jit, donated state, sharded batches)."""
import jax

from herolion.trainer import sharding
from herolion.trainer.loop import global_batch, mesh_context


def run_steps(step, built, mesh, config, state, data):
    """``(final state, [metrics per batch])`` after one step per batch of ``data``."""
    with mesh_context(mesh, config):
        step = jax.jit(step, donate_argnums=0, out_shardings=(built.shardings, None))
        history = []
        for b in data:
            state, metrics = step(state, global_batch(b, sharding.batch_sharding(mesh)))
            history.append(jax.device_get(metrics))
    return state, history
