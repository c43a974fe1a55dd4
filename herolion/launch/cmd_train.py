"""`herolion train --config FILE.py[:ARGS] --workdir DIR [--config.a.b=VALUE ...]`.

Exit status: 0 done; 2 bad input (one line on stderr); 3 a non-finite loss stopped the
run (the last good checkpoint is untouched); 75 preempted (checkpoint saved — cluster
backends requeue on it).
"""
import logging
import sys

NONFINITE_EXIT_CODE = 3


def register(sub):
    parser = sub.add_parser("train", help="train (or resume) a config in a workdir",
                            description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="FILE.py[:ARGS]")
    parser.add_argument("--workdir", required=True)
    parser.set_defaults(func=run, accepts_config_overrides=True)


def run(args):
    from herolion import checkpoints
    from herolion.config import load_config
    from herolion.trainer import loop

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("absl", "jax._src", "orbax", "tensorflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = load_config(args.config, args.config_overrides)
    try:
        result = loop.train(config, args.workdir)
    except loop.Preempted:
        return checkpoints.PREEMPTED_EXIT_CODE
    except checkpoints.NonFiniteError as err:
        print(f"herolion train: {err}", file=sys.stderr)
        return NONFINITE_EXIT_CODE
    print("done: " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in result.items()), flush=True)
    return 0
