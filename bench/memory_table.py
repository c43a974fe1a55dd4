"""Optimizer-state memory of the paper's ViTs, and how many 80 GB devices each needs.

    .venv/bin/python bench/memory_table.py [--hbm 80GB] [--batch-per-device 32]
                                           [--global-batch 4096] [--res 224]

Prints two markdown tables (docs/plan.md holds their output), all from ``herolion.plan``
— abstract shapes only, no model is allocated. 1: optimizer-state GB (bytes/param) for
Lion (f32 and bf16 momentum), AdamW and AdafactorW, and the whole step on one device
without FSDP at a per-device batch. 2: the fewest devices of ``--hbm`` with FSDP
(``fsdp=N``) for the paper's global batch split over N. Both with ``scan=True`` and
per-block remat, f32 params, no gradient accumulation.
"""
import argparse

from ml_collections import ConfigDict

from herolion import plan as planner

MODELS = [("ViT-B/16", "B/16", "tok"), ("ViT-L/16", "L/16", "tok"), ("ViT-H/14", "H/14", "tok"),
          ("ViT-g/14", "g/14", "map"), ("ViT-G/14", "G/14", "map")]
OPTIMIZERS = [("lion", "Lion f32"), ("lion_bf16", "Lion bf16"), ("adamw", "AdamW"),
              ("adafactorw", "AdafactorW")]


def config(variant, pool, res, batch):
    return ConfigDict(dict(
        model_name="vit", model=dict(variant=variant, pool_type=pool, num_classes=1000,
                                     scan=True, remat_policy="nothing_saveable"),
        optimizer="lion", lr=1e-4, wd=1.0, input=dict(batch_size=batch, pp=f"resize({res})")))


def row(cells):
    return "| " + " | ".join(cells) + " |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hbm", default="80GB")
    parser.add_argument("--batch-per-device", type=int, default=32)
    parser.add_argument("--global-batch", type=int, default=4096)
    parser.add_argument("--res", type=int, default=224)
    args = parser.parse_args()
    hbm, b = planner.parse_bytes(args.hbm), args.batch_per_device
    names = [label for _, label in OPTIMIZERS]
    one, many, notes = [], [], []
    for title, variant, pool in MODELS:
        analysis = planner.analyse(config(variant, pool, args.res, b),
                                   [key for key, _ in OPTIMIZERS])
        n = analysis.param_count
        lay = planner.layout(analysis, {"data": 1}, b, b)
        one.append(row([title, f"{n / 1e6:,.1f} M"]
                       + [f"{lay['opt'][k] / 1e9:.2f} ({lay['opt'][k] / n:.2f})"
                          for k, _ in OPTIMIZERS]
                       + [f"{lay['total'][k] / 1e9:.1f}" for k, _ in OPTIMIZERS]))
        cells = []
        for key, _ in OPTIMIZERS:
            devices = planner.min_devices(analysis, hbm, key, global_batch=args.global_batch)
            if devices is None:
                cells.append("-")
                continue
            per = args.global_batch // devices
            total = planner.layout(analysis, {"fsdp": devices}, per, per)["total"][key]
            cells.append(f"{devices} ({total / 1e9:.1f} GB)")
        many.append(row([title] + cells))
        acts = analysis.act_per_example
        notes.append(f"{title} {(acts['saved'] + acts['recompute']) / 1e6:.0f}")
    print(f"Optimizer state in GB (bytes/param), and the whole step in GB on one device "
          f"without FSDP ({b} images of {args.res}px, scan + remat):\n")
    print(row(["model", "params"] + [f"{x} state" for x in names]
              + [f"{x} step" for x in names]))
    print("|---|---:|" + "---:|" * (2 * len(names)))
    print("\n".join(one))
    print(f"\nFewest {planner.fmt_bytes(hbm)} devices with FSDP for a global batch of "
          f"{args.global_batch} (per-device GB at that count):\n")
    print(row(["model"] + names))
    print("|---|" + "---:|" * len(names))
    print("\n".join(many))
    print(f"\nActivation estimate, MB per image: {', '.join(notes)}.")


if __name__ == "__main__":
    main()
