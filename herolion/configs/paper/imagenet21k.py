"""ImageNet-21k pre-training of ViT-B/16 and ViT-L/16 (Table 2, bottom; Table 5).

    herolion train --config herolion/configs/paper/imagenet21k.py:model=L/16,optimizer=lion \\
        --workdir gs://bucket/i21k_l16_lion

90 epochs at batch 4096 = round(90 · 12,743,321 / 4096) = 280,005 steps (the paper's
"~280K"), cosine decay after 10k warmup, dropout and stochastic depth 0.1, no RandAugment
or Mixup. big_vision's conventions for 21k classes: tfds ``imagenet21k`` (not in public
tfds: prepare it yourself), ``full[51200:]`` for training with the first 25,600 images
held out for evaluation, sigmoid cross-entropy, ``tok`` pooling at 224 px.
Then fine-tune at 384 with ``finetune_imagenet.py:model=B/16,res=384,polyak=False,init=...``
(momentum SGD, 20k steps, batch 512: ViT's recipe).
"""
from herolion.config import parse_arg
from herolion.configs.paper import common

NUM_CLASSES = 21_843
#: model arg -> {optimizer: (lr, λ)}, Table 5 "Pre-train on ImageNet-21K".
RECIPES = {"B/16": {"adamw": (1e-3, 0.1), "lion": (1e-4, 0.3)},
           "L/16": {"adamw": (1e-3, 0.3), "lion": (1e-4, 1.0)}}


def get_config(arg=None):
    from ml_collections import ConfigDict
    a = parse_arg(arg, model="B/16", optimizer="lion", epochs=90,
                  data_dir=common.DEFAULT_DATA_DIR, mesh="data=-1")
    lr, wd = common.choose("optimizer", a.optimizer, common.choose("model", a.model, RECIPES))
    batch = 4096
    c = ConfigDict()
    common.base(c, steps=common.steps_for(a.epochs, common.IMAGENET21K_TRAIN_IMAGES, batch),
                batch=batch, data=dict(name="imagenet21k", split="full[51200:]"),
                data_dir=a.data_dir, pp=common.train_pp(224, NUM_CLASSES),
                optimizer=a.optimizer, lr=lr, wd=wd, mesh=a.mesh)
    c.model_name = "vit"
    c.model = dict(variant=a.model, pool_type="tok", num_classes=NUM_CLASSES,
                   dropout=0.1, droppath=0.1)
    c.loss = "sigmoid_xent"
    c.schedule = dict(decay_type="cosine", warmup_steps=common.WARMUP_STEPS)
    c.evals = dict(holdout=dict(type="classification",
                                data=dict(name="imagenet21k", split="full[:25600]"),
                                pp=common.eval_pp(224, NUM_CLASSES)))
    return c
