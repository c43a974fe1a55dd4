"""`herolion plan`: per-device memory of a training run, on any mesh, without devices.

``plan(config, {'data': 2, 'fsdp': 256}, hbm=parse_bytes('80GB'))`` returns a dict of
bytes per device (params, gradients, optimizer state per optimizer, Polyak copy,
activations, batch) with FSDP and with params replicated; ``render`` prints it.
See docs/plan.md for what the activation estimate assumes.
"""
from herolion.plan.core import (VARIANTS, Analysis, analyse, batch_per_device, layout,
                                min_devices, no_fsdp_axes)
from herolion.plan.report import plan, render
from herolion.plan.shards import device_bytes, parse_axes, shard_shape
from herolion.plan.units import fmt_bytes, parse_bytes

__all__ = ["VARIANTS", "Analysis", "analyse", "batch_per_device", "device_bytes", "fmt_bytes",
           "layout", "min_devices", "no_fsdp_axes", "parse_axes", "parse_bytes", "plan",
           "render", "shard_shape"]
