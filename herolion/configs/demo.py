"""The main job on the embedded default: a small ViT trained with Lion on local digits.

    herolion train --config herolion/configs/demo.py --workdir workdirs/demo
    herolion train --config herolion/configs/demo.py:steps=200,data_dir=/tmp/tfds ...

scikit-learn's real handwritten digits, upscaled to 32x32 RGB and written as a tfds
dataset in ``data_dir`` the first time (``input.prepare``), then a ViT with 8x8 patches,
Lion with the paper's betas, 10% warmup + cosine. A few minutes on 2 CPU cores; reaches
>= 90% test accuracy.
"""
import os

from herolion.config import parse_arg

DEFAULT_DATA_DIR = os.path.join(os.path.expanduser("~"), ".cache", "herolion", "tfds")


def get_config(arg=None):
    from ml_collections import ConfigDict
    a = parse_arg(arg, steps=800, batch=128, data_dir=DEFAULT_DATA_DIR, optimizer="lion",
                  width=64, depth=4, patch=8, res=32, mesh="data=-1")
    resize = f"resize({a.res})|" if a.res != 32 else ""
    c = ConfigDict()
    c.seed = 0
    c.total_steps = a.steps
    c.input = dict(
        data=dict(name="digits", split="train"), data_dir=a.data_dir, prepare=True,
        batch_size=a.batch, num_workers=0, num_threads=2, cache=True,
        # keep: only what the step reads goes to the device each step
        pp=f"decode|{resize}value_range(-1, 1)|onehot(10, key='label', key_result='labels')"
           "|keep('image', 'labels')")
    c.evals = dict(test=dict(type="classification", data=dict(name="digits", split="test"),
                             pp=f"decode|{resize}value_range(-1, 1)|onehot(10, key='label', key_result='labels')",
                             batch_size=256))
    c.model_name = "vit"
    c.model = dict(patch_size=(a.patch, a.patch), width=a.width, depth=a.depth, mlp_dim=2 * a.width,
                   num_heads=4, num_classes=10, pool_type="gap", posemb="learn")
    c.loss = "softmax_xent"
    c.optimizer = a.optimizer
    recipes = {"lion": (1e-3, 0.1), "adamw": (3e-3, 0.01), "adafactorw": (3e-3, 0.01),
               "sgdm": (0.1, 1e-4)}
    c.lr, c.wd = recipes[a.optimizer]
    c.optax = dict(b1=0.9, b2=0.99) if a.optimizer == "lion" else dict()
    c.schedule = dict(decay_type="cosine", warmup_steps=max(1, a.steps // 10))
    c.grad_clip_norm = 1.0
    c.mesh = a.mesh
    c.log_steps = 50
    c.eval_steps = 0          # evaluate at the end only
    c.ckpt_steps = 200
    c.keep_ckpt = 2
    return c
