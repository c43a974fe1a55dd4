"""LiT (paper, Table 3): a locked, pre-trained image tower and a text tower trained contrastively.

    # the tiny variant that runs on 2 CPU cores: lock the demo's ViT, train a small text tower
    herolion train --config herolion/configs/demo.py --workdir workdirs/demo
    herolion train --config herolion/configs/lit.py:variant=demo,init=workdirs/demo \\
        --workdir workdirs/lit_demo
    herolion zeroshot --workdir workdirs/lit_demo --dataset digits:test

    # the paper's towers (your image-text data as a tfds dataset with `image` and `texts`)
    herolion train --config herolion/configs/lit.py:variant=B/16-B,optimizer=lion,\\
init=gs://.../vit_b16.npz,dataset=my_pairs,tokenizer=/path/spm.model --workdir ...

Variants: ``B/32-B``, ``B/16-B``, ``g/14-L`` (ViT image tower / BERT text tower; g/14 at 288
px) and ``demo``. The image tower's pre-logits are the image embedding (``num_classes=0``:
the pre-trained representation itself, untouched), the text tower projects into that width.
The image tower is frozen — ``lr_mults=[('img/.*', None)]``: no optimizer state and no
backward pass — and runs in inference mode (``image_train=False``).

Budget: the paper's 1B seen image-text pairs = ``steps × batch`` (30,518 × 32,768). The
paper publishes no LiT learning rates; AdafactorW uses LiT's (lr 1e-3, λ 1e-4) and Lion
follows the paper's rule (lr 10x smaller, λ 10x larger: the same effective decay lr·λ).
"""
import os

from herolion.config import parse_arg

DEFAULT_DATA_DIR = os.path.join(os.path.expanduser("~"), ".cache", "herolion", "tfds")

#: variant -> (image ViT variant, image width, text BERT variant, resolution, image pooling)
TOWERS = {
    "B/32-B": ("B/32", 768, "B", 224, "tok"),
    "B/16-B": ("B/16", 768, "B", 224, "tok"),
    "g/14-L": ("g/14", 1408, "L", 288, "map"),
}
#: optimizer -> (lr, λ, optax kwargs): see the docstring
RECIPES = {
    "adafactorw": (1e-3, 1e-4, dict()),
    "lion": (1e-4, 1e-3, dict(b1=0.9, b2=0.99)),
}
SEEN_PAIRS = 1_000_000_000


def get_config(arg=None):
    a = parse_arg(arg, variant="demo", optimizer="lion", init="", steps=0, batch=0,
                  data_dir=DEFAULT_DATA_DIR, dataset="", tokenizer="", vocab_size=32_000,
                  text_len=16, loss="softmax_contrastive")
    if a.variant == "demo":
        return _demo(a)
    if a.variant not in TOWERS:
        from herolion.errors import ConfigError
        raise ConfigError(f"config arg variant: unknown {a.variant!r}; known: demo, "
                          + ", ".join(TOWERS))
    return _paper(a)


def _common(c, a, *, image, text, out_dim):
    from herolion.errors import ConfigError
    if a.optimizer not in RECIPES:
        raise ConfigError(f"config arg optimizer: {a.optimizer!r}; LiT recipes: "
                          + ", ".join(RECIPES))
    c.seed = 0
    c.model_name = "two_towers"
    c.model = dict(image_model="vit", image=image, text_model="text", text=text,
                   out_dim=out_dim, temperature_init=10.0, image_train=False)
    c.model_init = dict(img=a.init) if a.init else None
    c.model_load = dict(item="params")
    c.lr_mults = [("img/.*", None)]
    c.loss = a.loss
    c.optimizer = a.optimizer
    c.lr, c.wd, c.optax = RECIPES[a.optimizer]
    c.schedule = dict(decay_type="cosine", warmup_steps=max(1, c.total_steps // 10))
    c.grad_clip_norm = 1.0
    c.mesh = "data=-1"


def _paper(a):
    from ml_collections import ConfigDict
    vit, width, bert, res, pool = TOWERS[a.variant]
    batch = a.batch or 32_768
    c = ConfigDict()
    c.total_steps = a.steps or -(-SEEN_PAIRS // batch)
    tok = a.tokenizer or "spm_32k.model"
    pp_txt = f"tokenize({a.text_len}, model={tok!r}, inkey='texts', outkey='labels')"
    c.input = dict(data=dict(name=a.dataset or "lit_pairs", split="train"), data_dir=a.data_dir,
                   batch_size=batch, num_workers=8, num_threads=8,
                   pp=f"decode|resize({res})|value_range(-1, 1)|{pp_txt}|keep('image', 'labels')")
    img_pp = f"decode|resize({res})|value_range(-1, 1)|keep('image', 'label')"
    zs_txt = pp_txt.replace("inkey='texts'", "inkey='caption'")
    c.evals = {
        ds: dict(type="zeroshot", data=dict(name=ds, split=split), pp=img_pp, pp_txt=zs_txt,
                 batch_size=1024)
        for ds, split in (("imagenet2012", "validation"), ("cifar100", "test"),
                          ("oxford_iiit_pet", "test"))}
    _common(c, a, image=dict(variant=vit, num_classes=0, pool_type=pool),
            text=dict(variant=bert, vocab_size=a.vocab_size, max_len=a.text_len),
            out_dim=width)
    c.log_steps = 100
    c.ckpt_steps = 1000
    c.keep_ckpt = 3
    c.eval_steps = 5000
    return c


def _demo(a):
    """Lock the demo's ViT (``demo.py`` with its defaults) and train the ``mu`` text tower on
    ``digits_captions``; zero-shot on ``digits`` with the held-out prompt templates."""
    from ml_collections import ConfigDict

    from herolion.configs import demo
    image = dict(demo.get_config(f"data_dir={a.data_dir}").model.to_dict(), num_classes=0)
    c = ConfigDict()
    c.total_steps = a.steps or 300
    tok = a.tokenizer or "digits_captions"
    pp_txt = f"tokenize({a.text_len}, model={tok!r})"
    c.input = dict(data=dict(name=a.dataset or "digits_captions", split="train"),
                   data_dir=a.data_dir, prepare=not a.dataset, batch_size=a.batch or 128,
                   num_workers=0, num_threads=2,
                   pp=f"decode|value_range(-1, 1)|{pp_txt}|keep('image', 'labels')")
    c.evals = dict(
        zeroshot=dict(type="zeroshot", data=dict(name="digits", split="test"),
                      pp="decode|value_range(-1, 1)|keep('image', 'label')", pp_txt=pp_txt,
                      classnames="digits", prompts="digits", batch_size=256),
        retrieval=dict(type="retrieval", data=dict(name="digits_captions", split="test"),
                       pp=f"decode|value_range(-1, 1)|{pp_txt}|keep('image', 'labels')",
                       batch_size=256))
    _common(c, a, image=image,
            text=dict(variant="mu", vocab_size=512, max_len=a.text_len, pool_type="mean",
                      pad_id=0),
            out_dim=image["width"])
    c.lr = 1e-3 if a.optimizer == "lion" else 3e-3
    c.wd = 1e-4 if a.optimizer == "lion" else 1e-5
    c.log_steps = 50
    c.ckpt_steps = 100
    c.keep_ckpt = 2
    c.eval_steps = 0
    return c
