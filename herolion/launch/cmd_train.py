"""`herolion train --config FILE.py[:ARGS] --workdir DIR [--config.a.b=VALUE ...]`.

Exit status: 0 done; 2 bad input (one line on stderr); 3 a non-finite loss stopped the
run (the last good checkpoint is untouched); 75 preempted (checkpoint saved — cluster
backends requeue on it).
"""
import logging
import os
import sys

from herolion.launch import cpu_devices, distributed

NONFINITE_EXIT_CODE = 3


def register(sub):
    parser = sub.add_parser("train", help="train (or resume) a config in a workdir",
                            description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="FILE.py[:ARGS]")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--cpu-devices", default=None, metavar="N|auto",
                        help="CPU runs: split the batch over N single-threaded XLA devices "
                             "per process ('auto': one per core, as many as divide the "
                             "batch); often much faster than one device on all cores")
    distributed.add_flags(parser)
    parser.set_defaults(func=run, accepts_config_overrides=True)


#: orbax log records of save-thread failures that ``wait_until_finished`` re-raises.
ORBAX_RERAISED = ("_SignalingThread.run() raised an exception",
                  "Handler Commit operations or the Commit callback in background save thread",
                  "Save Finalize thread (save_finalize) failed")


def quiet_libraries():
    """Keep the console for herolion's own progress lines: libraries log errors only.

    orbax also logs (with a traceback) every exception of its save threads, which it
    then re-raises to the caller; herolion reports those as one ``SaveError`` line, so
    the log record is dropped."""
    for noisy in ("absl", "jax._src", "orbax", "tensorflow"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    absl_log = logging.getLogger("absl")
    if not any(getattr(f, "herolion_quiet", False) for f in absl_log.filters):
        def reraised(record):
            return not any(text in record.getMessage() for text in ORBAX_RERAISED)
        reraised.herolion_quiet = True
        absl_log.addFilter(reraised)


def drop_closed_event_loop_noise():
    """When orbax fails to read a corrupt checkpoint it closes its asyncio loop while
    tensorstore reads are still in flight; each late read then reports "RuntimeError:
    Event loop is closed" as an unraisable exception — dozens of tracebacks after the
    one-line error; its abandoned read tasks are also logged by asyncio as "Task exception
    was never retrieved". Those (and only those) are dropped."""
    asyncio_log = logging.getLogger("asyncio")
    if not any(getattr(f, "herolion_quiet", False) for f in asyncio_log.filters):
        def orphan_tasks(record):
            return "exception was never retrieved" not in record.getMessage()
        orphan_tasks.herolion_quiet = True
        asyncio_log.addFilter(orphan_tasks)
    default = sys.unraisablehook
    if getattr(default, "herolion_quiet", False):   # already installed (in-process callers)
        return

    def hook(unraisable):
        exc = unraisable.exc_value
        if isinstance(exc, RuntimeError) and "Event loop is closed" in str(exc):
            return
        default(unraisable)

    hook.herolion_quiet = True
    sys.unraisablehook = hook


def run(args):
    drop_closed_event_loop_noise()
    from herolion.config import load_config
    from herolion.trainer import loop

    # Loading the config touches no JAX backend; XLA's flags (--cpu-devices) and
    # jax.distributed.initialize must both come before anything does.
    config = load_config(args.config, args.config_overrides, known_keys=loop.CONFIG_KEYS)
    devices = None
    if args.cpu_devices is not None:
        job = distributed.resolve(args, os.environ)
        devices = cpu_devices.use(args.cpu_devices, config.get("input", {}).get("batch_size", 0),
                                  processes=(job and job.num_processes) or 1)
    distributed.initialize_from_env(args)
    from herolion import checkpoints

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    quiet_libraries()
    if devices is not None:
        print(f"--cpu-devices {args.cpu_devices}: {devices} single-threaded CPU device(s) "
              f"per process", flush=True)
    try:
        result = loop.train(config, args.workdir)
    except loop.Preempted:
        return checkpoints.PREEMPTED_EXIT_CODE
    except checkpoints.NonFiniteError as err:
        print(f"herolion train: {err}", file=sys.stderr)
        return NONFINITE_EXIT_CODE
    except checkpoints.SaveError as err:
        print(f"herolion train: {err}", file=sys.stderr)
        return checkpoints.SAVE_FAILED_EXIT_CODE
    print("done: " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in result.items()), flush=True)
    return 0
