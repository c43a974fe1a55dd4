"""`herolion plan --config FILE.py[:ARGS] --mesh data=N,fsdp=M [--hbm 80GB] [--optimizer all]`.

Prints per-device bytes of params, gradients, optimizer state, the Polyak copy and an
activation estimate, on the given mesh (FSDP) and with params replicated, and whether
each fits ``--hbm``. Abstract throughout (``jax.eval_shape``): meshes of any size plan on
a laptop. docs/plan.md says what the estimate assumes.
"""
import json

OPTIMIZER_CHOICES = ("config", "all", "lion", "lion_bf16", "adamw", "adafactorw", "sgdm")


def register(sub):
    parser = sub.add_parser("plan", help="per-device memory of a run on a mesh (no devices)",
                            description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="FILE.py[:ARGS]")
    parser.add_argument("--mesh", help="e.g. data=2,fsdp=256 (default: the config's mesh)")
    parser.add_argument("--devices-per-host", type=int, help="to report the number of hosts")
    parser.add_argument("--hbm", help="device memory, e.g. 80GB, 80GiB, 16G")
    parser.add_argument("--optimizer", default="config",
                        help="config (default), all, or one or more (comma-separated) of "
                             + ", ".join(OPTIMIZER_CHOICES[2:]))
    parser.add_argument("--image-size", type=int,
                        help="input resolution (default: from config.input.pp)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run, accepts_config_overrides=True)


def optimizer_labels(text):
    from herolion.errors import ConfigError
    from herolion.plan import VARIANTS
    names = [n.strip() for n in str(text).split(",") if n.strip()]
    if names == ["all"]:
        return ("config", *VARIANTS)
    for name in names:
        if name not in ("config", *VARIANTS):
            raise ConfigError(f"--optimizer: unknown {name!r}; known: "
                              + ", ".join(OPTIMIZER_CHOICES))
    return tuple(names) or ("config",)


def run(args):
    from herolion.config import load_config
    from herolion.errors import ConfigError
    from herolion.launch.cmd_train import quiet_libraries
    from herolion.plan import parse_axes, parse_bytes, plan, render
    from herolion.trainer.loop import CONFIG_KEYS

    quiet_libraries()
    hbm = parse_bytes(args.hbm) if args.hbm is not None else None
    labels = optimizer_labels(args.optimizer)
    if args.image_size is not None and args.image_size < 1:
        raise ConfigError(f"--image-size: must be >= 1, got {args.image_size}")
    config = load_config(args.config, args.config_overrides, known_keys=CONFIG_KEYS)
    field = "--mesh" if args.mesh else "config.mesh"
    axes = parse_axes(args.mesh if args.mesh else config.get("mesh"), field)
    result = plan(config, axes, hbm=hbm, optimizers=labels, image=args.image_size,
                  devices_per_host=args.devices_per_host)
    print(json.dumps(result, indent=1) if args.json else render(result), flush=True)
    return 0
