"""Evaluators run during training and by ``herolion eval``.

``config.evals.NAME = dict(type='classification', data=dict(name=..., split=...), pp=...,
batch_size=...)``. Classification reports ``prec@1`` (top-1; with multi-hot labels, as in
ImageNet-ReaL, a prediction is correct when it is in the label set and examples with an
empty set are skipped). The eval pipeline pads the last batch and masks the padding, and
the step returns sums, so the accuracy is exact for any batch size and process count.

``class_subset`` scores a subset of the classes (the argmax runs over those logits only;
labels keep their ids), as ImageNet-A and ImageNet-R are scored on 200 of the 1000
ImageNet classes: a list of class ids, a text file of ids (one per line), or
``"labels"`` / ``"labels:KEY"`` for the distinct labels of the eval split itself (feature
``label`` / ``KEY``; every class of ImageNet-A/R occurs in its split).
"""
from __future__ import annotations

import jax
import numpy as np

from herolion.errors import ConfigError
from herolion.trainer import sharding
from herolion.trainer.step import make_eval_step
from herolion.trainer.zeroshot import RetrievalEvaluator, ZeroShotEvaluator


class ClassificationEvaluator:
    def __init__(self, name, cfg, model, mesh, *, data_dir=None, batch_size=None,
                 build_steps=True):
        self.name, self.cfg, self.mesh = name, cfg, mesh
        self.data_dir, self.batch_size = data_dir, batch_size
        self.class_subset = None
        if cfg.get("class_subset") is not None and build_steps:
            self.class_subset = resolve_class_subset(cfg, name, data_dir)
        self.step = (jax.jit(make_eval_step(model, class_subset=self.class_subset))
                     if build_steps else None)
        self.batch_sharding = sharding.batch_sharding(mesh)

    def batches(self):
        from herolion.data.eval_pipeline import eval_iterator
        return eval_iterator(self.cfg, data_dir=self.data_dir, batch_size=self.batch_size,
                             field=f"config.evals.{self.name}")

    def run(self, params, model_state) -> dict:
        correct = count = 0.0
        for local in self.batches():
            batch = {k: jax.make_array_from_process_local_data(self.batch_sharding, np.asarray(v))
                     for k, v in local.items()}
            with jax.set_mesh(self.mesh):
                sums = self.step(params, model_state, batch)
            sums = jax.device_get(sums)
            correct += float(sums["correct"])
            count += float(sums["count"])
        return {"prec@1": correct / max(count, 1.0), "examples": count}


def resolve_class_subset(cfg, name, data_dir) -> list[int]:
    """``evals.NAME.class_subset`` as a sorted list of distinct class ids."""
    import pathlib
    field = f"config.evals.{name}.class_subset"
    spec = cfg.get("class_subset")
    if isinstance(spec, str) and (spec == "labels" or spec.startswith("labels:")):
        from herolion.data.eval_pipeline import labels_present
        key = spec.partition(":")[2] or "label"
        ids = labels_present(cfg, data_dir=data_dir, key=key, field=f"config.evals.{name}")
    elif isinstance(spec, (str, pathlib.Path)):
        path = pathlib.Path(spec)
        if not path.is_file():
            raise ConfigError(f"{field}: {spec!r} is neither 'labels[:KEY]' nor a file of "
                              "class ids")
        try:
            ids = [int(line) for line in path.read_text().split() if line]
        except ValueError:
            raise ConfigError(f"{field}: {path} must hold integer class ids, one per line"
                              ) from None
    else:
        try:
            ids = [int(i) for i in spec]
        except (TypeError, ValueError):
            raise ConfigError(f"{field}: expected a list of class ids, a file or "
                              f"'labels[:KEY]', got {spec!r}") from None
    if not ids or min(ids) < 0:
        raise ConfigError(f"{field}: needs at least one class id, all >= 0 (got {spec!r})")
    return sorted(set(ids))


EVALUATORS = {"classification": ClassificationEvaluator, "zeroshot": ZeroShotEvaluator,
              "retrieval": RetrievalEvaluator}


def from_config(config, model, mesh, *, build_steps=True) -> dict:
    evals = config.get("evals") or {}
    data_dir = (config.get("input") or {}).get("data_dir")
    batch = (config.get("input") or {}).get("batch_size")
    out = {}
    for name, cfg in evals.items():
        kind = cfg.get("type", "classification")
        if kind not in EVALUATORS:
            raise ConfigError(f"config.evals.{name}.type: unknown {kind!r}; known: "
                              + ", ".join(EVALUATORS))
        out[name] = EVALUATORS[kind](name, cfg, model, mesh, data_dir=data_dir,
                                     batch_size=cfg.get("batch_size", batch),
                                     build_steps=build_steps)
    return out
