"""Class names and prompt templates for zero-shot classification (LiT / CLIP style).

The data lives next to this module as plain text, one entry per line, and is
installed with the package (``[tool.setuptools.package-data]`` ships ``**/*.txt``):

==========================  =====  ===========================================================
file                        lines  what
==========================  =====  ===========================================================
``imagenet2012.txt``        1000   OpenAI's curated ImageNet class names used for CLIP's
                                   zero-shot evaluation, in label-index order (copied from
                                   CLIP's ``notebooks/Prompt_Engineering_for_ImageNet.ipynb``;
                                   identical to big_vision's ``CLIP_IMAGENET_CLASS_NAMES``).
                                   It keeps CLIP's two duplicates on purpose: ``missile``
                                   (657 and 744) and ``sunglasses`` (836 and 837).
``imagenet_prompts.txt``    80     The CLIP paper's 80 ImageNet prompt templates, same source.
``cifar100.txt``            100    CIFAR-100 fine labels in tfds ``cifar100`` label order (the
                                   archive's ``fine_label_names.txt``, which tfds reads as is),
                                   with ``_`` written as a space (``aquarium fish``).
``oxford_iiit_pet.txt``     37     The 37 breeds in tfds ``oxford_iiit_pet`` label order
                                   (``_LABEL_CLASSES`` of its builder), ``_`` written as a
                                   space; the dataset's own capitalisation is kept (cat
                                   breeds capitalised: ``Abyssinian``, ``american bulldog``).
``digits.txt``              10     ``zero`` .. ``nine``, i.e. :data:`herolion.data.captions.WORDS`.
``digits_prompts.txt``      3      :data:`herolion.data.captions.HELDOUT_TEMPLATES` in ``{}``
                                   form (see below).
``simple_prompts.txt``      5      A small generic set (``a photo of a {}.``, ...).
==========================  =====  ===========================================================

Digits prompts: the held-out caption templates are written with ``{word}`` or
``{digit}``; here both become ``{}`` and the class name put in is always the *word*
(``digits.txt``). So ``a drawing of the number {digit}`` becomes ``a drawing of the
number {}`` and yields ``a drawing of the number seven`` rather than ``... number 7``;
the other two templates already used ``{word}`` and are unchanged.

File format, for the builtins and for user files alike: UTF-8, one entry per line;
leading and trailing whitespace is stripped and blank lines are skipped. There is no
comment syntax (a ``#`` is part of the name), so what is on a line is the name, and
the i-th non-blank line is class i. Duplicate class names are allowed (ImageNet has
two). A spec equal to a builtin name always means the builtin (write ``./digits``
for a file of that name). Every template must contain ``{}`` exactly once and no other brace, so that
``template.format(name)`` is the prompt.

API::

    classnames("imagenet2012")            # builtin, or a tfds alias such as "imagenet_v2"
    classnames("/path/to/names.txt")      # any other spec is a file path
    prompts("imagenet")                   # builtins: imagenet (80), digits, simple
    builtin_for_dataset("cifar100")       # -> ("cifar100", "imagenet")

Bad input raises :class:`herolion.errors.ConfigError` with a one-line message naming
the field (``--classnames`` / ``--prompts`` unless told otherwise) and the file.
"""
import functools
import importlib.resources
import os

from herolion.errors import ConfigError

# Builtin class-name sets: spec -> data file. tfds datasets whose labels are the
# 1000 ImageNet classes in the standard order share the ImageNet list (imagenet_a
# and imagenet_r are 200-class subsets and are deliberately absent).
_CLASSNAME_FILES = {
    "imagenet2012": "imagenet2012.txt",
    "cifar100": "cifar100.txt",
    "oxford_iiit_pet": "oxford_iiit_pet.txt",
    "digits": "digits.txt",
}
_CLASSNAME_ALIASES = {
    "imagenet": "imagenet2012",
    "imagenet2012_real": "imagenet2012",
    "imagenet2012_subset": "imagenet2012",
    "imagenet2012_corrupted": "imagenet2012",
    "imagenet2012_fewshot": "imagenet2012",
    "imagenet_v2": "imagenet2012",
    "imagenet_sketch": "imagenet2012",
    "digits_captions": "digits",
}
_PROMPT_FILES = {
    "imagenet": "imagenet_prompts.txt",
    "digits": "digits_prompts.txt",
    "simple": "simple_prompts.txt",
}
# Default prompts per builtin class-name set (big_vision/CLIP use the 80 ImageNet
# templates for the natural-image datasets too).
_DEFAULT_PROMPTS = {
    "imagenet2012": "imagenet",
    "cifar100": "imagenet",
    "oxford_iiit_pet": "imagenet",
    "digits": "digits",
}

