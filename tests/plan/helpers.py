"""Tiny configs the planner tests share (32x32 images, 8 fake CPU devices)."""
from ml_collections import ConfigDict

VIT = dict(patch_size=(8, 8), width=128, depth=2, mlp_dim=512, num_heads=4, num_classes=10,
           pool_type="gap")


def config(mesh="data=8", batch=16, model_name="vit", model=None, **kw):
    base = dict(seed=0, total_steps=20, optimizer="lion", lr=1e-3, wd=0.1,
                model_name=model_name, model=dict(VIT if model is None else model),
                input=dict(batch_size=batch, pp="decode|resize(32)|value_range(-1, 1)"),
                mesh=mesh)
    base.update(kw)
    return ConfigDict(base)
