"""Fine-tune a trained ViT at a higher resolution with Polyak averaging (paper, Table 1).

    herolion train --config herolion/configs/finetune.py:init=workdirs/demo16,res=32 \\
        --workdir workdirs/ft32

ViT's fine-tuning recipe: params from ``model_init`` (a herolion workdir/checkpoint or a
big_vision ``.npz``), position embeddings resampled to the new grid, a new zero-initialised
head, momentum SGD without weight decay, gradient clipping at 1, short cosine schedule, and
a Polyak average of the params that the evaluators use. The defaults fit the demo: a ViT
pre-trained by ``demo.py:res=16`` on digits, fine-tuned at 32 px. For ImageNet at 384 px
set ``dataset=imagenet2012,num_classes=1000,res=384`` and the model args of the source.
"""
import os

from herolion.config import parse_arg

DEFAULT_DATA_DIR = os.path.join(os.path.expanduser("~"), ".cache", "herolion", "tfds")


def get_config(arg=None):
    from ml_collections import ConfigDict
    a = parse_arg(arg, init="", steps=300, batch=128, res=32, data_dir=DEFAULT_DATA_DIR,
                  dataset="digits", train_split="train", test_split="test", num_classes=10,
                  lr=0.1, polyak=0.98, width=64, depth=4, patch=8, heads=4)
    c = ConfigDict()
    c.seed = 0
    c.total_steps = a.steps
    c.model_init = a.init
    c.model_load = dict(item="params", reinit_head=True)
    c.polyak = dict(decay=a.polyak)
    local = a.dataset in ("digits", "digits_captions")
    resize = f"resize({a.res})|" if not (local and a.res == 32) else ""
    pp = f"decode|{resize}value_range(-1, 1)|onehot({a.num_classes}, key='label', key_result='labels')"
    c.input = dict(data=dict(name=a.dataset, split=a.train_split), data_dir=a.data_dir,
                   prepare=local, batch_size=a.batch, num_workers=0, num_threads=2, pp=pp)
    c.evals = dict(test=dict(type="classification", data=dict(name=a.dataset, split=a.test_split),
                             pp=pp, batch_size=256))
    c.model_name = "vit"
    c.model = dict(patch_size=(a.patch, a.patch), width=a.width, depth=a.depth,
                   mlp_dim=2 * a.width, num_heads=a.heads, num_classes=a.num_classes,
                   pool_type="gap", posemb="learn")
    c.loss = "softmax_xent"
    c.optimizer = "sgdm"
    c.lr, c.wd = a.lr, 0.0
    c.optax = dict(momentum=0.9)
    c.schedule = dict(decay_type="cosine", warmup_steps=max(1, a.steps // 20))
    c.grad_clip_norm = 1.0
    c.mesh = "data=-1"
    c.log_steps = 50
    c.eval_steps = 0
    c.ckpt_steps = 100
    c.keep_ckpt = 2
    return c
