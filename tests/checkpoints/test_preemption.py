"""SIGTERM only raises a flag while the guard is active; the old handlers come back after."""
import os
import signal

import pytest

from herolion.checkpoints import PREEMPTED_EXIT_CODE, PreemptionGuard


def test_exit_code_is_ex_tempfail():
    assert PREEMPTED_EXIT_CODE == 75 == getattr(os, "EX_TEMPFAIL", 75)


def test_sigterm_sets_the_flag_and_handlers_are_restored():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        mine = signal.getsignal(signal.SIGTERM)
        with PreemptionGuard() as guard:
            assert not guard.requested and not guard.should_stop(0)
            os.kill(os.getpid(), signal.SIGTERM)
            assert guard.requested and guard.should_stop(1)
            assert guard.signal_received == signal.SIGTERM
            assert seen == []  # the outer handler did not run: the process keeps going
        assert signal.getsignal(signal.SIGTERM) is mine
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigint_is_left_alone_unless_asked():
    before = signal.getsignal(signal.SIGINT)
    with PreemptionGuard():
        assert signal.getsignal(signal.SIGINT) is before
    with PreemptionGuard(sigint=True) as guard:
        os.kill(os.getpid(), signal.SIGINT)
        assert guard.requested and guard.signal_received == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C aborts as usual
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
