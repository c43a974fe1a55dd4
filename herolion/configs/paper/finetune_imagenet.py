"""Fine-tune a pre-trained ViT on ImageNet-1k at high resolution (Tables 1, 2, 4).

    herolion train --config herolion/configs/paper/finetune_imagenet.py:model=L/16,res=512,\\
        init=gs://bucket/jft_l16_lion --workdir gs://bucket/ft_l16_512

ViT's recipe (the paper: "exactly the same as the original ViT"): the params of ``init``
(a herolion workdir/checkpoint or a big_vision .npz) with position embeddings resampled to
the new grid and a new zero-initialised 1000-class head; momentum SGD (0.9), no weight
decay, gradient clipping at 1, batch 512, 20k steps, cosine decay after 500 warmup steps,
inception crop + flip for training and a plain resize to ``res`` for evaluation.
``polyak=True`` (Table 1) evaluates a Polyak average of the params; Tables 2 and 4 use
``polyak=False``. The paper does not give the fine-tuning lr (ViT sweeps 0.003-0.06) nor
the Polyak decay: 0.03 and 0.9999 are assumptions (``lr=``, ``polyak_decay=``).
Rows: Table 2 (ImageNet-21k) B/16, L/16 at 384; Table 4 (JFT-300M) B/16, L/16 at 384,
H/14 at 392; Table 1 L/16 at 512, H/14 at 518, g/14 and G/14 at 518 (``map`` pooling).
Evaluated on ImageNet val, ReaL and V2, and big_vision's minival (``train[99%:]``, held
out of training). ImageNet-A/R are scored on their 200 classes (``common.imagenet_evals``).
"""
from herolion.config import parse_arg
from herolion.configs.paper import common
from herolion.errors import ConfigError

MODELS = ("B/16", "L/16", "H/14", "g/14", "G/14")


def get_config(arg=None):
    from ml_collections import ConfigDict
    a = parse_arg(arg, model="B/16", res=384, init="", polyak=True, polyak_decay=0.9999,
                  lr=0.03, steps=20_000, batch=512, data_dir=common.DEFAULT_DATA_DIR, mesh="")
    common.choose("model", a.model, dict.fromkeys(MODELS))
    if not a.init:
        raise ConfigError("config arg init: required (the pre-trained workdir, checkpoint "
                          "or .npz to fine-tune)")
    patch = int(a.model.split("/")[1])
    if a.res % patch:
        raise ConfigError(f"config arg res: {a.res} is not a multiple of the patch size {patch}")
    c = ConfigDict()
    common.base(c, steps=a.steps, batch=a.batch,
                data=dict(name="imagenet2012", split="train[:99%]"), data_dir=a.data_dir,
                pp=common.train_pp(a.res, 1000), optimizer="sgdm", lr=a.lr, wd=0.0,
                mesh=a.mesh or ("fsdp=-1" if a.model[0] in "HgG" else "data=-1"))
    c.model_init = a.init
    c.model_load = dict(item="params", reinit_head=True)
    if a.polyak:
        c.polyak = dict(decay=a.polyak_decay)
    c.model_name = "vit"
    c.model = dict(variant=a.model, pool_type="map" if a.model[0] in "gG" else "tok",
                   num_classes=1000)
    c.loss = "softmax_xent"
    c.schedule = dict(decay_type="cosine", warmup_steps=500)
    c.evals = common.imagenet_evals(a.res, crop=False)
    c.evals.minival = dict(type="classification",
                           data=dict(name="imagenet2012", split="train[99%:]"),
                           pp=common.eval_pp(a.res, 1000, crop=False))
    c.eval_steps = 2000
    return c
