"""`herolion repro [--quick] [--out DIR] [--data-dir D] [--seeds N]`.

The paper's small-scale protocol on local digits with a tiny ViT: lr × λ grids for AdamW,
Lion and the single-β sign-momentum ablation (Section 3.2), seeds, accuracy curves
(Figure 2 left), lr × λ heatmaps (Figure 2 middle/right) and Table 6's flatness.
Writes ``results.json`` and PNGs into ``--out``. ``--quick``: reduced grid, one seed,
fewer steps (a couple of minutes on 2 CPU cores).
"""
import os


def register(sub):
    from herolion.configs.demo import DEFAULT_DATA_DIR
    parser = sub.add_parser("repro", help="reproduce the paper's protocol at small scale",
                            description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="reduced grid, one seed, 200 steps (for tests and a first look)")
    parser.add_argument("--out", default=os.path.join("workdirs", "repro"),
                        help="folder for results.json and the figures (default workdirs/repro)")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                        help="tfds folder; digits is prepared there when missing")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per grid cell (default 3, or 1 with --quick)")
    parser.set_defaults(func=run)


def run(args):
    from herolion.errors import ConfigError
    from herolion.launch.cmd_train import quiet_libraries
    if args.seeds is not None and args.seeds < 1:
        raise ConfigError(f"--seeds: must be an integer >= 1, got {args.seeds}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ConfigError(f"--out: {args.out} exists and is not a folder")
    if os.path.exists(args.data_dir) and not os.path.isdir(args.data_dir):
        raise ConfigError(f"--data-dir: {args.data_dir} exists and is not a folder")
    quiet_libraries()
    from herolion.repro import report
    report.run(args.out, args.data_dir, quick=args.quick, seeds=args.seeds,
               log=lambda msg: print(msg, flush=True))
    return 0
