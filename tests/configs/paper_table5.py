"""The paper's settings, typed by hand from its text and tables, as plain data.

Nothing here is read from herolion: this is the independent reference the paper configs
are checked against. Sources: Section 3 text, Tables 1-5; parameter counts from
../shared/DESIGN.md (exact counts behind the paper's rounded #Params).
"""

# Section 3: fixed betas; "cosine decay with 10K steps warmup".
BETAS = {"lion": (0.9, 0.99), "adamw": (0.9, 0.999)}
WARMUP = 10_000

# Section 3.1 / 3.1 "Pre-train on ImageNet-21K" / Table 4: budgets.
IMAGENET1K_IMAGES = 1_281_167          # tfds imagenet2012 train (the brief's figure)
SCRATCH = {"batch": 4096, "epochs": 300}
RESNET = {"batch": 1024, "epochs": 90}
I21K = {"batch": 4096, "epochs": 90, "approx_steps": 280_000}
JFT300M_STEPS = {7: 517_791, 14: 1_035_583}     # Table 4, batch 4096
FINETUNE = {"optimizer": "sgdm", "steps": 20_000, "batch": 512}   # ViT's recipe

# Table 5: (block, model, dropout, stoch_depth, randaug, mixup, optimizer, lr, wd).
# "-" in the paper is None here; "RandAug: 2, 15" is (2, 15).
TABLE5 = [
    ("i1k", "ResNet-50", None, None, None, None, "adamw", 3e-3, 0.1),
    ("i1k", "ResNet-50", None, None, None, None, "lion", 3e-4, 1.0),
    ("i1k", "Mixer-S/16", None, 0.1, None, None, "adamw", 1e-2, 0.3),
    ("i1k", "Mixer-S/16", None, 0.1, None, None, "lion", 3e-3, 1.0),
    ("i1k", "Mixer-B/16", None, 0.1, None, None, "adamw", 1e-2, 0.3),
    ("i1k", "Mixer-B/16", None, 0.1, None, None, "lion", 3e-3, 3.0),
    ("i1k", "ViT-S/16", 0.1, 0.1, None, None, "adamw", 1e-2, 0.1),
    ("i1k", "ViT-S/16", 0.1, 0.1, None, None, "lion", 1e-3, 1.0),
    ("i1k", "ViT-S/16", 0.1, 0.1, (2, 10), 0.2, "adamw", 3e-3, 0.1),
    ("i1k", "ViT-S/16", 0.1, 0.1, (2, 10), 0.2, "lion", 3e-4, 0.3),
    ("i1k", "ViT-B/16", 0.1, 0.1, None, None, "adamw", 3e-3, 0.3),
    ("i1k", "ViT-B/16", 0.1, 0.1, None, None, "lion", 1e-3, 1.0),
    ("i1k", "ViT-B/16", 0.1, 0.1, (2, 15), 0.5, "adamw", 1e-3, 0.1),
    ("i1k", "ViT-B/16", 0.1, 0.1, (2, 15), 0.5, "lion", 3e-4, 1.0),
    ("i1k", "CoAtNet-1", None, 0.3, (2, 15), 0.8, "adamw", 1e-3, 0.05),
    ("i1k", "CoAtNet-1", None, 0.3, (2, 15), 0.8, "lion", 2e-4, 1.0),
    ("i1k", "CoAtNet-3", None, 0.7, (2, 15), 0.8, "adamw", 1e-3, 0.05),
    ("i1k", "CoAtNet-3", None, 0.7, (2, 15), 0.8, "lion", 2e-4, 1.0),
    ("i21k", "ViT-B/16", 0.1, 0.1, None, None, "adamw", 1e-3, 0.1),
    ("i21k", "ViT-B/16", 0.1, 0.1, None, None, "lion", 1e-4, 0.3),
    ("i21k", "ViT-L/16", 0.1, 0.1, None, None, "adamw", 1e-3, 0.3),
    ("i21k", "ViT-L/16", 0.1, 0.1, None, None, "lion", 1e-4, 1.0),
    ("jft300m", "ViT-B/16", None, None, None, None, "adamw", 6e-4, 0.1),
    ("jft300m", "ViT-B/16", None, None, None, None, "lion", 1e-4, 0.3),
    ("jft300m", "ViT-L/16", None, None, None, None, "adamw", 3e-4, 0.1),
    ("jft300m", "ViT-L/16", None, None, None, None, "lion", 1e-4, 0.3),
    ("jft300m", "ViT-H/14", None, None, None, None, "adamw", 3e-4, 0.1),
    ("jft300m", "ViT-H/14", None, None, None, None, "lion", 3e-5, 0.3),
    ("jft3b", "ViT-g/14", None, None, None, None, "adafactorw", 8e-4, 0.03),
    ("jft3b", "ViT-g/14", None, None, None, None, "lion", 3e-5, 0.3),
    ("jft3b", "ViT-G/14", None, None, None, None, "adafactorw", 8e-4, 0.03),
    ("jft3b", "ViT-G/14", None, None, None, None, "lion", 3e-5, 0.3),
]

# Table 2: the ResNet-50 SGD baseline has no Table 5 row (lr/λ not given by the paper).
TABLE2_EXTRA = [("i1k", "ResNet-50", None, None, None, None, "sgdm", None, None)]

# Fine-tuning rows: (table, model, resolution, Polyak averaging). Table 4's caption: no
# Polyak there; Table 2's I21k rows follow ViT (no Polyak); Table 1 "with Polyak averaging".
FINETUNE_ROWS = [
    ("Table 2", "ViT-B/16", 384, False),
    ("Table 2", "ViT-L/16", 384, False),
    ("Table 4", "ViT-H/14", 392, False),
    ("Table 1", "ViT-L/16", 512, True),
    ("Table 1", "ViT-H/14", 518, True),
    ("Table 1", "ViT-g/14", 518, True),
    ("Table 1", "ViT-G/14", 518, True),
]

# Table 3 (LiT): (image tower, text tower, optimizers).
LIT_ROWS = [("B/32", "B", ("adafactorw", "lion")), ("B/16", "B", ("adafactorw", "lion")),
            ("g/14", "L", ("adafactorw", "lion"))]

# DESIGN.md's exact counts with a 1000-class head: (model, resolution) -> parameters.
PARAMS = {
    ("ViT-S/16", 224): 22_050_664, ("ViT-B/16", 224): 86_567_656,
    ("ViT-B/16", 384): 86_859_496, ("ViT-L/16", 384): 304_715_752,
    ("ViT-L/16", 512): 305_174_504, ("ViT-H/14", 392): 632_721_640,
    ("ViT-H/14", 518): 633_470_440, ("ViT-g/14", 518): 1_039_424_488,
    ("ViT-G/14", 518): 1_884_649_448, ("Mixer-S/16", 224): 18_528_264,
    ("Mixer-B/16", 224): 59_880_472, ("ResNet-50", 224): 25_557_032,
    ("CoAtNet-1", 224): 42_225_776, ("CoAtNet-3", 224): 166_966_264,
}
PARAMS_TOLERANCE = {"CoAtNet-1": 0.005, "CoAtNet-3": 0.005}   # DESIGN.md: 0.5 %
# ViT widths (hidden size D, ViT paper Table 1 / Zhai et al.), to shift a count to
# another head size: Δ = Δclasses · (D + 1).
VIT_WIDTH = {"ViT-B/16": 768, "ViT-L/16": 1024, "ViT-H/14": 1280, "ViT-g/14": 1408,
             "ViT-G/14": 1664}
