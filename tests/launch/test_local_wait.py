"""The local backend's waiting: a crash never leaves `submit` hanging on a stuck peer."""
import subprocess
import sys
import time

from herolion.launch.backends import local


def python(code):
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_stuck_peer_of_a_crashed_process_is_stopped_after_the_grace_period():
    procs = [python("import sys; sys.exit(1)"), python("import time; time.sleep(60)")]
    start = time.time()
    codes = local._wait_all(procs, grace_s=1)
    assert codes == [1, -15] and time.time() - start < 10
    assert local.combined_status([local._as_status(c) for c in codes]) == 128 + 15


def test_preempted_and_finished_processes_are_waited_for_without_killing():
    procs = [python("import sys; sys.exit(75)"), python("import time; time.sleep(1.5)")]
    assert local._wait_all(procs, grace_s=0) == [75, 0]
