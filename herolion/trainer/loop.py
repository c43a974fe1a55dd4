"""The train loop: thin and imperative; every computation lives in a pure, jitted step.

    herolion train --config herolion/configs/demo.py --workdir /tmp/run

Resumes from the newest complete checkpoint in the workdir by itself; a SIGTERM
(preemption notice) saves at the next step and exits with ``PREEMPTED_EXIT_CODE``; a
non-finite loss stops the run naming the step, before anything is saved over the last
good checkpoint.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from herolion import checkpoints, config as config_lib
from herolion.checkpoints.layout import writable_dir
from herolion.errors import ConfigError
from herolion.trainer import contrastive, evaluate, losses, mesh as mesh_lib, setup, sharding
from herolion.trainer import step as step_lib
from herolion.trainer.metrics import MetricsWriter
from herolion.trainer.progress import Progress
from herolion.trainer.step import make_train_step

log = logging.getLogger("herolion")

# Top-level keys the trainer reads (docs/trainer.md). A ``--config.KEY=VALUE`` override may
# add one of these to a config that lacks it; any other new key is a typo, refused.
CONFIG_KEYS = (
    "seed", "total_steps", "input", "model_name", "model", "model_init", "model_load", "loss",
    "optimizer", "lr", "wd", "optax", "schedule", "grad_clip_norm", "lr_mults", "wd_mults",
    "accum_steps", "mixup", "polyak", "mesh", "sharding_rules", "log_steps", "ckpt_steps",
    "keep_ckpt", "keep_ckpt_steps", "async_checkpoints", "eval_steps", "evals")


# Keys inside the sections the trainer owns: a misspelled one (``input.batchsize``) would
# otherwise be silently ignored. Model kwargs, optax options and schedules are checked by
# ``models.create`` / ``optim.build`` against their signatures.
SECTION_KEYS = {
    "input": ("data", "data_dir", "batch_size", "pp", "prepare", "num_epochs", "shuffle",
              "shuffle_buffer_size", "num_workers", "num_threads", "prefetch", "cache"),
    "input.data": ("name", "split"),
    "mixup": ("p",),
    "polyak": ("decay", "dtype"),
    "model_load": ("item", "reinit_head", "head_key"),
}
EVAL_KEYS = ("type", "data", "data_dir", "pp", "batch_size", "num_threads", "prefetch")
EVAL_KEYS_BY_TYPE = {"classification": ("class_subset",), "retrieval": ("text_key",),
                     "zeroshot": ("pp_txt", "classnames", "prompts", "label_key")}


def check_sections(config):
    """Refuse unknown keys inside the trainer's own sections, naming the first one."""
    def section(path):
        node = config
        for name in path.split("."):
            node = node.get(name) if hasattr(node, "get") else None
        return node if hasattr(node, "keys") else None

    for path, known in SECTION_KEYS.items():
        _check_keys(section(path), f"config.{path}", known)
    for name, cfg in (config.get("evals") or {}).items():
        if not hasattr(cfg, "keys"):
            raise ConfigError(f"config.evals.{name}: must be a dict of evaluator settings")
        kind = cfg.get("type", "classification")
        _check_keys(cfg, f"config.evals.{name}", EVAL_KEYS + EVAL_KEYS_BY_TYPE.get(kind, ()))
        _check_keys(cfg.get("data") if hasattr(cfg.get("data"), "keys") else None,
                    f"config.evals.{name}.data", SECTION_KEYS["input.data"])


def _check_keys(node, field, known):
    for key in (node.keys() if node is not None else ()):
        if key not in known:
            import difflib
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known)}"
            raise ConfigError(f"{field}.{key}: unknown key{hint}")


def prepare_workdir(workdir) -> Path:
    return writable_dir(workdir, "--workdir")


def total_steps(config) -> int:
    steps = config.get("total_steps")
    if steps is None:
        raise ConfigError("config.total_steps: missing")
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"config.total_steps: must be a positive integer, got {steps!r}")
    return steps


def _int_field(config, key, default, minimum):
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"config.{key}: must be an integer >= {minimum}, got {value!r}")
    return value


def check_cadence(config):
    """Logging/checkpoint/eval cadence and retention, checked before anything runs (a
    ``log_steps=0`` would otherwise divide by zero at the first step)."""
    _int_field(config, "log_steps", 50, 1)
    _int_field(config, "ckpt_steps", 1000, 1)
    _int_field(config, "eval_steps", 0, 0)
    _int_field(config, "keep_ckpt", 3, 1)
    if config.get("keep_ckpt_steps") is not None:
        _int_field(config, "keep_ckpt_steps", None, 1)


def global_batch(local: dict, batch_sharding) -> dict:
    """Per-process numpy batches → global jax arrays sharded over the data axes."""
    return {k: jax.make_array_from_process_local_data(batch_sharding, np.asarray(v))
            for k, v in local.items()}


