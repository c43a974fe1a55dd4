"""Read params from a herolion checkpoint with plain orbax: no model, no mesh, no target.

Fine-tuning (``model_init``), ``zeroshot --checkpoint`` and export only need the param
values, usually on a different machine or device count than the run that saved them.
Restoring with ``restore_type=np.ndarray`` reads every array whole into host memory and
ignores the saved sharding, so it works anywhere, including one CPU.
"""
import pathlib

import jax
import numpy as np
import orbax.checkpoint as ocp

from herolion.checkpoints import layout
from herolion.checkpoints.oneline import reason
from herolion.errors import ConfigError


def read_params(path_or_workdir, step: int | None = None, *, item: str = "params"):
    """The ``item`` pytree (numpy arrays) of a run's newest (or given) committed step.

    ``path_or_workdir`` may be a workdir, its ``checkpoints/`` dir, a step dir, or an
    item dir such as ``.../checkpoints/100/params``. ``item="polyak"`` reads the
    averaged params. Raises ``ConfigError`` naming the path if it cannot be read.
    """
    item_dir = _item_dir(path_or_workdir, step, item)
    checkpointer = ocp.PyTreeCheckpointer()
    try:
        metadata = getattr(getattr(checkpointer.metadata(item_dir), "item_metadata", None),
                           "tree", None)
        if metadata is None:
            raise ValueError("its array metadata cannot be read")
        restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray),
                                    metadata)
        return checkpointer.restore(item_dir,
                                    args=ocp.args.PyTreeRestore(restore_args=restore_args))
    except Exception as err:
        raise ConfigError(f"checkpoint {item_dir}: corrupt or unreadable "
                          f"({reason(err)})") from None
    finally:
        checkpointer.close()


def _item_dir(path, step, item):
    path = pathlib.Path(path).expanduser().absolute()   # orbax reads only absolute paths
    if step is None and path.name == item and path.is_dir():
        return path
    step_dir = layout.resolve_step_dir(path, step)
    item_dir = step_dir / item
    if not item_dir.is_dir():
        raise ConfigError(f"checkpoint {step_dir}: has no {item}/ item")
    return item_dir
