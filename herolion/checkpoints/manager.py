"""``Checkpointer``: the one object the trainer uses to save, find and restore its state.

A thin layer over an orbax ``CheckpointManager`` at ``WORKDIR/checkpoints`` that fixes
herolion's item names, so outside tools can rely on them:

* ``params``, ``opt_state`` (the optax NamedTuple chain), ``polyak`` (optional) and
  ``model_state`` (optional, e.g. batch_stats): array pytrees, ``StandardSave``.
* ``state``: a small JSON dict (step, RNG key, counters), ``JsonSave``.
* ``data``: the grain iterator position (optional), ``grain.checkpoint.CheckpointHandler``.
* ``config``: the resolved run config (optional), ``JsonSave``.

What it adds over orbax: only *committed* steps count (an interrupted save is ignored
and removed when the run restarts), a step is never overwritten, and every failure that
comes from the files on disk (bad workdir, unreadable or corrupt step) is a one-line
``ConfigError`` naming the path — raised without deleting or rewriting anything.
"""
import logging
import pathlib
import threading

import jax
import orbax.checkpoint as ocp

from herolion.checkpoints import fit, layout, snapshot
from herolion.checkpoints.abstract import with_default_sharding
from herolion.checkpoints.jsonable import to_json
from herolion.checkpoints.oneline import reason
from herolion.checkpoints.policy import manager_options
from herolion.checkpoints.save_error import SaveError
from herolion.errors import ConfigError

log = logging.getLogger(__name__)

