"""JFT pre-training: ViT-B/16, L/16, H/14 on JFT-300M; ViT-g/14, G/14 on JFT-3B (Tables 1, 4, 5).

    herolion train --config herolion/configs/paper/jft.py:model=L/16,optimizer=lion,epochs=14,\\
        data=my_jft300m,data_dir=/data/tfds --workdir gs://bucket/jft_l16_lion

JFT is not public: prepare your copy as a tfds dataset (e.g. with ``herolion data prepare
image_folder``) and pass its name as ``data`` (defaults ``jft_300m`` / ``jft_3b`` are only
placeholders); labels are read from ``label`` (an id or a list of ids, multi-hot), with
``num_classes`` 18,291 (JFT-300M) / 29,593 (JFT-3B) unless given; ``val_split`` names a
held-out split to evaluate on (empty: none).

Beyond Table 5 the paper only says it follows ViT (Dosovitskiy et al.) and Zhai et al.;
from them: 224 px, ``tok`` pooling (``map`` for g/G), sigmoid cross-entropy, batch 4096,
10k warmup then linear decay, gradient clipping at 1. JFT-300M: 7 or 14 epochs =
517,791 / 1,035,583 steps (Table 4); default 7 for B/16, 14 for L/16 and H/14.
JFT-3B (AdafactorW vs Lion): batch 16,384 for 1M steps and a 100x decay on the head kernel,
as big_vision's public ViT-g config of Zhai et al.; their rsqrt schedule with cooldown is
replaced by linear decay (herolion's schedules have no cooldown).
"""
from herolion.config import parse_arg
from herolion.configs.paper import common
from herolion.errors import ConfigError

#: model -> (dataset, {optimizer: (lr, λ)}), Table 5 "Pre-train on JFT-300M / JFT-3B".
RECIPES = {
    "B/16": ("jft300m", {"adamw": (6e-4, 0.1), "lion": (1e-4, 0.3)}),
    "L/16": ("jft300m", {"adamw": (3e-4, 0.1), "lion": (1e-4, 0.3)}),
    "H/14": ("jft300m", {"adamw": (3e-4, 0.1), "lion": (3e-5, 0.3)}),
    "g/14": ("jft3b", {"adafactorw": (8e-4, 0.03), "lion": (3e-5, 0.3)}),
    "G/14": ("jft3b", {"adafactorw": (8e-4, 0.03), "lion": (3e-5, 0.3)}),
}
DEFAULT_EPOCHS = {"B/16": 7, "L/16": 14, "H/14": 14}
DATASETS = {"jft300m": dict(name="jft_300m", classes=18_291, batch=4096),
            "jft3b": dict(name="jft_3b", classes=29_593, batch=16_384, steps=1_000_000)}


def get_config(arg=None):
    from ml_collections import ConfigDict
    a = parse_arg(arg, model="B/16", optimizer="lion", epochs=0, steps=0, batch=0,
                  data="", num_classes=0, val_split="validation",
                  data_dir=common.DEFAULT_DATA_DIR, mesh="")
    source, recipes = common.choose("model", a.model, RECIPES)
    lr, wd = common.choose("optimizer", a.optimizer, recipes)
    ds = DATASETS[source]
    batch = a.batch or ds["batch"]
    classes = a.num_classes or ds["classes"]
    if source == "jft300m":
        epochs = a.epochs or DEFAULT_EPOCHS[a.model]
        steps = a.steps or common.steps_for(epochs, common.JFT300M_TRAIN_IMAGES, batch)
    elif a.epochs:
        raise ConfigError("config arg epochs: JFT-3B rows are set in steps (use steps=)")
    else:
        steps = a.steps or ds["steps"]
    big = a.model in ("H/14", "g/14", "G/14")
    c = ConfigDict()
    common.base(c, steps=steps, batch=batch, data=dict(name=a.data or ds["name"], split="train"),
                data_dir=a.data_dir, pp=common.train_pp(224, classes), optimizer=a.optimizer,
                lr=lr, wd=wd, mesh=a.mesh or ("fsdp=-1" if big else "data=-1"))
    c.model_name = "vit"
    c.model = dict(variant=a.model, pool_type="map" if a.model[0] in "gG" else "tok",
                   num_classes=classes)
    c.loss = "sigmoid_xent"
    c.schedule = dict(decay_type="linear", warmup_steps=common.WARMUP_STEPS)
    if source == "jft3b":
        c.wd_mults = [("head/kernel", 100.0)]
    c.evals = {}
    if a.val_split:
        c.evals.val = dict(type="classification",
                           data=dict(name=a.data or ds["name"], split=a.val_split),
                           pp=common.eval_pp(224, classes))
    return c
