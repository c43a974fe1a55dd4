"""`herolion export --workdir DIR --out FILE.npz [--step N] [--params auto|params|polyak]`.

Writes a run's params in big_vision's flat ``.npz`` layout (``herolion.models.npz``): the
format big_vision and timm load, and herolion's own ``model_init`` — so a model trained
here can be fine-tuned or served elsewhere. A scanned encoder (``scan=True``) is written
unscanned (``encoderblock_0``, ``encoderblock_1``, ...) as the public ViT checkpoints
are, unless ``--keep-scan``. The file is written under a temporary name and renamed, so
a failed export never leaves a partial file behind, and the checkpoint is only read.
"""
import os
from pathlib import Path


def register(sub):
    parser = sub.add_parser("export", help="write a run's params as a big_vision .npz",
                            description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True,
                        help="the run (or its checkpoints/ dir, or one step dir)")
    parser.add_argument("--out", required=True, help="the .npz file to write")
    parser.add_argument("--step", type=int, help="checkpoint step (default: newest)")
    parser.add_argument("--params", choices=("auto", "params", "polyak"), default="auto",
                        help="auto: the Polyak average when the step has one")
    parser.add_argument("--keep-scan", action="store_true",
                        help="keep a scanned encoder's stacked layer axis")
    parser.set_defaults(func=run)


def run(args):
    import jax

    from herolion.checkpoints import layout, read_params
    from herolion.errors import ConfigError
    from herolion.models.npz import flatten, save_npz
    from herolion.models.transformer import scanned_to_unscanned

    step_dir = layout.resolve_step_dir(args.workdir, args.step)
    item = args.params
    if item == "auto":
        item = "polyak" if (step_dir / "polyak").is_dir() else "params"
    params = read_params(step_dir, item=item)
    if not args.keep_scan:
        params = scanned_to_unscanned(params)
    out = Path(args.out).expanduser().absolute()
    if out.is_dir():
        raise ConfigError(f"--out {out}: is a directory; name the .npz file to write")
    layout.writable_dir(out.parent, "--out")
    partial = out.with_name(f".{out.name}.partial")
    try:
        save_npz(partial, params)
        os.replace(partial, out)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"--out {out}: cannot write it ({err.strerror or err})") from None
    flat = flatten(params)
    count = sum(int(getattr(a, "size", 1)) for a in jax.tree.leaves(flat))
    print(f"wrote {out}: {len(flat)} arrays, {count:,} values ({item} of step {step_dir.name})",
          flush=True)
    return 0
