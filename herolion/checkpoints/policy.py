"""When to save and what to keep, as orbax policies (big_vision's ckpt_steps/keep_ckpt_steps).

* Save: every ``save_interval_steps`` (1 = whenever the trainer asks), or at the JAX
  preemption sync point on multi-host jobs. No "initial save" policy: a fresh run does
  not write step 0 unless asked to.
* Keep: the newest ``keep_last`` steps, plus every step divisible by ``keep_every``
  forever. Old steps are deleted only after a newer save has committed, so a crash
  never leaves fewer complete checkpoints than before.
"""
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies

from herolion.errors import ConfigError


def manager_options(*, keep_last: int, keep_every: int | None, save_interval_steps: int,
                    async_save: bool, read_only: bool) -> ocp.CheckpointManagerOptions:
    _check_positive("keep_last", keep_last)
    if keep_every is not None:
        _check_positive("keep_every", keep_every)
    _check_positive("save_interval_steps", save_interval_steps)
    keep = [policies.LatestN(n=keep_last)]
    if keep_every is not None:
        keep.append(policies.EveryNSteps(interval_steps=keep_every))
    save = policies.AnySavePolicy([
        policies.FixedIntervalPolicy(save_interval_steps),
        policies.PreemptionCheckpointingPolicy(),
    ])
    return ocp.CheckpointManagerOptions(
        save_decision_policy=save,
        preservation_policy=policies.AnyPreservationPolicy(keep),
        enable_async_checkpointing=async_save,
        # herolion removes interrupted saves itself, synchronously (see layout.py).
        cleanup_tmp_directories=False,
        create=not read_only,
        read_only=read_only,
    )


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"checkpoints.{name}: must be an integer >= 1, got {value!r}")
