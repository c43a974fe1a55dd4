"""`herolion eval --workdir DIR [--step N] [--params auto|params|polyak] [--config.a.b=V ...]`.

Evaluates a saved run with the evaluators of its own config (``WORKDIR/config.json``), or
of ``--config FILE.py[:ARGS]`` when given; ``--config.evals...`` overrides add or change
evaluators (e.g. another split). ``--checkpoint`` points at a checkpoint of another run.
Prints the results and writes them to ``--output`` (default ``WORKDIR/eval_STEP.json``).
"""
import json
from pathlib import Path


def register(sub):
    parser = sub.add_parser("eval", help="evaluate a saved run", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, help="the run (its config.json and checkpoints)")
    parser.add_argument("--checkpoint", help="read params from here instead of the workdir")
    parser.add_argument("--config", help="FILE.py[:ARGS] instead of WORKDIR/config.json")
    parser.add_argument("--step", type=int, help="checkpoint step (default: newest)")
    parser.add_argument("--params", choices=("auto", "params", "polyak"), default="auto",
                        help="auto: the Polyak average when the run has one")
    parser.add_argument("--output", help="JSON file for the results")
    parser.set_defaults(func=run, accepts_config_overrides=True)


def run(args):
    import jax
    import numpy as np

    from herolion import checkpoints
    from herolion.config import apply_overrides, load_config, load_saved_config
    from herolion.errors import ConfigError
    from herolion.launch.cmd_train import quiet_libraries
    from herolion.trainer import evaluate, mesh as mesh_lib, setup

    quiet_libraries()
    config = (load_config(args.config, args.config_overrides) if args.config
              else apply_overrides(load_saved_config(args.workdir), args.config_overrides))
    source = Path(args.checkpoint or args.workdir)
    mesh = mesh_lib.make_mesh(config.get("mesh"))
    evaluators = evaluate.from_config(config, None, mesh, build_steps=False)
    if not evaluators:
        raise ConfigError("config.evals: the config defines no evaluator")
    example = next(iter(evaluators.values())).batches()
    built = setup.build(config, mesh, np.asarray(next(example)["image"]))
    item = args.params
    if item == "auto":
        item = "polyak" if _has_item(source, args.step, "polyak") else "params"
    host = checkpoints.read_params(source, args.step, item=item)
    params = jax.device_put(host, built.shardings.params)
    model_state = {}
    if _has_item(source, args.step, "model_state"):
        model_state = jax.device_put(checkpoints.read_params(source, args.step, item="model_state"),
                                     built.shardings.model_state)
    step = args.step if args.step is not None else _newest(source)
    results = {"step": step, "params": item}
    for name, evaluator in evaluate.from_config(config, built.model, mesh).items():
        for key, value in evaluator.run(params, model_state).items():
            results[f"{name}/{key}"] = value
    output = Path(args.output) if args.output else Path(args.workdir) / f"eval_{step}.json"
    output.write_text(json.dumps(results) + "\n")
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in results.items()), flush=True)
    return 0


def _step_dir(source: Path, step):
    """The step dir, or None (``read_params`` then reports what is wrong, in one line)."""
    from herolion.checkpoints import layout
    from herolion.errors import ConfigError
    try:
        return layout.resolve_step_dir(source, step)
    except ConfigError:
        return None


def _has_item(source: Path, step, item) -> bool:
    step_dir = _step_dir(source, step)
    return step_dir is not None and (step_dir / item).is_dir()


def _newest(source: Path):
    step_dir = _step_dir(source, None)
    return int(step_dir.name) if step_dir is not None else None
