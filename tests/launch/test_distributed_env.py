"""`herolion.launch.distributed.resolve`: which environment makes a multi-process job."""
import argparse

import pytest

from herolion.errors import ConfigError
from herolion.launch import distributed


def flags(**kw):
    ns = argparse.Namespace(coordinator=None, num_processes=None, process_id=None,
                            heartbeat_timeout=None)
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


def test_single_process_when_nothing_says_otherwise():
    assert distributed.resolve(flags(), {}) is None
    # sbatch's batch shell / a 1-task step is not a multi-process job
    assert distributed.resolve(flags(), {"SLURM_NTASKS": "1", "SLURM_PROCID": "0",
                                         "SLURM_STEP_NODELIST": "n1"}) is None
    assert distributed.resolve(flags(), {"SLURM_NTASKS": "4", "SLURM_JOB_ID": "7"}) is None


def test_explicit_flags_win_over_environment():
    spec = distributed.resolve(
        flags(coordinator="10.0.0.1:1234", num_processes=4, process_id=3, heartbeat_timeout=9),
        {distributed.ENV_COORDINATOR: "other:1", distributed.ENV_NUM_PROCESSES: "2",
         distributed.ENV_PROCESS_ID: "0"})
    assert spec == distributed.Spec("flags", "10.0.0.1:1234", 4, 3, 9)
    assert spec.kwargs() == {"coordinator_address": "10.0.0.1:1234", "num_processes": 4,
                             "process_id": 3, "heartbeat_timeout_seconds": 9}


def test_herolion_env_vars_from_our_backends():
    env = {distributed.ENV_COORDINATOR: "127.0.0.1:5000", distributed.ENV_NUM_PROCESSES: "2",
           distributed.ENV_PROCESS_ID: "1", distributed.ENV_HEARTBEAT: "15"}
    assert distributed.resolve(flags(), env) == distributed.Spec("env", "127.0.0.1:5000", 2, 1, 15)


def test_slurm_and_tpu_are_left_to_jax_detection():
    slurm = {"SLURM_NTASKS": "2", "SLURM_PROCID": "1", "SLURM_STEP_NODELIST": "n[1-2]",
             "SLURM_JOB_ID": "12", "SLURM_LOCALID": "0"}
    spec = distributed.resolve(flags(), slurm)
    assert spec.source == "slurm" and spec.coordinator is None
    assert spec.kwargs() == {"heartbeat_timeout_seconds": distributed.DEFAULT_HEARTBEAT_S}
    tpu = distributed.resolve(flags(), {"TPU_WORKER_HOSTNAMES": "w0,w1,w2,w3"})
    assert tpu.source == "tpu"
    assert distributed.resolve(flags(), {"TPU_WORKER_HOSTNAMES": "w0"}) is None


def test_local_device_ids_from_our_backends():
    env = {distributed.ENV_COORDINATOR: "127.0.0.1:5000", distributed.ENV_NUM_PROCESSES: "2",
           distributed.ENV_PROCESS_ID: "1", distributed.ENV_LOCAL_DEVICE_IDS: "2,3"}
    spec = distributed.resolve(flags(), env)
    assert spec.local_device_ids == (2, 3) and spec.kwargs()["local_device_ids"] == [2, 3]
    slurm = {"SLURM_NTASKS": "8", "SLURM_PROCID": "5", "SLURM_STEP_NODELIST": "n[1-2]",
             "SLURM_LOCALID": "1", distributed.ENV_GPUS_PER_PROCESS: "2"}
    assert distributed.resolve(flags(), slurm).kwargs()["local_device_ids"] == [2, 3]
    # a single process is never initialised, whatever the variables say
    assert distributed.resolve(flags(), {distributed.ENV_LOCAL_DEVICE_IDS: "0"}) is None


@pytest.mark.parametrize("kw, env, field", [
    (dict(coordinator="h:1"), {}, "--num-processes"),
    (dict(coordinator="nohost", num_processes=2, process_id=0), {}, "--coordinator"),
    (dict(coordinator="h:1", num_processes=0, process_id=0), {}, "--num-processes"),
    (dict(coordinator="h:1", num_processes=2, process_id=2), {}, "--process-id"),
    (dict(heartbeat_timeout=0), {}, "--heartbeat-timeout"),
    ({}, {distributed.ENV_COORDINATOR: "h:1", distributed.ENV_NUM_PROCESSES: "two",
          distributed.ENV_PROCESS_ID: "0"}, distributed.ENV_NUM_PROCESSES),
    *[(dict(coordinator="h:1", num_processes=2, process_id=0),
       {distributed.ENV_LOCAL_DEVICE_IDS: ids}, distributed.ENV_LOCAL_DEVICE_IDS)
      for ids in ("", "a,b", "0,0", "-1")],
    *[(dict(coordinator="h:1", num_processes=2, process_id=0),
       {distributed.ENV_GPUS_PER_PROCESS: n}, distributed.ENV_GPUS_PER_PROCESS)
      for n in ("0", "two")],
])
def test_bad_values_name_the_flag(kw, env, field):
    with pytest.raises(ConfigError, match=f"^{field}:"):
        distributed.resolve(flags(**kw), env)
