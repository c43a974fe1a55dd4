"""Every paper config loads, uses only trainer keys, matches the paper's tables, and builds
abstractly (model + optimizer via eval_shape: nothing is compiled or allocated)."""
import functools
import io
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from herolion import models, optim
from herolion.config import load_config
from herolion.data import preprocess
from herolion.errors import ConfigError
from herolion.trainer.loop import CONFIG_KEYS, check_sections
from tests.configs import paper_table5 as paper

PAPER = Path(__file__).resolve().parents[2] / "herolion" / "configs" / "paper"
I1K_ARG = {"ResNet-50": "resnet50", "Mixer-S/16": "mixer_s16", "Mixer-B/16": "mixer_b16",
           "ViT-S/16": "vit_s16", "ViT-B/16": "vit_b16", "CoAtNet-1": "coatnet1",
           "CoAtNet-3": "coatnet3"}


def spec_for(row):
    block, model, _, _, randaug, _, opt, _, _ = row
    if block == "i1k":
        aug = "strong" if randaug else "none"
        return f"{PAPER}/imagenet1k.py:model={I1K_ARG[model]},optimizer={opt},aug={aug}"
    name = "imagenet21k" if block == "i21k" else "jft"
    return f"{PAPER}/{name}.py:model={model.removeprefix('ViT-')},optimizer={opt}"


ROWS = paper.TABLE5 + paper.TABLE2_EXTRA
FT_ROWS = paper.FINETUNE_ROWS


def ft_spec(row):
    _, model, res, polyak = row
    return (f"{PAPER}/finetune_imagenet.py:model={model.removeprefix('ViT-')},res={res},"
            f"polyak={polyak},init=/nonexistent/pretrained")


@functools.lru_cache(maxsize=None)
def abstract_params(name, kwargs, res):
    """Unboxed abstract params of ``create(name, **kwargs)`` at ``res`` (batch 1)."""
    model = models.create(name, **dict(kwargs))
    init = functools.partial(model.init, train=False)
    variables = jax.eval_shape(lambda r: init({"params": r, "dropout": r},
                                              jnp.zeros((1, res, res, 3))), jax.random.PRNGKey(0))
    return nn.unbox(variables)["params"]


def build_abstract(config, res):
    kwargs = tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                          for k, v in config.model.items()))
    params = abstract_params(config.model_name, kwargs, res)
    tx = optim.build(config, params)
    state = jax.eval_shape(tx.init, params)
    assert jax.tree.leaves(state), "optimizer state is empty"
    return params


def expected_count(model, res, num_classes):
    base = paper.PARAMS.get((model, res))
    if base is None:
        return None
    return base + (num_classes - 1000) * (paper.VIT_WIDTH[model] + 1) if num_classes != 1000 \
        else base


@functools.lru_cache(maxsize=None)
def jpeg(h=300, w=400):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (h, w, 3), np.uint8)).save(
        buf, "JPEG")
    return buf.getvalue()


def check_pp(spec, res, num_classes, example):
    """The spec parses and maps a real JPEG example to image [res,res,3] + labels only."""
    out = preprocess.build(spec)({"image": jpeg(), **example}, np.random.default_rng(0))
    assert set(out) == {"image", "labels"}
    assert out["image"].shape == (res, res, 3) and out["image"].dtype == np.float32
    assert -1.0 <= out["image"].min() and out["image"].max() <= 1.0
    assert out["labels"].shape == (num_classes,)
    return out["labels"]


def randaug_of(pp):
    ops = [preprocess.parse_op(t) for t in preprocess.split_ops(pp)]
    found = [args for name, args, _ in ops if name == "randaugment"]
    return found[0] if found else None


def check_common(config):
    assert set(config.keys()) <= set(CONFIG_KEYS), set(config.keys()) - set(CONFIG_KEYS)
    check_sections(config)
    betas = paper.BETAS.get(config.optimizer)
    if betas:
        assert (config.optax.b1, config.optax.b2) == betas
    if config.optimizer == "sgdm":
        assert config.optax.momentum == 0.9


