"""Checkpoints of a training run: orbax items under ``WORKDIR/checkpoints``.

* :class:`Checkpointer` — save (async), find the newest *complete* step, restore onto any
  mesh; interrupted saves are ignored and cleaned up.
* :class:`PreemptionGuard` — SIGTERM becomes "save at the next step and exit".
* :func:`read_params` — params as numpy arrays with plain orbax (fine-tuning, zero-shot).
* :func:`check_finite` — stop on NaN/Inf before a bad state can be saved.
* :class:`SaveError` — a step could not be written (disk full, ...): one line naming
  the step, the reason and the last good step; runs exit with ``SAVE_FAILED_EXIT_CODE``
  (74, ``EX_IOERR``).

``PREEMPTED_EXIT_CODE`` (75, ``EX_TEMPFAIL`` from sysexits.h, "try again later") is the
status a run exits with after saving on a preemption notice. The cluster backends
(``herolion.launch``) treat it as "requeue", and the requeued run resumes by itself.
Any other non-zero status is a failure that is not retried.
"""
from herolion.checkpoints.abstract import abstract_tree
from herolion.checkpoints.finite import NonFiniteError, check_finite
from herolion.checkpoints.jsonable import decode_key, encode_key
from herolion.checkpoints.manager import Checkpointer
from herolion.checkpoints.plain import read_params
from herolion.checkpoints.preemption import PreemptionGuard
from herolion.checkpoints.save_error import SAVE_FAILED_EXIT_CODE, SaveError

PREEMPTED_EXIT_CODE = 75

__all__ = [
    "PREEMPTED_EXIT_CODE", "SAVE_FAILED_EXIT_CODE", "Checkpointer", "NonFiniteError",
    "PreemptionGuard", "SaveError",
    "abstract_tree", "check_finite", "decode_key", "encode_key", "read_params",
]
