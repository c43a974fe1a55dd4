"""``plan()``: the numbers ``herolion plan`` prints, as one JSON-able dict, and its table."""
from __future__ import annotations

import math

from herolion.errors import ConfigError
from herolion.plan import core
from herolion.plan.units import fmt_bytes

ITEMS = ("params", "grads", "gathered", "polyak", "model_state", "batch", "activations")


def plan(config, axes: dict[str, int], *, hbm: int | None = None, optimizers=("config",),
         image=None, devices_per_host: int | None = None) -> dict:
    """Per-device bytes on ``axes`` ('fsdp') and with params replicated ('no_fsdp')."""
    devices = math.prod(axes.values())
    if devices_per_host is not None and (devices_per_host < 1 or devices % devices_per_host):
        raise ConfigError(f"--devices-per-host: {devices_per_host} does not divide the "
                          f"{devices} devices of the mesh")
    per_device, micro = core.batch_per_device(config, axes)
    labels = ("config",) + tuple(o for o in optimizers if o != "config")
    analysis = core.analyse(config, labels, image)
    layouts = {"fsdp": core.layout(analysis, axes, per_device, micro),
               "no_fsdp": core.layout(analysis, core.no_fsdp_axes(axes), per_device, micro)}
    out = {
        "model": config.get("model_name"), "param_count": analysis.param_count,
        "image_size": list(analysis.image_size), "mesh": dict(axes), "devices": devices,
        "hosts": devices // devices_per_host if devices_per_host else None,
        "batch": {"global": config.input.batch_size, "per_device": per_device,
                  "micro": micro},
        "activations_per_example": analysis.act_per_example,
        "optimizers": {label: _describe(config, label) for label in labels},
        "hbm": hbm, "layouts": layouts,
    }
    if hbm is not None:
        out["fits"] = {name: {label: total <= hbm for label, total in lay["total"].items()}
                       for name, lay in layouts.items()}
    return out


def _describe(config, label) -> str:
    cfg = core.variant_config(config, label)
    dtype = dict(cfg.get("optax") or {}).get("mu_dtype")
    return f"{cfg.optimizer}" + (f" (mu_dtype={dtype})" if dtype else "")


def render(result: dict) -> str:
    """The human-readable table: one row per item, a column per layout."""
    b = result["batch"]
    mesh = ",".join(f"{k}={v}" for k, v in result["mesh"].items())
    hosts = f", {result['hosts']} hosts" if result["hosts"] else ""
    lines = [f"{result['model']}: {result['param_count']:,} params, image "
             f"{result['image_size'][0]}x{result['image_size'][1]}, mesh {mesh} "
             f"({result['devices']} devices{hosts})",
             f"batch {b['global']} global, {b['per_device']} per device"
             + (f" in micro-batches of {b['micro']}" if b["micro"] != b["per_device"] else ""),
             "", f"{'bytes per device':<28}{'fsdp (this mesh)':>18}{'no fsdp':>18}"]
    lays = result["layouts"]
    for item in ITEMS:
        lines.append(f"{item:<28}" + "".join(f"{fmt_bytes(lays[k][item]):>18}" for k in lays))
    names = {label: f"config ({desc})" if label == "config" else label
             for label, desc in result["optimizers"].items()}
    lines.append("optimizer state")
    for label, name in names.items():
        lines.append(f"  {name:<26}" + "".join(f"{fmt_bytes(lays[k]['opt'][label]):>18}"
                                                for k in lays))
    hbm = result["hbm"]
    lines.append("total" + ("" if hbm is None else f" (fits {fmt_bytes(hbm)}?)"))
    for label, name in names.items():
        cells = []
        for k in lays:
            total = lays[k]["total"][label]
            mark = "" if hbm is None else (" yes" if total <= hbm else " NO")
            cells.append(f"{fmt_bytes(total) + mark:>18}")
        lines.append(f"  {name:<26}" + "".join(cells))
    return "\n".join(lines)

