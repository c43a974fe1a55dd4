"""Fine-tuning starts: params from a herolion run or a big_vision ``.npz``, adapted.

``config.model_init`` names the source: a herolion workdir, checkpoint directory, step
directory, or a ``.npz`` file in big_vision's flat layout (AugReg/big_vision checkpoints).
``config.model_load`` tunes the load: ``item`` ('params' or 'polyak', for herolion runs),
``reinit_head`` (default True: a new, zero-initialised head, as ViT fine-tuning does) and
``head_key``. Position embeddings are resampled bilinearly to the new grid; any other
shape mismatch is a one-line error naming the parameter.

A dict ``config.model_init = {'img': SOURCE}`` loads only those top-level subtrees (LiT:
the image tower of a two-tower model from a classification run); the rest keeps its
fresh initialisation.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from herolion.errors import ConfigError


def read_source(source, item: str = "params"):
    """The old params tree (numpy) from a herolion checkpoint or a ``.npz`` file."""
    path = Path(str(source))
    if path.suffix == ".npz":
        from herolion.models import npz
        if not path.is_file():
            raise ConfigError(f"config.model_init: no such file {source}")
        try:
            with np.load(path, allow_pickle=False) as data:
                flat = {npz.ALIASES.get(k, k): data[k] for k in data.files}
        except (OSError, ValueError) as err:
            raise ConfigError(f"config.model_init: {source} is not a readable .npz ({err})") from None
        return npz.unflatten(flat)
    if not path.exists():
        raise ConfigError(f"config.model_init: no such checkpoint or file {source}")
    from herolion import checkpoints
    return checkpoints.read_params(path, item=item)


def load_init_params(config, abstract_params, fresh_params=None):
    """Params for the new model (``abstract_params``) from ``config.model_init``;
    ``fresh_params()`` supplies the subtrees a dict ``model_init`` does not name."""
    from herolion.models.posemb import adapt_params
    load = dict(config.get("model_load") or {})
    known = {"item", "reinit_head", "head_key"}
    for key in load:
        if key not in known:
            raise ConfigError(f"config.model_load.{key}: unknown; known: {', '.join(sorted(known))}")
    kw = dict(reinit_head=load.get("reinit_head", True), head_key=load.get("head_key", "head"))
    sources = config.model_init
    if not hasattr(sources, "items"):
        return adapt_params(abstract_params, read_source(sources, load.get("item", "params")), **kw)
    params = dict(fresh_params())
    for key, source in sources.items():
        if key not in abstract_params:
            raise ConfigError(f"config.model_init.{key}: the model has no such subtree; it has "
                              + ", ".join(abstract_params))
        old = read_source(source, load.get("item", "params"))
        params[key] = adapt_params(abstract_params[key], old, **kw)
    return params
