"""Caption templates for ``digits_captions`` (LiT training and zero-shot evaluation).

Why two template sets: zero-shot accuracy must be measured with prompts the text
tower never saw. ``TRAIN_TEMPLATES`` are the only ones used to write the dataset's
captions (and to train its tokenizer); ``HELDOUT_TEMPLATES`` are never written to
disk and are what the zero-shot evaluator should use.

Each template is formatted with ``word`` ("seven") and ``digit`` ("7").
"""
import numpy as np

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

TRAIN_TEMPLATES = (
    "a photo of the digit {word}",
    "a handwritten {digit}",
    "the number {word}, written by hand",
    "a scan of a handwritten {word}",
    "a small gray picture of a {digit}",
    "a blurry digit {digit}",
)

HELDOUT_TEMPLATES = (
    "an image of the numeral {word}",
    "a drawing of the number {digit}",
    "this is a {word}",
)


def caption(label, template):
    """The caption for one class index under one template."""
    return template.format(word=WORDS[int(label)], digit=str(int(label)))


def captions_for_class(label, templates=HELDOUT_TEMPLATES):
    """All captions for one class (e.g. the zero-shot prompts)."""
    return [caption(label, t) for t in templates]


def pick_caption(label, index, seed=0):
    """The training caption of example ``index``: a seeded choice of train template."""
    rng = np.random.default_rng([seed, int(index)])
    return caption(label, TRAIN_TEMPLATES[int(rng.integers(len(TRAIN_TEMPLATES)))])
