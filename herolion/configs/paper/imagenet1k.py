"""ImageNet-1k from scratch at 224 px: the paper's Table 2 (top) with Table 5's settings.

    herolion train --config herolion/configs/paper/imagenet1k.py:model=vit_b16,optimizer=lion \\
        --workdir gs://bucket/vit_b16_lion
    ... :model=vit_s16,optimizer=adamw,aug=strong,data_dir=/data/tfds

``model`` vit_s16 | vit_b16 | mixer_s16 | mixer_b16 | resnet50 | coatnet1 | coatnet3;
``optimizer`` lion | adamw (| sgdm for ResNet-50); ``aug`` none | strong (RandAugment +
Mixup; ViT rows have both, CoAtNet only strong; empty = the model's first row).
Batch 4096 for 300 epochs (ResNet-50: 1024 for 90), cosine decay after 10k warmup steps;
``total_steps = round(epochs · 1,281,167 / batch)`` (93,835 and 112,603 steps).
Evaluated on ImageNet val, ReaL and V2 (tfds imagenet2012, imagenet2012_real, imagenet_v2).
"""
from herolion.config import parse_arg
from herolion.configs.paper import common

#: model arg -> (create name, create kwargs, Table 5 dropout / stochastic depth)
MODELS = {
    "vit_s16": ("vit", dict(variant="S/16", pool_type="tok"), 0.1, 0.1),
    "vit_b16": ("vit", dict(variant="B/16", pool_type="tok"), 0.1, 0.1),
    "mixer_s16": ("mixer", dict(variant="S/16"), None, 0.1),
    "mixer_b16": ("mixer", dict(variant="B/16"), None, 0.1),
    "resnet50": ("resnet", dict(depth=50), None, None),
    "coatnet1": ("coatnet", dict(variant="1"), None, 0.3),
    "coatnet3": ("coatnet", dict(variant="3"), None, 0.7),
}

#: (model, aug) -> (RandAugment (layers, magnitude), Mixup p, {optimizer: (lr, λ)}), Table 5.
#: ResNet-50's SGD row is not in Table 5: Goyal et al.'s recipe (lr 0.1·1024/256) with their
#: L2 1e-4 written as decoupled λ = 1e-4 / (1 − 0.9), what L2 becomes through momentum.
ROWS = {
    ("resnet50", "none"): (None, 0.0, {"adamw": (3e-3, 0.1), "lion": (3e-4, 1.0),
                                       "sgdm": (0.4, 1e-3)}),
    ("mixer_s16", "none"): (None, 0.0, {"adamw": (1e-2, 0.3), "lion": (3e-3, 1.0)}),
    ("mixer_b16", "none"): (None, 0.0, {"adamw": (1e-2, 0.3), "lion": (3e-3, 3.0)}),
    ("vit_s16", "none"): (None, 0.0, {"adamw": (1e-2, 0.1), "lion": (1e-3, 1.0)}),
    ("vit_s16", "strong"): ((2, 10), 0.2, {"adamw": (3e-3, 0.1), "lion": (3e-4, 0.3)}),
    ("vit_b16", "none"): (None, 0.0, {"adamw": (3e-3, 0.3), "lion": (1e-3, 1.0)}),
    ("vit_b16", "strong"): ((2, 15), 0.5, {"adamw": (1e-3, 0.1), "lion": (3e-4, 1.0)}),
    ("coatnet1", "strong"): ((2, 15), 0.8, {"adamw": (1e-3, 0.05), "lion": (2e-4, 1.0)}),
    ("coatnet3", "strong"): ((2, 15), 0.8, {"adamw": (1e-3, 0.05), "lion": (2e-4, 1.0)}),
}


def get_config(arg=None):
    from ml_collections import ConfigDict
    a = parse_arg(arg, model="vit_b16", optimizer="lion", aug="",
                  data_dir=common.DEFAULT_DATA_DIR, mesh="data=-1")
    name, kwargs, dropout, droppath = common.choose("model", a.model, MODELS)
    aug = a.aug or next(g for m, g in ROWS if m == a.model)
    randaug, mixup, recipes = common.choose(
        "aug", aug, {g: row for (m, g), row in ROWS.items() if m == a.model})
    lr, wd = common.choose("optimizer", a.optimizer, recipes)
    resnet = a.model == "resnet50"
    batch, epochs = (1024, 90) if resnet else (4096, 300)

    c = ConfigDict()
    common.base(c, steps=common.steps_for(epochs, common.IMAGENET1K_TRAIN_IMAGES, batch),
                batch=batch, data=dict(name="imagenet2012", split="train"),
                data_dir=a.data_dir, pp=common.train_pp(224, 1000, randaug),
                optimizer=a.optimizer, lr=lr, wd=wd, mesh=a.mesh)
    c.model_name = name
    c.model = dict(kwargs, num_classes=1000)
    if dropout is not None:
        c.model.dropout = dropout
    if droppath is not None:
        c.model.droppath = droppath
    c.loss = "softmax_xent"
    c.schedule = dict(decay_type="cosine", warmup_steps=common.WARMUP_STEPS)
    if mixup:
        c.mixup = dict(p=mixup)
    c.evals = common.imagenet_evals(224)
    return c