@pytest.mark.parametrize("row", ROWS, ids=[spec_for(r).split(":")[1] for r in ROWS])
def test_pretraining_rows(row):
    block, model, dropout, droppath, randaug, mixup, opt, lr, wd = row
    config = load_config(spec_for(row))
    check_common(config)
    assert config.optimizer == opt
    if lr is not None:
        assert (config.lr, config.wd) == (lr, wd)
    assert config.model.get("dropout", 0.0) == (dropout or 0.0)
    assert config.model.get("droppath", 0.0) == (droppath or 0.0)
    assert randaug_of(config.input.pp) == randaug
    assert (config.get("mixup") or {}).get("p", 0.0) == (mixup or 0.0)
    assert config.schedule.warmup_steps == paper.WARMUP
    batch, steps = config.input.batch_size, config.total_steps
    if block == "i1k":
        budget = paper.RESNET if model == "ResNet-50" else paper.SCRATCH
        assert batch == budget["batch"] and config.schedule.decay_type == "cosine"
        images = budget["epochs"] * paper.IMAGENET1K_IMAGES
        assert abs(steps * batch - images) <= batch / 2       # epochs, to the nearest step
        assert config.input.data.name == "imagenet2012"
        evals = {(e.data.name, e.data.split) for e in config.evals.values()}
        assert evals == {("imagenet2012", "validation"), ("imagenet2012_real", "validation"),
                         ("imagenet_v2", "test"), ("imagenet_a", "test"), ("imagenet_r", "test")}
        # A and R score their 200 classes, the others all 1000
        subsets = {e.data.name: e.get("class_subset") for e in config.evals.values()}
        assert subsets["imagenet_a"] == subsets["imagenet_r"] == "labels"
        assert subsets["imagenet2012"] is None and subsets["imagenet_v2"] is None
    elif block == "i21k":
        assert batch == paper.I21K["batch"] and config.schedule.decay_type == "cosine"
        assert abs(steps - paper.I21K["approx_steps"]) < 0.01 * paper.I21K["approx_steps"]
    elif block == "jft300m":
        assert batch == 4096 and steps in paper.JFT300M_STEPS.values()
    num_classes = config.model.num_classes
    labels = check_pp(config.input.pp, 224, num_classes, {"label": 3})
    assert labels[3] == 1.0 and labels.sum() == 1.0
    for e in config.get("evals", {}).values():
        labels = check_pp(e.pp, 224, num_classes, {"label": 3, "real_label": [3, 5]})
        real = e.data.name == "imagenet2012_real"             # ReaL: multi-hot label sets
        assert set(np.flatnonzero(labels)) == ({3, 5} if real else {3})
    params = build_abstract(config, 224)
    count = expected_count(model, 224, num_classes)
    if count is not None:
        tol = paper.PARAMS_TOLERANCE.get(model, 0.0)
        assert abs(models.count_params(params) - count) <= tol * count


@pytest.mark.parametrize("epochs", sorted(paper.JFT300M_STEPS))
def test_jft300m_epochs_are_table4_steps(epochs):
    config = load_config(f"{PAPER}/jft.py:model=L/16,epochs={epochs}")
    assert config.total_steps == paper.JFT300M_STEPS[epochs]


@pytest.mark.parametrize("row", FT_ROWS, ids=[f"{r[1]}@{r[2]}" for r in FT_ROWS])
def test_finetune_rows(row):
    _, model, res, polyak = row
    config = load_config(ft_spec(row))
    check_common(config)
    assert config.optimizer == paper.FINETUNE["optimizer"] and config.wd == 0.0
    assert config.total_steps == paper.FINETUNE["steps"]
    assert config.input.batch_size == paper.FINETUNE["batch"]
    assert bool(config.get("polyak")) == polyak
    assert config.model_init and config.model.num_classes == 1000
    labels = check_pp(config.input.pp, res, 1000, {"label": 7})
    assert labels.argmax() == 7
    real = check_pp(config.evals.real.pp, res, 1000, {"real_label": [3, 5]})
    assert set(np.flatnonzero(real)) == {3, 5}
    params = build_abstract(config, res)
    assert models.count_params(params) == expected_count(model, res, 1000)


@pytest.mark.parametrize("spec, field", [
    ("imagenet1k.py:model=vit_l16", "model"),
    ("imagenet1k.py:model=coatnet1,aug=none", "aug"),
    ("imagenet1k.py:model=mixer_b16,optimizer=sgdm", "optimizer"),
    ("imagenet21k.py:model=H/14", "model"),
    ("jft.py:model=G/14,optimizer=adamw", "optimizer"),
    ("jft.py:model=g/14,epochs=7", "epochs"),
    ("finetune_imagenet.py:model=L/16", "init"),
    ("finetune_imagenet.py:model=H/14,res=384,init=x", "res"),
    ("imagenet1k.py:modle=vit_b16", "modle"),
])
def test_rows_not_in_the_paper_are_one_line_errors(spec, field):
    with pytest.raises(ConfigError) as err:
        load_config(f"{PAPER}/{spec}")
    assert "\n" not in str(err.value) and field in str(err.value)


