"""``--cluster local``: N ``herolion train`` processes on this machine, one JAX runtime.

Process 0 hosts the coordinator on 127.0.0.1 (a free port per attempt); each process gets
``HEROLION_COORDINATOR/NUM_PROCESSES/PROCESS_ID`` and logs to
``WORKDIR/logs/process_I.log``. We wait for all and exit with the highest status. When a
process exits 75 (preempted, checkpoint saved) all are started again — a requeue, as a
cluster would do — at most ``--max-restarts`` times; the run resumes by itself.

A SIGTERM to ``herolion submit`` is passed on to every process (each saves and exits 75),
and then no requeue happens: the user asked to stop. ``WORKDIR/launch/local.json`` records
the pids for ``herolion status`` and ``herolion cancel``.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from herolion.checkpoints import PREEMPTED_EXIT_CODE
from herolion.launch import distributed
from herolion.launch.backends.job import Job, train_argv

STATE_FILE = "launch/local.json"


def process_envs(job: Job, port: int, base_env: dict) -> list[dict]:
    """The environment of each process (pure: the tests check it directly)."""
    envs = []
    for index in range(job.num_processes):
        env = dict(base_env)
        env[distributed.ENV_COORDINATOR] = f"127.0.0.1:{port}"
        env[distributed.ENV_NUM_PROCESSES] = str(job.num_processes)
        env[distributed.ENV_PROCESS_ID] = str(index)
        env[distributed.ENV_HEARTBEAT] = str(job.heartbeat_timeout)
        if job.devices_per_process:
            flags = [f for f in env.get("XLA_FLAGS", "").split()
                     if not f.startswith("--xla_force_host_platform_device_count")]
            flags.append(f"--xla_force_host_platform_device_count={job.devices_per_process}")
            env["XLA_FLAGS"] = " ".join(flags)
        if job.gpus_per_node:
            per = job.gpus_per_node // job.num_processes
            env[distributed.ENV_LOCAL_DEVICE_IDS] = ",".join(
                str(i) for i in range(index * per, (index + 1) * per))
        envs.append(env)
    return envs


def render(job: Job) -> str:
    """What would run, one line per process (``--dry-run``)."""
    import shlex
    argv = shlex.join(train_argv(job))
    return "\n".join(f"{distributed.ENV_COORDINATOR}=127.0.0.1:PORT "
                     f"{distributed.ENV_NUM_PROCESSES}={job.num_processes} "
                     f"{distributed.ENV_PROCESS_ID}={i} {argv}"
                     for i in range(job.num_processes)) + "\n"


def combined_status(codes) -> int:
    """The job's status: the highest process status (75 beats 0, a crash beats 75)."""
    return max(codes) if codes else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def submit(job: Job) -> int:
    if job.dry_run:
        print(render(job), end="")
        return 0
    workdir = Path(job.workdir)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    stop = _StopOnSignal()
    status = 0
    for attempt in range(job.max_restarts + 1):
        status = _run_once(job, workdir, attempt, stop)
        if status != PREEMPTED_EXIT_CODE or stop.requested:
            break
        if attempt < job.max_restarts:
            print(f"herolion submit: preempted (exit {status}); requeue "
                  f"{attempt + 1}/{job.max_restarts}", flush=True)
    stop.restore()
    _write_state(workdir, {"cluster": "local", "pids": stop.last_pids, "status": status,
                           "finished": time.time()})
    return status


def _run_once(job, workdir, attempt, stop) -> int:
    envs = process_envs(job, free_port(), os.environ)
    procs = []
    for index, env in enumerate(envs):
        log = open(workdir / "logs" / f"process_{index}.log", "a")
        log.write(f"=== herolion submit: attempt {attempt}, process {index} of {len(envs)}\n")
        log.flush()
        procs.append(subprocess.Popen(train_argv(job), env=env, cwd=job.cwd, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True))
        log.close()
    stop.procs = procs
    stop.last_pids = [p.pid for p in procs]
    _write_state(workdir, {"cluster": "local", "submit_pid": os.getpid(), "attempt": attempt,
                           "pids": [p.pid for p in procs], "started": time.time()})
    codes = _wait_all(procs, grace_s=job.heartbeat_timeout + 30)
    stop.procs = []
    print(f"herolion submit: attempt {attempt} process statuses {codes}", flush=True)
    return combined_status([_as_status(c) for c in codes])


def _wait_all(procs, grace_s) -> list[int]:
    """Waits for every process. JAX's heartbeat stops the peers of a crashed process; if
    one still runs ``grace_s`` after a crash (stuck before the runtime started, say), it
    gets SIGTERM, then SIGKILL, so ``submit`` never hangs."""
    crashed_at = None
    while any(p.poll() is None for p in procs):
        failed = [p for p in procs if p.poll() not in (None, 0, PREEMPTED_EXIT_CODE)]
        if failed and crashed_at is None:
            crashed_at = time.time()
        if crashed_at is not None and time.time() - crashed_at > grace_s:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM if time.time() - crashed_at < grace_s + 30
                                  else signal.SIGKILL)
        time.sleep(0.2)
    return [p.returncode for p in procs]


def _as_status(code) -> int:
    """A process killed by signal N reads as 128+N, as in a shell."""
    return 128 - code if code < 0 else code


def _write_state(workdir, state):
    path = workdir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state) + "\n")
    tmp.replace(path)


class _StopOnSignal:
    """SIGTERM/SIGINT to submit: pass SIGTERM on to the processes and do not requeue."""

    def __init__(self):
        self.procs, self.last_pids, self.requested = [], [], False
        self._old = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum, frame):
        self.requested = True
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def restore(self):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