def step_batch(local: dict, batch_sharding) -> dict:
    """The batch argument of the jitted step (jitted with ``batch_sharding`` as its
    ``in_shardings``). In one process the numpy batch is the global batch, and jit places
    it in C++: ~0.4 ms less of the loop thread's CPU per step than ``global_batch``, on
    cores the step itself is using. Across processes: :func:`global_batch`."""
    if jax.process_count() == 1:
        return local
    return global_batch(local, batch_sharding)


def check_batch(config, mesh):
    batch = config.get("input", {}).get("batch_size")
    devices = int(np.prod([mesh.shape[a] for a in mesh_lib.data_axes(mesh)]))
    if not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"config.input.batch_size: must be a positive integer, got {batch!r}")
    if batch % devices:
        raise ConfigError(f"config.input.batch_size: {batch} is not divisible by the {devices} "
                          f"devices of the batch axes {mesh_lib.data_axes(mesh)}")
    accum = config.get("accum_steps", 1)
    if not isinstance(accum, int) or accum < 1 or (batch // jax.process_count()) % accum:
        raise ConfigError(f"config.accum_steps: must be a positive integer dividing the "
                          f"per-process batch, got {accum!r}")
    return batch


def prepare_local_data(config):
    """``input.prepare = True``: write a locally-made dataset (digits...) if it is missing."""
    inp = config.get("input") or {}
    if not inp.get("prepare"):
        return
    from herolion.data.prepare import prepare
    name = (inp.get("data") or {}).get("name")
    if jax.process_index() == 0:
        try:
            prepare(name, inp.get("data_dir"))
        except ConfigError as err:  # prepare names its own args ("name: ..."): say where they are
            text = str(err)
            raise ConfigError("config.input." + ("data." if text.startswith("name:") else "")
                              + text) from None
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils
        multihost_utils.sync_global_devices("herolion:prepare")


def objective_from(config):
    """Classification (``loss``: softmax_xent | sigmoid_xent) or two-tower contrastive
    training (``loss``: softmax_contrastive | sigmoid_contrastive)."""
    name = config.get("loss", "softmax_xent")
    if contrastive.is_contrastive(config):
        if (config.get("mixup") or {}).get("p"):
            raise ConfigError("config.mixup.p: Mixup does not apply to contrastive training")
        return step_lib.ContrastiveObjective(contrastive.get(name))
    return step_lib.classification_objective(losses.get(name))


def first_text_batch(config, batch):
    """The texts a two-tower model is initialised with (None for image models)."""
    if not contrastive.is_contrastive(config):
        return None
    if "labels" not in batch or np.asarray(batch["labels"]).ndim != 2:
        raise ConfigError("config.input.pp: contrastive training needs int token ids [B, L] "
                          "under 'labels' (e.g. end the pp with tokenize(16, inkey='caption'))")
    return np.asarray(batch["labels"])


def train(config, workdir) -> dict:
    """Runs (or resumes) ``config`` in ``workdir``; returns the last metrics and evals."""
    from herolion.data import pipeline

    workdir = prepare_workdir(workdir)
    steps = total_steps(config)
    check_cadence(config)
    check_sections(config)
    primary = jax.process_index() == 0
    mesh = mesh_lib.make_mesh(config.get("mesh"))
    batch_size = check_batch(config, mesh)
    objective = objective_from(config)
    prepare_local_data(config)
    data_it = pipeline.train_iterator(config.input, seed=config.get("seed", 0))
    first_batch = next(data_it)
    built = setup.build(config, mesh, np.asarray(first_batch["image"]),
                        first_text_batch(config, first_batch))
    decay, _ = setup.polyak_config(config)
    ckpt = checkpoints.Checkpointer(workdir, keep_last=config.get("keep_ckpt", 3),
                                    keep_every=config.get("keep_ckpt_steps"),
                                    async_save=config.get("async_checkpoints", True))
    state = restore_or_init(ckpt, built, data_it, config)
    start = int(state.step)
    pending = None if start else first_batch

    mixup_p = float((config.get("mixup") or {}).get("p", 0.0) or 0.0)
    step_fn = make_train_step(built.model, built.tx, built.schedule, objective=objective,
                              accum_steps=config.get("accum_steps", 1), mixup_p=mixup_p,
                              polyak_decay=decay, frozen_mask=built.frozen_mask)
    batch_sharding = sharding.batch_sharding(mesh)
    with mesh_context(mesh, config):
        train_step = jax.jit(step_fn, donate_argnums=0,
                             in_shardings=(built.shardings, batch_sharding),
                             out_shardings=(built.shardings, sharding.replicated(mesh)))
    evaluators = evaluate.from_config(config, built.model, mesh)
    if primary:  # only now: a config that fails any check above leaves the workdir as it was
        config_lib.save_config(config, workdir)
    writer = MetricsWriter(workdir, primary=primary)
    progress = Progress(steps, batch_size, jax.device_count(), start)
    log_every = config.get("log_steps", 50)
    ckpt_every = config.get("ckpt_steps", 1000)
    eval_every = config.get("eval_steps", 0) or 0
    history, results, last = [], {}, {}
    try:
        with checkpoints.PreemptionGuard() as guard:
            for step in range(start + 1, steps + 1):
                local = pending if pending is not None else next(data_it)
                pending = None
                with mesh_context(mesh, config):
                    state, metrics = train_step(state, step_batch(local, batch_sharding))
                history.append((step, metrics))
                preempted = guard.should_stop(step)
                save_now = step % ckpt_every == 0 or step == steps or preempted
                if step % log_every == 0 or save_now or step == steps:
                    last = flush_metrics(history, writer, progress, steps)
                    history = []
                if eval_every and (step % eval_every == 0 or step == steps):
                    results = run_evals(evaluators, state, step, writer, workdir)
                if save_now:
                    save(ckpt, state, data_it, config, step)
                if preempted:
                    ckpt.wait()
                    log.warning("preempted at step %d: checkpoint saved, exiting with %d",
                                step, checkpoints.PREEMPTED_EXIT_CODE)
                    raise Preempted(step)
        if not eval_every and evaluators:
            results = run_evals(evaluators, state, steps, writer, workdir)
    finally:
        try:
            ckpt.wait()   # raises SaveError if the last save failed
        finally:
            ckpt.close()
            writer.close()
    return {"step": int(state.step), **last, **results}


class Preempted(Exception):
    """Raised after the preemption checkpoint is safely on disk."""

    def __init__(self, step):
        super().__init__(f"preempted at step {step}")
        self.step = step


def mesh_context(mesh, config):
    """The mesh and logical-axis rules the models' activation constraints read."""
    import contextlib

    import flax.linen as nn
    stack = contextlib.ExitStack()
    stack.enter_context(jax.set_mesh(mesh))
    stack.enter_context(nn.logical_axis_rules(setup.rules_for_mesh(setup.rules_from(config), mesh)))
    return stack


def restore_or_init(ckpt, built, data_it, config):
    """Resume the newest checkpoint; else start from ``model_init`` (fine-tune) or scratch."""
    step = ckpt.latest_step()
    if step is None:
        if config.get("model_init"):
            from herolion.trainer.model_init import load_init_params
            params = load_init_params(config, built.abstract.params, built.init_params)
            if jax.process_index() == 0:
                print(f"initialised from {config.model_init}", flush=True)
            return built.init_from(params)
        return built.init()
    target = setup.with_shardings(built.abstract, built.shardings)
    restored = ckpt.restore(step, abstract_params=target.params,
                            abstract_opt_state=target.opt_state,
                            abstract_polyak=target.polyak, data_iterator=data_it,
                            abstract_model_state=target.model_state or None)
    extra = restored["state"]
    rng = jax.device_put(jnp.asarray(np.asarray(extra["rng"], np.uint32)), built.shardings.rng)
    model_state = restored.get("model_state") or {}
    if jax.process_index() == 0:
        print(f"resumed from step {step} ({ckpt.step_dir(step)})", flush=True)
    return built.abstract.replace(
        step=jax.device_put(jnp.asarray(step, jnp.int32), built.shardings.step),
        params=restored["params"], opt_state=restored["opt_state"],
        model_state=model_state, polyak=restored.get("polyak"), rng=rng)


def save(ckpt, state, data_it, config, step):
    ckpt.save(step, params=state.params, opt_state=state.opt_state, polyak=state.polyak,
              model_state=state.model_state or None,
              state={"step": step, "rng": np.asarray(jax.device_get(state.rng)).tolist()},
              data_iterator=data_it, config=json.loads(config.to_json_best_effort()))


def flush_metrics(history, writer, progress, total) -> dict:
    """Fetch the buffered step metrics, stop on the first non-finite one, write the last."""
    fetched = jax.device_get(history)
    for step, metrics in fetched:
        checkpoints.check_finite(step, metrics)
    step, metrics = fetched[-1]
    rates = progress.report(step)
    scalars = {k: float(v) for k, v in metrics.items()}
    writer.write(step, {**scalars, **rates})
    if writer.primary:
        print(Progress.format(step, total, {k: scalars[k] for k in ("loss", "lr")}, rates),
              flush=True)
    return scalars


def run_evals(evaluators, state, step, writer, workdir) -> dict:
    params = state.polyak if state.polyak is not None else state.params
    results = {}
    for name, evaluator in evaluators.items():
        for key, value in evaluator.run(params, state.model_state).items():
            results[f"{name}/{key}"] = value
    if results:
        writer.write(step, results)
        if writer.primary:
            which = "polyak params" if state.polyak is not None else "params"
            print(f"step {step} eval ({which}) "
                  + " ".join(f"{k} {v:.4f}" for k, v in results.items()), flush=True)
            (Path(workdir) / "eval.json").write_text(json.dumps({"step": step, **results}) + "\n")
    return results
