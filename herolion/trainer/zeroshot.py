"""Zero-shot classification and image–text retrieval for two-tower (LiT) models.

``config.evals.NAME = dict(type='zeroshot', data=dict(name='digits', split='test'),
pp='decode|value_range(-1, 1)', pp_txt="tokenize(16, model='digits_captions')",
classnames='digits', prompts='digits')``: every class gets the mean of its prompts' text
embeddings (re-normalised, as in CLIP), images are scored against all classes, and top-1 /
top-5 accuracy come from masked sums, so they are exact for any batch and process count.
``classnames`` / ``prompts`` are builtin names or text files (:mod:`herolion.data.zeroshot`;
default: the builtins for the dataset). ``pp`` must leave the integer class under
``label_key`` (default ``label``); ``pp_txt`` turns ``{'caption': text}`` into token ids
under ``labels`` — the same text preprocessing as training.

``type='retrieval'`` on a paired split (``pp`` yields ``image`` and token ``labels``) reports
image→text and text→image recall@1/5/10, where the i-th image and i-th text are the pair.
A candidate ranks above the pair only with a strictly higher score, so identical captions
(common in ``digits_captions``) tie rather than count against each other.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from herolion.errors import ConfigError
from herolion.trainer import sharding


def _embed_fn(model, which):
    def embed(params, model_state, x):
        args = (x, None) if which == "image" else (None, x)
        zimg, ztxt, _ = model.apply({"params": params, **model_state}, *args, train=False)
        return zimg if which == "image" else ztxt
    return embed


def _global(local, batch_sharding):
    return jax.make_array_from_process_local_data(batch_sharding, np.asarray(local))


class _TwoTowerEval:
    """Shared plumbing: jitted embedders whose outputs are replicated (readable anywhere)."""

    def __init__(self, name, cfg, model, mesh, *, data_dir=None, batch_size=None,
                 build_steps=True):
        self.name, self.cfg, self.mesh = name, cfg, mesh
        self.field = f"config.evals.{name}"
        self.data_dir = cfg.get("data_dir", data_dir)
        self.batch_size = cfg.get("batch_size", batch_size)
        self.batch_sharding = sharding.batch_sharding(mesh)
        from herolion.trainer.mesh import data_axes
        self.devices = int(np.prod([mesh.shape[a] for a in data_axes(mesh)]))
        rep = sharding.replicated(mesh)
        if build_steps:
            self.embed_image = jax.jit(_embed_fn(model, "image"), out_shardings=rep)
            self.embed_text = jax.jit(_embed_fn(model, "text"), out_shardings=rep)
            self.gather = jax.jit(lambda x: x, out_shardings=rep)

    def batches(self):
        from herolion.data.eval_pipeline import eval_iterator
        return eval_iterator(self.cfg, data_dir=self.data_dir, batch_size=self.batch_size,
                             field=self.field)

    def _run(self, fn, *args):
        with jax.set_mesh(self.mesh):
            return np.asarray(jax.device_get(fn(*args)))

    def embed_texts(self, params, model_state, tokens):
        """``[N, L]`` host tokens -> ``[N, D]`` host embeddings, in padded global batches."""
        step = max(self.devices, (self.batch_size or 256) // self.devices * self.devices)
        out = []
        for start in range(0, len(tokens), step):
            chunk = tokens[start:start + step]
            padded = np.concatenate([chunk, np.repeat(chunk[:1], step - len(chunk), 0)])
            array = jax.make_array_from_callback(padded.shape, self.batch_sharding,
                                                 lambda idx, p=padded: p[idx])
            out.append(self._run(self.embed_text, params, model_state, array)[:len(chunk)])
        return np.concatenate(out)


class ZeroShotEvaluator(_TwoTowerEval):
    def __init__(self, name, cfg, model, mesh, **kw):
        super().__init__(name, cfg, model, mesh, **kw)
        from herolion.data import preprocess, source, zeroshot
        data = cfg.get("data") or {}
        default_names, default_prompts = zeroshot.builtin_for_dataset(data.get("name"))
        self.classnames = zeroshot.classnames(cfg.get("classnames") or default_names,
                                              field=f"{self.field}.classnames")
        self.prompts = zeroshot.prompts(cfg.get("prompts") or default_prompts,
                                        field=f"{self.field}.prompts")
        self.label_key = cfg.get("label_key", "label")
        labels = source.builder(data.get("name"), self.data_dir,
                                field=f"{self.field}.data").info.features[self.label_key]
        if getattr(labels, "num_classes", len(self.classnames)) != len(self.classnames):
            raise ConfigError(f"{self.field}.classnames: {len(self.classnames)} class names, but "
                              f"{data.get('name')} has {labels.num_classes} classes")
        if not cfg.get("pp_txt"):
            raise ConfigError(f"{self.field}.pp_txt: required (the text preprocessing, e.g. "
                              "tokenize(16, model='digits_captions'))")
        self.pp_txt = preprocess.build(cfg.get("pp_txt"), field=f"{self.field}.pp_txt",
                                       data_dir=self.data_dir)
        if kw.get("build_steps", True):
            embed = _embed_fn(model, "image")

            def score(params, model_state, images, classes, labels, mask):
                return self._score(embed(params, model_state, images), classes, labels, mask)
            self.score = jax.jit(score, out_shardings=sharding.replicated(mesh))

    def prompt_tokens(self):
        texts = [p.format(c) for c in self.classnames for p in self.prompts]
        return np.stack([np.asarray(self.pp_txt({"caption": t})["labels"]) for t in texts])

    def class_embeddings(self, params, model_state):
        """``[C, D]``: per class, the normalised mean of its normalised prompt embeddings."""
        z = self.embed_texts(params, model_state, self.prompt_tokens())
        z = z.reshape(len(self.classnames), len(self.prompts), -1).mean(1)
        return z / np.linalg.norm(z, axis=-1, keepdims=True)

    @staticmethod
    def _score(zimg, classes, labels, mask):
        logits = zimg @ classes.T
        top5 = jax.lax.top_k(logits, min(5, classes.shape[0]))[1]
        hit = top5 == labels[:, None]
        mask = mask.astype(jnp.float32)
        return {"top1": jnp.sum(hit[:, 0] * mask), "top5": jnp.sum(hit.any(-1) * mask),
                "count": jnp.sum(mask)}

    def run(self, params, model_state) -> dict:
        from herolion.data.eval_pipeline import MASK_KEY
        classes = self.class_embeddings(params, model_state)
        sums = {"top1": 0.0, "top5": 0.0, "count": 0.0}
        for local in self.batches():
            batch = [_global(local[k], self.batch_sharding)
                     for k in ("image", self.label_key, MASK_KEY)]
            with jax.set_mesh(self.mesh):
                out = jax.device_get(self.score(params, model_state, batch[0], classes, *batch[1:]))
            sums = {k: sums[k] + float(out[k]) for k in sums}
        n = max(sums["count"], 1.0)
        return {"prec@1": sums["top1"] / n, "prec@5": sums["top5"] / n,
                "examples": sums["count"]}


def recall_at(scores, ks=(1, 5, 10)) -> dict:
    """``scores[i, j]``: query i vs candidate j, the pair on the diagonal. Recall@k is the
    fraction of queries whose pair has fewer than k candidates scoring strictly higher."""
    positive = np.diagonal(scores)[:, None]
    rank = np.sum(scores > positive, axis=1)
    return {k: float(np.mean(rank < k)) for k in ks}


class RetrievalEvaluator(_TwoTowerEval):
    def __init__(self, name, cfg, model, mesh, **kw):
        super().__init__(name, cfg, model, mesh, **kw)
        self.text_key = cfg.get("text_key", "labels")

    def embeddings(self, params, model_state):
        from herolion.data.eval_pipeline import MASK_KEY
        zimg, ztxt = [], []
        for local in self.batches():
            mask = self._run(self.gather, _global(local[MASK_KEY], self.batch_sharding))
            images = _global(local["image"], self.batch_sharding)
            texts = _global(local[self.text_key], self.batch_sharding)
            zimg.append(self._run(self.embed_image, params, model_state, images)[mask])
            ztxt.append(self._run(self.embed_text, params, model_state, texts)[mask])
        return np.concatenate(zimg), np.concatenate(ztxt)

    def run(self, params, model_state) -> dict:
        zimg, ztxt = self.embeddings(params, model_state)
        scores = zimg @ ztxt.T
        out = {f"i2t_recall@{k}": v for k, v in recall_at(scores).items()}
        out.update({f"t2i_recall@{k}": v for k, v in recall_at(scores.T).items()})
        out["examples"] = float(len(zimg))
        return out