class Checkpointer:
    """Save/restore a run's state under ``WORKDIR/checkpoints`` (see the module docstring).

    Args:
      workdir: the run directory; ``checkpoints/`` is created inside it.
      keep_last: how many of the newest steps to keep.
      keep_every: steps divisible by this are kept forever (None: none are).
      async_save: write in a background thread; ``save`` returns once the arrays are
        copied off the devices, so the next train step may donate them.
      background: with ``async_save``, hand all of orbax's save to a thread after a
        device copy of the arrays (:mod:`herolion.checkpoints.snapshot`), so ``save``
        returns after the copy. None (default): on for single-process CPU runs, where
        orbax's blocking part is Python bookkeeping, not a device transfer; off
        elsewhere (the copy would cost device memory; multi-process saves stay in the
        caller's thread, in step with the other processes).
      is_primary: whether this process is the job's primary (default
        ``jax.process_index() == 0``). Only the primary removes interrupted saves; orbax
        itself coordinates the writes of all processes (every process must call
        ``save``/``restore``).
      save_interval_steps: ``save(step)`` without ``force`` saves only when ``step`` is a
        multiple of this (or at the multi-host preemption sync point). 1: whenever asked.
      read_only: open an existing run without ever writing or deleting (evaluators,
        tools inspecting a live run).
    """

    def __init__(self, workdir, *, keep_last: int = 3, keep_every: int | None = None,
                 async_save: bool = True, is_primary: bool | None = None,
                 save_interval_steps: int = 1, read_only: bool = False,
                 background: bool | None = None):
        self.workdir = pathlib.Path(workdir)
        self.is_primary = (jax.process_index() == 0) if is_primary is None else bool(is_primary)
        self.read_only = bool(read_only)
        self._in_flight = None   # the step of a save that has not committed yet
        if background is None:
            background = jax.process_count() == 1 and jax.default_backend() == "cpu"
        self.background = bool(async_save and background)
        self._worker = None      # the thread running a background save's orbax call
        self._worker_error = None
        options = manager_options(keep_last=keep_last, keep_every=keep_every,
                                  save_interval_steps=save_interval_steps,
                                  async_save=async_save, read_only=self.read_only)
        if self.read_only:
            self.directory = layout.check_readable(self.workdir)
            self.removed_incomplete = []
        else:
            self.directory = layout.prepare_writable(self.workdir)
            self.removed_incomplete = (layout.remove_incomplete(self.directory)
                                       if self.is_primary else [])
            for path in self.removed_incomplete:
                log.warning("removed incomplete checkpoint %s (an interrupted save)", path)
        try:
            self._manager = ocp.CheckpointManager(self.directory, options=options)
        except Exception as err:  # orbax reads every step's metadata here
            raise ConfigError(f"checkpoints {self.directory}: cannot be opened "
                              f"({reason(err)})") from None

    # -- finding steps -------------------------------------------------------------

    def all_steps(self) -> list[int]:
        """Committed steps, ascending. A save still in flight is not listed."""
        return [s for s in sorted(self._manager.all_steps()) if self.step_dir(s).is_dir()]

    def latest_step(self) -> int | None:
        """The newest committed step, or None. Interrupted saves never count."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def step_dir(self, step: int) -> pathlib.Path:
        return self.directory / str(int(step))

    def should_save(self, step: int) -> bool:
        """Whether ``save(step)`` (without ``force``) would write a checkpoint."""
        return not self.read_only and self._manager.should_save(int(step))

    def reached_preemption(self, step: int) -> bool:
        """True at the step where all hosts agreed to save after a preemption notice."""
        return self._manager.reached_preemption(int(step))

    # -- saving --------------------------------------------------------------------

    def save(self, step: int, *, params, opt_state, state: dict, polyak=None,
             data_iterator=None, config: dict | None = None, force: bool = False,
             model_state=None) -> bool:
        """Start writing ``step``; returns whether a save was started.

        Returns False (and writes nothing) if the step already exists, or, unless
        ``force``, if the save policy says no. ``state`` must be JSON-able after arrays
        are converted (see ``jsonable.to_json``); ``"step"`` is filled in if missing.
        With ``async_save`` the call returns once the arrays are on the host (with
        ``background``: once they are copied on their devices); the data iterator's
        position is recorded before it returns.
        """
        if self.read_only:
            raise ConfigError(f"checkpoints {self.directory}: opened read-only, cannot save")
        step = int(step)
        self._join_worker()   # orbax's manager is not shared between threads
        if step in self._manager.all_steps() or self.step_dir(step).exists():
            return False
        if not force and not self._manager.should_save(step):
            return False
        items = {"state": ocp.args.JsonSave(to_json({"step": step, **dict(state)}))}
        trees = {"params": params, "opt_state": opt_state, "polyak": polyak,
                 "model_state": model_state}
        if self.background:
            self.wait()   # before copying: at most one save's arrays are held at a time
            trees = snapshot.device_copy(trees)
            if data_iterator is not None:
                data_iterator = snapshot.FrozenPosition(data_iterator)
        for name, tree in trees.items():
            if _has_leaves(tree):  # orbax refuses empty trees; restore rebuilds them
                items[name] = ocp.args.StandardSave(tree)
        if config is not None:
            items["config"] = ocp.args.JsonSave(to_json(dict(config), "config"))
        if data_iterator is not None:
            items["data"] = _grain_args().CheckpointSave(data_iterator)
        self.wait()   # a failed earlier save is reported as that step, not this one
        self._in_flight = step
        if self.background:
            self._worker = threading.Thread(target=self._save_in_worker, name="herolion-save",
                                            args=(step, ocp.args.Composite(**items)))
            self._worker.start()
            return True
        try:
            started = bool(self._manager.save(step, args=ocp.args.Composite(**items),
                                              force=True))
        except ocp.checkpoint_manager.StepAlreadyExistsError:
            self._in_flight = None
            return False
        except Exception as err:
            self._in_flight = None
            raise SaveError(step, self.directory, err, self.latest_step()) from err
        if not started:
            self._in_flight = None
        return started

    def _save_in_worker(self, step, args) -> None:
        try:
            self._manager.save(step, args=args, force=True)
        except ocp.checkpoint_manager.StepAlreadyExistsError:
            pass   # save() checked first; nothing was written
        except BaseException as err:  # noqa: BLE001 - re-raised by wait() as a SaveError
            self._worker_error = err

    def _join_worker(self) -> None:
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def wait(self) -> None:
        """Block until the in-flight save (if any) has committed. A failed save raises
        :class:`SaveError` (one line: the step, the reason, the last good step)."""
        step, self._in_flight = self._in_flight, None
        self._join_worker()
        error, self._worker_error = self._worker_error, None
        try:
            if error is not None:
                raise error
            self._manager.wait_until_finished()
        except Exception as err:
            raise SaveError(step, self.directory, err, self.latest_step()) from err

    def close(self) -> None:
        """Release orbax's threads. A failed save was already reported by :meth:`wait`."""
        self._join_worker()
        try:
            self._manager.close()
        except Exception as err:   # noqa: BLE001 - reported by wait(); closing must finish
            log.warning("closing checkpoints %s: %s", self.directory, reason(err))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- restoring -----------------------------------------------------------------

    def restore(self, step: int | None = None, *, abstract_params, abstract_opt_state,
                abstract_polyak=None, data_iterator=None, abstract_model_state=None) -> dict:
        """Load ``step`` (default: the newest committed one) onto the current mesh.

        ``abstract_*`` are pytrees of ``jax.ShapeDtypeStruct`` whose ``.sharding`` says
        where each array lands (see ``abstract.abstract_tree``); the saving mesh does
        not matter. Returns ``dict(params, opt_state, polyak, model_state, state, step,
        config)``; ``polyak`` (``model_state``) is None unless ``abstract_polyak``
        (``abstract_model_state``) is given and the step has one, ``config`` None when
        none was saved. ``data_iterator`` is set to the saved
        position in place.

        Raises ``ConfigError`` (one line, naming the step directory) when there is no
        checkpoint or the step cannot be read. A corrupt newest step is reported, not
        skipped: restore an older step explicitly, or move the bad one away.
        """
        if step is None:
            step = self.latest_step()
            if step is None:
                raise ConfigError(f"checkpoints {self.directory}: no complete checkpoint "
                                  "to restore")
        step = int(step)
        step_dir = self.step_dir(step)
        if step not in self.all_steps():
            raise ConfigError(f"checkpoint {step_dir}: no such committed step "
                              f"(have {self.all_steps() or 'none'})")
        targets = {"params": abstract_params, "opt_state": abstract_opt_state}
        for name, tree in (("polyak", abstract_polyak), ("model_state", abstract_model_state)):
            if tree is not None and (step_dir / name).is_dir():
                targets[name] = tree
        arrays = {name: tree for name, tree in targets.items() if _has_leaves(tree)}
        wanted = ["state", *arrays] + (["data"] if data_iterator is not None else [])
        missing = [name for name in wanted if not (step_dir / name).is_dir()]
        if missing:
            raise ConfigError(f"checkpoint {step_dir}: corrupt or not a herolion checkpoint "
                              f"(missing {', '.join(missing)}/){_newest_hint(self, step)}")
        for name, tree in arrays.items():
            _check_fits(step_dir, name, tree)
        items = {"state": ocp.args.JsonRestore()}
        for name, tree in arrays.items():
            items[name] = ocp.args.StandardRestore(with_default_sharding(tree))
        if (step_dir / "config").is_dir():
            items["config"] = ocp.args.JsonRestore()
        if data_iterator is not None:
            items["data"] = _grain_args().CheckpointRestore(data_iterator)
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(**items))
        except Exception as err:
            if "tree structures do not match" in str(err) or "shape" in reason(err).lower():
                raise ConfigError(
                    f"checkpoint {step_dir}: does not fit this config's model/optimizer (was "
                    f"the model or optimizer changed? start a new --workdir, or fine-tune from "
                    f"it) ({reason(err)})") from None
            raise ConfigError(f"checkpoint {step_dir}: corrupt or unreadable "
                              f"({reason(err)}){_newest_hint(self, step)}") from None
        if not isinstance(restored["state"], dict):
            raise ConfigError(f"checkpoint {step_dir / 'state'}: not a JSON object")
        # A target without leaves (e.g. optax.EmptyState chains) is its own value.
        trees = {name: restored[name] if name in arrays else tree for name, tree in targets.items()}
        return {
            "params": trees["params"],
            "opt_state": trees["opt_state"],
            "polyak": trees.get("polyak"),
            "model_state": trees.get("model_state"),
            "state": restored["state"],
            "step": step,
            "config": restored["config"] if "config" in items else None,
        }


