"""Pieces every paper config shares: dataset sizes, epochs → steps, pp strings, evals.

Why epochs become steps here: the trainer counts steps only, and the paper states its
budgets in epochs (ImageNet) or in both (Table 4, JFT-300M); one rule, big_vision's
(``round(epochs · images / batch)``), keeps them reproducible.
"""
import os

from herolion.errors import ConfigError

DEFAULT_DATA_DIR = os.path.join(os.path.expanduser("~"), "tensorflow_datasets")

IMAGENET1K_TRAIN_IMAGES = 1_281_167      # tfds imagenet2012 'train'
IMAGENET21K_TRAIN_IMAGES = 12_743_321    # scenic's _IMAGENET21K_TRAIN_SIZE
#: JFT-300M's size is not public; Table 4 gives 7 epochs = 517,791 steps and 14 epochs =
#: 1,035,583 at batch 4096: any size in [302,981,852, 302,981,997] gives both when rounded.
JFT300M_TRAIN_IMAGES = 302_981_900

WARMUP_STEPS = 10_000                    # Section 3.1: cosine decay with 10k warmup
BETAS = {"lion": dict(b1=0.9, b2=0.99), "adamw": dict(b1=0.9, b2=0.999),
         "adafactorw": dict(momentum=0.9), "sgdm": dict(momentum=0.9)}


def steps_for(epochs, images, batch):
    """``round(epochs · images / batch)``, as big_vision's ``utils.steps``."""
    return max(1, round(epochs * images / batch))


def choose(arg_name, value, table):
    """``table[value]`` or a one-line ConfigError naming the config arg."""
    if value not in table:
        raise ConfigError(f"config arg {arg_name}: {value!r} is not a paper row; known: "
                          + ", ".join(map(str, table)))
    return table[value]


def labels_op(num_classes, key="label"):
    return f"onehot({num_classes}, key='{key}', key_result='labels')|keep('image', 'labels')"


def train_pp(res, num_classes, randaug=None):
    """Inception crop + flip (+ RandAugment on uint8), then [-1, 1] and one-hot labels."""
    ra = f"randaugment({randaug[0]}, {randaug[1]})|" if randaug else ""
    return (f"decode_jpeg_and_inception_crop({res})|flip_lr|{ra}value_range(-1, 1)|"
            + labels_op(num_classes))


def eval_pp(res, num_classes, key="label", crop=True):
    """Resize the short side to res·8/7 then centre-crop (from scratch), or resize to
    res×res (ViT fine-tuning evaluates the whole image)."""
    size = f"resize_small({res * 8 // 7})|central_crop({res})" if crop else f"resize({res})"
    return f"decode|{size}|value_range(-1, 1)|" + labels_op(num_classes, key)


def imagenet_evals(res, crop=True):
    """ImageNet val, ReaL (multi-hot: examples without a ReaL label are skipped by the
    evaluator), V2, and A and R: those two are scored on their 200 classes (the argmax over
    those logits; tfds labels are ImageNet ids, and ``class_subset="labels"`` takes the
    classes that occur in the split — all 200 do)."""
    return dict(
        val=dict(type="classification", data=dict(name="imagenet2012", split="validation"),
                 pp=eval_pp(res, 1000, crop=crop)),
        real=dict(type="classification",
                  data=dict(name="imagenet2012_real", split="validation"),
                  pp=eval_pp(res, 1000, key="real_label", crop=crop)),
        v2=dict(type="classification", data=dict(name="imagenet_v2", split="test"),
                pp=eval_pp(res, 1000, crop=crop)),
        a=dict(type="classification", data=dict(name="imagenet_a", split="test"),
               pp=eval_pp(res, 1000, crop=crop), class_subset="labels"),
        r=dict(type="classification", data=dict(name="imagenet_r", split="test"),
               pp=eval_pp(res, 1000, crop=crop), class_subset="labels"))


def base(config, *, steps, batch, data, data_dir, pp, optimizer, lr, wd, mesh="data=-1"):
    """The keys every paper run sets the same way."""
    config.seed = 0
    config.total_steps = steps
    config.input = dict(data=data, data_dir=data_dir, batch_size=batch, pp=pp,
                        num_workers=0, num_threads=16)
    config.optimizer = optimizer
    config.lr, config.wd = lr, wd
    config.optax = dict(BETAS[optimizer])
    config.grad_clip_norm = 1.0
    config.mesh = mesh
    config.log_steps = 100
    config.ckpt_steps = 1000
    config.keep_ckpt = 2
    config.keep_ckpt_steps = 10_000
    config.eval_steps = 5000
    return config
