"""Table 3 (LiT) through ``herolion/configs/paper/lit.py``: its own file so that, with
``--dist loadfile``, it runs beside the other paper rows (two-tower traces are slow)."""
import functools
import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from herolion import models, optim
from herolion.config import load_config
from herolion.data import preprocess
from tests.configs import paper_table5 as paper
from tests.configs.test_paper_configs import PAPER, check_common


@functools.lru_cache(maxsize=None)
def lit_params(name, model_json, res, text_len):
    """Abstract two-tower params (cached: both optimizers of a row share them)."""
    model = models.create(name, **json.loads(model_json))
    return nn.unbox(jax.eval_shape(
        lambda r: model.init(r, jnp.zeros((1, res, res, 3)), jnp.zeros((1, text_len), jnp.int32)),
        jax.random.PRNGKey(0)))["params"]


LIT = [(img, txt, opt) for img, txt, opts in paper.LIT_ROWS for opt in opts]


@pytest.mark.parametrize("img, txt, opt", LIT, ids=[f"{i}-{t}-{o}" for i, t, o in LIT])
def test_lit_rows(img, txt, opt):
    """Table 3 through paper/lit.py: 1B seen pairs, a locked image tower (Lion keeps a
    moment for the trainable params only), and the towers the row names."""
    config = load_config(f"{PAPER}/lit.py:variant={img}-{txt},optimizer={opt}")
    check_common(config)
    assert config.optimizer == opt
    batch = config.input.batch_size
    assert 0 <= config.total_steps * batch - 1_000_000_000 < batch
    ops = [preprocess.parse_op(t) for t in preprocess.split_ops(config.input.pp)]
    res = 288 if img == "g/14" else 224                    # Table 3: LiT-g/14_288-L
    assert ("resize", (res,), {}) in ops
    assert config.model.image.variant == img and config.model.text.variant == txt
    text_len = next(args[0] for name, args, _ in ops if name == "tokenize")
    params = lit_params(config.model_name, config.model.to_json(), res, text_len)
    state = jax.eval_shape(optim.build(config, params).init, params)
    if opt == "lion":
        trainable = models.count_params({k: v for k, v in params.items() if k != "img"})
        moments = [x for x in jax.tree.leaves(state) if jnp.issubdtype(x.dtype, jnp.floating)]
        assert sum(x.size for x in moments) == trainable