def _check_fits(step_dir, name, tree) -> None:
    """A one-line ``ConfigError`` when item ``name`` of ``step_dir`` has other paths or
    shapes than ``tree``. Unreadable metadata is left to the restore to report."""
    try:
        saved = ocp.StandardCheckpointHandler().metadata(step_dir / name)
    except Exception:   # noqa: BLE001 - corrupt metadata: the restore says so, with hints
        return
    why = fit.mismatch(tree, saved)
    if why is not None:
        raise ConfigError(f"checkpoint {step_dir}: does not fit this config's model/optimizer "
                          f"({name}: {why}; was the model or optimizer changed? start a new "
                          f"--workdir, or fine-tune from it)")


def _has_leaves(tree) -> bool:
    return tree is not None and len(jax.tree.leaves(tree)) > 0


def _grain_args():
    """grain is imported only when a data iterator is checkpointed (see DESIGN: lazy)."""
    import grain.checkpoint  # noqa: PLC0415

    return grain.checkpoint


def _newest_hint(checkpointer: Checkpointer, step: int) -> str:
    older = [s for s in checkpointer.all_steps() if s < step]
    if not older:
        return ""
    return (f"; step {older[-1]} is untouched: restore it with step={older[-1]} "
            f"or move {checkpointer.step_dir(step)} away")

