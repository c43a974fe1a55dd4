"""`herolion zeroshot --workdir DIR | --checkpoint PATH --dataset NAME[:SPLIT] --data-dir D`.

Zero-shot classification with a two-tower (LiT) run: class embeddings are the averaged
prompt embeddings (``--classnames``/``--prompts``: builtin names or text files, see
:mod:`herolion.data.zeroshot`), images are scored against them, top-1/top-5 are printed and
written as JSON. Image and text preprocessing default to the run's own zero-shot evaluator
(so the result reproduces what the run logged), else ``--pp``/``--pp-txt``.
"""
import json
from pathlib import Path


def register(sub):
    parser = sub.add_parser("zeroshot", help="zero-shot classification with a LiT run",
                            description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--workdir", help="the LiT run (its config.json and checkpoints)")
    where.add_argument("--checkpoint", help="a checkpoint dir (workdir, checkpoints/ or a step)")
    parser.add_argument("--dataset", required=True, help="tfds NAME[:SPLIT] (split: test)")
    parser.add_argument("--data-dir", help="where the dataset is prepared (default: the run's)")
    parser.add_argument("--classnames", help="builtin name or file, one class per line")
    parser.add_argument("--prompts", help="builtin name or file, one template with {} per line")
    parser.add_argument("--pp", help="image preprocessing (must keep the integer 'label')")
    parser.add_argument("--pp-txt", help="text preprocessing of {'caption': prompt}")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--step", type=int, help="checkpoint step (default: newest)")
    parser.add_argument("--params", choices=("auto", "params", "polyak"), default="auto")
    parser.add_argument("--output", help="JSON file for the results")
    parser.set_defaults(func=run)


def find_config(args):
    """The run's resolved config: ``WORKDIR/config.json`` or the one above a checkpoint."""
    from herolion.config import load_saved_config
    from herolion.errors import ConfigError
    if args.workdir:
        return load_saved_config(args.workdir), Path(args.workdir)
    path = Path(args.checkpoint)
    if not path.exists():
        raise ConfigError(f"--checkpoint: no such checkpoint {path}")
    for folder in (path, path.parent, path.parent.parent):
        if (folder / "config.json").is_file():
            return load_saved_config(folder), path
    raise ConfigError(f"--checkpoint: no config.json found at or above {path} "
                      "(zeroshot needs the run's config to rebuild its model)")


def eval_config(config, args):
    """The evaluator config: the run's own zero-shot settings, overridden by the flags."""
    from herolion.errors import ConfigError
    name, _, split = args.dataset.partition(":")
    if not name:
        raise ConfigError(f"--dataset: expected NAME[:SPLIT], got {args.dataset!r}")
    own = next((dict(e) for e in (config.get("evals") or {}).values()
                if e.get("type") == "zeroshot"), {})
    same_data = (own.get("data") or {}).get("name") == name
    cfg = {"type": "zeroshot", "data": {"name": name, "split": split or "test"},
           "batch_size": args.batch_size,
           "pp": args.pp or own.get("pp"), "pp_txt": args.pp_txt or own.get("pp_txt"),
           "classnames": args.classnames or (own.get("classnames") if same_data else None),
           "prompts": args.prompts or (own.get("prompts") if same_data else None)}
    if not cfg["pp"]:
        raise ConfigError("--pp: the run has no zero-shot evaluator to take the image "
                          "preprocessing from; pass --pp")
    if args.data_dir:
        cfg["data_dir"] = args.data_dir
    return cfg


def run(args):
    import jax

    from herolion import checkpoints
    from herolion.errors import ConfigError
    from herolion.launch.cmd_eval import _has_item, _newest
    from herolion.launch.cmd_train import quiet_libraries
    from herolion.trainer import mesh as mesh_lib, setup
    from herolion.trainer.zeroshot import ZeroShotEvaluator

    quiet_libraries()
    config, source = find_config(args)
    if config.get("model_name") != "two_towers":
        raise ConfigError(f"--{'workdir' if args.workdir else 'checkpoint'}: {source} holds a "
                          f"{config.get('model_name')!r} model, not a two-tower (LiT) one")
    mesh = mesh_lib.make_mesh(config.get("mesh"))
    data_dir = args.data_dir or (config.get("input") or {}).get("data_dir")
    evaluator = ZeroShotEvaluator("zeroshot", eval_config(config, args), None, mesh,
                                  data_dir=data_dir, build_steps=False)
    built = setup.build(config, mesh, next(evaluator.batches())["image"])
    evaluator = ZeroShotEvaluator("zeroshot", eval_config(config, args), built.model, mesh,
                                  data_dir=data_dir)
    item = args.params
    if item == "auto":
        item = "polyak" if _has_item(source, args.step, "polyak") else "params"
    params = jax.device_put(checkpoints.read_params(source, args.step, item=item),
                            built.shardings.params)
    results = {"step": args.step if args.step is not None else _newest(source),
               "params": item, "dataset": args.dataset,
               **{f"zeroshot/{k}": v for k, v in evaluator.run(params, {}).items()}}
    default = (Path(args.workdir) if args.workdir else source) / (
        f"zeroshot_{args.dataset.replace(':', '_').replace('/', '_')}_{results['step']}.json")
    output = Path(args.output) if args.output else default
    output.write_text(json.dumps(results) + "\n")
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in results.items()), flush=True)
    return 0