CLASSNAME_BUILTINS = tuple(sorted(_CLASSNAME_FILES))
PROMPT_BUILTINS = tuple(sorted(_PROMPT_FILES))


def _lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


@functools.lru_cache(maxsize=None)
def _builtin(filename):
    text = importlib.resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return tuple(_lines(text))


def _read_file(spec, field, builtins):
    path = os.fspath(spec)
    if not os.path.exists(path):
        bare = os.sep not in path and "/" not in path and "." not in path
        if bare:
            raise ConfigError(
                f"{field}: {path!r} is neither a builtin ({', '.join(builtins)}) "
                "nor an existing file")
        raise ConfigError(f"{field}: file {path!r} does not exist")
    if os.path.isdir(path):
        raise ConfigError(f"{field}: {path!r} is a directory, expected a text file")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise ConfigError(f"{field}: file {path!r} is not UTF-8 text ({e.reason})") from None
    except OSError as e:
        raise ConfigError(f"{field}: cannot read file {path!r} ({e.strerror})") from None
    entries = _lines(text)
    if not entries:
        raise ConfigError(f"{field}: file {path!r} is empty (need one entry per line)")
    return entries, path


def _canonical_classnames(spec):
    name = str(spec)
    name = _CLASSNAME_ALIASES.get(name, name)
    return name if name in _CLASSNAME_FILES else None


def classnames(spec, *, field="--classnames"):
    """Class names, index i = label i: a builtin (or tfds alias) name, or a file path."""
    builtin = _canonical_classnames(spec)
    if builtin is not None:
        return list(_builtin(_CLASSNAME_FILES[builtin]))
    names, _ = _read_file(spec, field, CLASSNAME_BUILTINS)
    return names


def _check_template(template, field, where):
    rest = template.replace("{}", "", 1)
    if "{}" not in template or "{" in rest or "}" in rest:
        raise ConfigError(
            f"{field}: {where}: template {template!r} must contain '{{}}' exactly once "
            "and no other braces (the class name goes where '{}' is)")


def prompts(spec, *, field="--prompts"):
    """Prompt templates with one ``{}`` each: a builtin name or a file path."""
    name = str(spec)
    if name in _PROMPT_FILES:
        templates = list(_builtin(_PROMPT_FILES[name]))
        where = f"builtin {name!r}"
    else:
        templates, path = _read_file(spec, field, PROMPT_BUILTINS)
        where = f"file {path!r}"
    for i, template in enumerate(templates):
        _check_template(template, field, f"{where} entry {i + 1}")
    return templates


def builtin_for_dataset(name, *, field="--dataset"):
    """``(classnames_spec, prompts_spec)`` defaults for a tfds dataset name.

    A tfds config or version suffix is ignored (``imagenet_v2/matched-frequency``,
    ``cifar100:3.0.2``). Raises ConfigError when there is no builtin for the dataset,
    so the caller should ask for explicit ``--classnames`` then.
    """
    base = str(name).split(":", 1)[0].split("/", 1)[0].strip()
    builtin = _canonical_classnames(base)
    if builtin is None:
        raise ConfigError(
            f"{field}: no builtin class names for dataset {str(name)!r} "
            f"(builtins: {', '.join(CLASSNAME_BUILTINS)} and their tfds variants); "
            "pass --classnames FILE")
    return builtin, _DEFAULT_PROMPTS[builtin]


__all__ = [
    "CLASSNAME_BUILTINS", "PROMPT_BUILTINS", "builtin_for_dataset", "classnames", "prompts",
]
