"""Save and restore a grain iterator's position with orbax (grain's checkpoint handler).

Why: a resumed run must see the exact data order of an uninterrupted one. grain's
``CheckpointHandler`` writes one small JSON per process
(``process_I-of-N.json``) from ``iterator.get_state()``. In a trainer's
``ocp.CheckpointManager``, add it as an item::

    mngr = ocp.CheckpointManager(dir, item_handlers={"data": grain.checkpoint.CheckpointHandler()})
    mngr.save(step, args=ocp.args.Composite(data=grain.checkpoint.CheckpointSave(it), ...))
    mngr.restore(step, args=ocp.args.Composite(data=grain.checkpoint.CheckpointRestore(it), ...))

The helpers below do the same for a single directory.
"""
import os


def save(directory, iterator):
    """Writes ``iterator``'s state to ``directory`` (a new folder; orbax finalizes it)."""
    import grain
    import orbax.checkpoint as ocp
    with ocp.Checkpointer(grain.checkpoint.CheckpointHandler()) as ckptr:
        ckptr.save(os.path.abspath(os.fspath(directory)),
                   args=grain.checkpoint.CheckpointSave(iterator))


def restore(directory, iterator):
    """Moves a freshly built ``iterator`` (same config) to the saved position; returns it."""
    import grain
    import orbax.checkpoint as ocp
    with ocp.Checkpointer(grain.checkpoint.CheckpointHandler()) as ckptr:
        return ckptr.restore(os.path.abspath(os.fspath(directory)),
                             args=grain.checkpoint.CheckpointRestore(iterator))
