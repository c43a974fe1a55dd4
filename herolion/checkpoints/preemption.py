"""Preemption: turn SIGTERM into "save at the next step, then exit with PREEMPTED_EXIT_CODE".

Schedulers (Slurm, Kubernetes, TPU maintenance) send SIGTERM some seconds before they
kill a job. Python's default is to die at once, losing every step since the last
checkpoint. :class:`PreemptionGuard` installs a handler that only records the request;
the train loop polls :meth:`PreemptionGuard.should_stop` once per step, saves, and exits
with ``PREEMPTED_EXIT_CODE`` so the launcher requeues the job, which then resumes.

Multi-host jobs must stop at the *same* step on every host, or the collective save
deadlocks. There JAX's own preemption service (on by default after
``jax.distributed.initialize``) already catches SIGTERM and agrees on a step:
``should_stop`` asks ``multihost_utils.reached_preemption_sync_point`` and the guard
leaves SIGTERM to JAX. Without that service the hosts all-gather the local flag.
"""
import logging
import signal
import threading

import jax
import numpy as np

log = logging.getLogger(__name__)


class PreemptionGuard:
    """Context manager: while active, SIGTERM (and SIGINT if asked) only set ``requested``.

    Call :meth:`should_stop` every step (on every host, from the same step on). On exit
    the previous handlers are put back. A second SIGINT while a stop is already
    pending raises ``KeyboardInterrupt`` as usual, so Ctrl-C twice still aborts.
    """

    def __init__(self, *, sigint: bool = False):
        self.sigint = sigint
        self.requested = False
        self.signal_received: int | None = None
        self._previous: dict[int, object] = {}
        self._multihost = False
        self._jax_service = False

    def __enter__(self):
        self._multihost = jax.process_count() > 1
        self._jax_service = self._multihost and _jax_preemption_service_active()
        signals = [] if self._jax_service else [signal.SIGTERM]
        if self.sigint:
            signals.append(signal.SIGINT)
        if threading.current_thread() is not threading.main_thread():
            log.warning("PreemptionGuard entered off the main thread: no signal handlers")
            signals = []
        for sig in signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc):
        for sig, previous in self._previous.items():
            # None: the old handler was not installed from Python; the default is closest.
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        return False

    def _on_signal(self, signum, frame):
        if signum == signal.SIGINT and self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_received = signum
        # No logging here: handlers run between bytecodes, possibly inside logging.

    def should_stop(self, step: int) -> bool:
        """Whether to save now and exit; the same answer on every host for ``step``."""
        if not self._multihost:
            return self.requested
        if self._jax_service:
            from jax.experimental import multihost_utils  # noqa: PLC0415

            try:
                if multihost_utils.reached_preemption_sync_point(int(step)):
                    self.requested = True
                    return True
            except RuntimeError:
                pass
            if not self.sigint:
                return False
        return _any_host(self.requested)


def _jax_preemption_service_active() -> bool:
    """Whether ``jax.distributed`` runs JAX's preemption sync manager (it owns SIGTERM)."""
    try:
        from jax._src import distributed  # noqa: PLC0415
    except ImportError:
        return False
    state = getattr(distributed, "global_state", None)
    return getattr(state, "preemption_sync_manager", None) is not None


def _any_host(flag: bool) -> bool:
    from jax.experimental import multihost_utils  # noqa: PLC0415

    flags = multihost_utils.process_allgather(np.asarray(flag, np.int32))
    return bool(np.any(flags))
