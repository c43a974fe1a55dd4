"""LiT / CLIP two-tower model: an image tower and a text tower, each built by ``create``.

``create('two_towers', image_model='vit', image={'variant': 'B/16'}, text_model='text',
text={'variant': 'B', 'vocab_size': 32000}, out_dim=768)``. Both towers get
``num_classes=out_dim`` (their head is the projection into the shared space) unless their
own kwargs say otherwise; their projection head is not zero-initialised
(``head_zeroinit=False`` unless given).

Called as ``model.apply(vars, images, texts, train=bool)``; either input may be None.
Returns ``(zimg, ztxt, out)``: L2-normalised embeddings ``[B, out_dim]`` (None for a missing
input) and a dict with ``t`` (the temperature, ``exp`` of the learned log-parameter),
``t/parameterized`` (the raw param), ``b`` (bias, when ``bias_init`` is set) and the
un-normalised ``img/pre_norm``, ``txt/pre_norm``. Contrastive logits are
``zimg @ ztxt.T * t + b``.

The temperature is log-parametrised, ``t = exp(param)``, initialised at
``temperature_init`` (LiT: 10). Locking the image tower (LiT) is the optimiser's job: mask
the ``img`` subtree (``lr_mults=[('img/.*', None)]``) and set ``image_train=False`` so a
locked tower runs without dropout and with frozen BatchNorm statistics.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np


class TwoTowers(nn.Module):
    image_model: str = "vit"
    image: Any = None
    text_model: str = "text"
    text: Any = None
    out_dim: int = 768
    temperature_init: float = 10.0
    bias_init: float | None = None
    image_train: bool = True   # False: the image tower always runs in inference mode (locked)

    def _tower(self, model: str, kw, name: str):
        import dataclasses
        import importlib

        from herolion.models import NAMES, create
        kw = {"num_classes": self.out_dim, **dict(kw or {})}
        if model in NAMES:
            cls = importlib.import_module(f"herolion.models.{model}").MODEL
            if "head_zeroinit" in {f.name for f in dataclasses.fields(cls)}:
                # A zero projection would make every embedding the same direction.
                kw.setdefault("head_zeroinit", False)
        return create(model, name=name, **kw)

    @nn.compact
    def __call__(self, images=None, texts=None, *, train: bool = False):
        out = {}
        zimg = ztxt = None
        if images is not None:
            z = self._tower(self.image_model, self.image, "img")(
                images, train=train and self.image_train)
            out["img/pre_norm"] = z
            zimg = _l2_normalize(z)
        if texts is not None:
            z = self._tower(self.text_model, self.text, "txt")(texts, train=train)
            out["txt/pre_norm"] = z
            ztxt = _l2_normalize(z)
        t = self.param("t", lambda *_: jnp.array(np.log(self.temperature_init), jnp.float32))
        out["t/parameterized"] = t
        out["t"] = jnp.exp(t)
        if self.bias_init is not None:
            out["b"] = self.param("b", lambda *_: jnp.array(self.bias_init, jnp.float32))
        return zimg, ztxt, out


def _l2_normalize(x, eps: float = 1e-8):
    x = x.astype(jnp.float32)
    return x / jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True) + eps)


def create(**kw) -> TwoTowers:
    return TwoTowers(**kw)


MODEL = TwoTowers
