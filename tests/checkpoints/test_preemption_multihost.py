"""Two real processes (``jax.distributed`` on localhost): a SIGTERM to one stops both at
the same step and both exit with status 75 — through JAX's preemption sync point, or,
with JAX's preemption service off, through the guard's own handler and an all-gather."""
import socket

import pytest

from tests.checkpoints.helpers import start_python

WORKER = """
import os, signal, sys, time
import jax

process_id, port, service = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
jax.config.update("jax_enable_preemption_service", service)
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=process_id,
                           initialization_timeout=60)
from herolion.checkpoints import PREEMPTED_EXIT_CODE, PreemptionGuard

with PreemptionGuard() as guard:
    for step in range(400):
        if process_id == 0 and step == 5:
            os.kill(os.getpid(), signal.SIGTERM)  # the notice reaches one host only
        if guard.should_stop(step):
            print(f"stop at {step}", flush=True)
            jax.distributed.shutdown()
            sys.exit(PREEMPTED_EXIT_CODE)
        time.sleep(0.02)
print("never stopped", flush=True)
sys.exit(1)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("service", ["1", "0"], ids=["jax_service", "allgather"])
def test_sigterm_on_one_host_stops_all_hosts_at_one_step(service):
    port = str(_free_port())
    procs = [start_python(WORKER, str(i), port, service, devices=1) for i in range(2)]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            outputs.append((proc.returncode, out.strip(), err[-3000:]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    codes = [code for code, _, _ in outputs]
    stops = [[line for line in out.splitlines() if line.startswith("stop at ")]
             for _, out, _ in outputs]  # gloo prints its own lines too
    assert codes == [75, 75], outputs
    assert len(stops[0]) == 1 and stops[0] == stops[1], outputs
    assert int(stops[0][0].split()[-1]) >= 5
