"""`herolion <command>`: one entry point; each command lives in its own module.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed args; returns an exit status or None).
Bad input raises :class:`herolion.errors.ConfigError`: printed as one line on
stderr, exit status 2.
"""
import argparse
import importlib
import sys

from herolion.errors import ConfigError

COMMAND_MODULES = (
    "herolion.launch.cmd_demo",
    "herolion.launch.cmd_data",
    "herolion.launch.cmd_train",
    "herolion.launch.cmd_eval",
    "herolion.launch.cmd_zeroshot",
    "herolion.launch.cmd_export",
    "herolion.launch.cmd_plan",
    "herolion.launch.cmd_repro",
    "herolion.launch.cmd_submit",
    "herolion.launch.cmd_status",
    "herolion.launch.cmd_cancel",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herolion", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def split_overrides(argv):
    """big_vision's ``--config.a.b=VALUE`` flags, separated from argparse's arguments."""
    own, overrides = [], []
    for arg in argv:
        (overrides if arg.startswith("--config.") else own).append(arg)
    return own, overrides


def main(argv=None) -> int:
    own, overrides = split_overrides(sys.argv[1:] if argv is None else list(argv))
    args = build_parser().parse_args(own)
    if overrides and not getattr(args, "accepts_config_overrides", False):
        print(f"herolion {args.command}: error: {overrides[0]}: this command takes no "
              "--config.FIELD overrides", file=sys.stderr)
        return 2
    args.config_overrides = overrides
    try:
        status = args.func(args)
    except ConfigError as err:
        print(f"herolion {args.command}: error: {err}", file=sys.stderr)
        return 2
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
