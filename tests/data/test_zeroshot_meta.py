"""Zero-shot class names and prompt templates shipped in ``herolion.data.zeroshot``."""
import ast
import importlib.util
import os
import re

import pytest

from herolion.data import captions, zeroshot
from herolion.errors import ConfigError


def _tfds_source(*parts):
    """A file inside the installed tensorflow_datasets, found without importing it."""
    spec = importlib.util.find_spec("tensorflow_datasets")
    root = spec.submodule_search_locations[0]
    path = os.path.join(root, *parts)
    assert os.path.exists(path), f"installed tensorflow_datasets has no {'/'.join(parts)}"
    return path


def _module_constant(path, name):
    for node in ast.parse(open(path, encoding="utf-8").read()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {path}")


@pytest.mark.parametrize("spec,count", [
    ("imagenet2012", 1000), ("cifar100", 100), ("oxford_iiit_pet", 37), ("digits", 10)])
def test_classname_counts(spec, count):
    names = zeroshot.classnames(spec)
    assert len(names) == count
    assert all(n == n.strip() and n for n in names)


@pytest.mark.parametrize("spec,count", [("imagenet", 80), ("digits", 3), ("simple", 5)])
def test_prompt_counts(spec, count):
    templates = zeroshot.prompts(spec)
    assert len(templates) == count
    assert len(set(templates)) == count
    assert all(t.count("{}") == 1 for t in templates)


def test_imagenet_known_positions():
    names = zeroshot.classnames("imagenet2012")
    known = {0: "tench", 1: "goldfish", 21: "kite (bird of prey)", 207: "Golden Retriever",
             281: "tabby cat", 409: "analog clock", 517: "construction crane",
             530: "digital clock", 817: "sports car", 954: "banana", 999: "toilet paper"}
    assert {i: names[i] for i in known} == known
    # CLIP's list keeps these duplicates; a "fixed" copy would be a different list.
    assert names[657] == names[744] == "missile"
    assert names[836] == names[837] == "sunglasses"
    assert len(set(names)) == 998


def test_imagenet_prompts_clip_sequential_selection_subset():
    # The 7 templates CLIP's notebook reports from forward selection over the 80.
    chosen = ["itap of a {}.", "a bad photo of the {}.", "a origami {}.",
              "a photo of the large {}.", "a {} in a video game.", "art of the {}.",
              "a photo of the small {}."]
    templates = zeroshot.prompts("imagenet")
    assert set(chosen) <= set(templates)
    assert templates[0] == "a bad photo of a {}."
    assert templates[-1] == "a tattoo of the {}."


@pytest.mark.parametrize("alias", [
    "imagenet", "imagenet2012_real", "imagenet_v2", "imagenet_sketch", "imagenet2012_subset"])
def test_imagenet_aliases(alias):
    assert zeroshot.classnames(alias) == zeroshot.classnames("imagenet2012")


def test_cifar100_matches_tfds_label_order():
    names = zeroshot.classnames("cifar100")
    # tfds reads the names verbatim from the archive's fine_label_names.txt (the
    # installed package has no copy; it comes with the download), and that file is
    # in sorted order: so the underscore form must be sorted and unique.
    raw = [n.replace(" ", "_") for n in names]
    assert raw == sorted(raw) and len(set(raw)) == 100
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)?", r) for r in raw)
    assert (names[0], names[1], names[41], names[99]) == (
        "apple", "aquarium fish", "lawn mower", "worm")
    # tfds's builder does take the fine names for "label" from that file.
    cifar = open(_tfds_source("image_classification", "cifar.py"), encoding="utf-8").read()
    assert 'label_files=["coarse_label_names.txt", "fine_label_names.txt"]' in cifar
    assert 'label_keys=["coarse_label", "label"]' in cifar


def test_oxford_iiit_pet_matches_tfds_label_order():
    path = _tfds_source("datasets", "oxford_iiit_pet", "oxford_iiit_pet_dataset_builder.py")
    tfds_names = _module_constant(path, "_LABEL_CLASSES")
    assert "ClassLabel(names=_LABEL_CLASSES)" in open(path, encoding="utf-8").read()
    names = zeroshot.classnames("oxford_iiit_pet")
    assert names == [n.replace("_", " ") for n in tfds_names]
    assert names[:2] == ["Abyssinian", "american bulldog"]
    assert names[-1] == "yorkshire terrier"


def test_digits_match_captions_module():
    assert zeroshot.classnames("digits") == list(captions.WORDS)
    templates = zeroshot.prompts("digits")
    assert len(templates) == len(captions.HELDOUT_TEMPLATES)
    for label, word in enumerate(captions.WORDS):
        # Both {word} and {digit} templates become "{}" filled with the word.
        expected = [t.format(word=word, digit=word) for t in captions.HELDOUT_TEMPLATES]
        assert [t.format(word) for t in templates] == expected
        assert templates[0].format(word) == captions.caption(label, captions.HELDOUT_TEMPLATES[0])


@pytest.mark.parametrize("name,expected", [
    ("imagenet2012", ("imagenet2012", "imagenet")),
    ("imagenet_v2/matched-frequency", ("imagenet2012", "imagenet")),
    ("imagenet2012_real:1.0.0", ("imagenet2012", "imagenet")),
    ("cifar100", ("cifar100", "imagenet")),
    ("oxford_iiit_pet", ("oxford_iiit_pet", "imagenet")),
    ("digits", ("digits", "digits")),
    ("digits_captions", ("digits", "digits")),
])
def test_builtin_for_dataset(name, expected):
    assert zeroshot.builtin_for_dataset(name) == expected
    cls, prm = zeroshot.builtin_for_dataset(name)
    assert zeroshot.classnames(cls) and zeroshot.prompts(prm)


def test_builtin_for_dataset_unknown():
    with pytest.raises(ConfigError, match=r"^--dataset: .*'imagenet_a'.*--classnames"):
        zeroshot.builtin_for_dataset("imagenet_a")


def test_file_specs(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("  cat \n\ndog\n# hash is part of a name\n\n", encoding="utf-8")
    assert zeroshot.classnames(str(names)) == ["cat", "dog", "# hash is part of a name"]
    assert zeroshot.classnames(names) == ["cat", "dog", "# hash is part of a name"]
    tpl = tmp_path / "prompts.txt"
    tpl.write_text("a photo of a {}.\n\nitap of my {}\n", encoding="utf-8")
    assert zeroshot.prompts(str(tpl)) == ["a photo of a {}.", "itap of my {}"]


def _one_line(err):
    message = str(err.value)
    assert "\n" not in message
    return message


def test_error_missing_file(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(ConfigError) as err:
        zeroshot.classnames(missing)
    assert _one_line(err).startswith("--classnames: ") and missing in str(err.value)
    with pytest.raises(ConfigError) as err:
        zeroshot.prompts(missing, field="config.evals.zs.prompts")
    assert _one_line(err).startswith("config.evals.zs.prompts: ") and missing in str(err.value)


@pytest.mark.parametrize("text", ["", "\n \n\t\n"])
def test_error_empty_file(tmp_path, text):
    path = tmp_path / "empty.txt"
    path.write_text(text, encoding="utf-8")
    for load, field in ((zeroshot.classnames, "--classnames"), (zeroshot.prompts, "--prompts")):
        with pytest.raises(ConfigError, match="empty") as err:
            load(str(path))
        assert _one_line(err).startswith(f"{field}: ") and str(path) in str(err.value)


@pytest.mark.parametrize("bad", [
    "a photo of a cat.", "a photo of {} and {}.", "an image of the numeral {word}",
    "a {0} photo", "a {} photo }"])
def test_error_template_without_single_placeholder(tmp_path, bad):
    path = tmp_path / "prompts.txt"
    path.write_text(f"a photo of a {{}}.\n{bad}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        zeroshot.prompts(str(path))
    message = _one_line(err)
    assert message.startswith("--prompts: ") and str(path) in message
    assert "entry 2" in message and repr(bad) in message


@pytest.mark.parametrize("load,field,spec", [
    (zeroshot.classnames, "--classnames", "imagenet1k"),
    (zeroshot.prompts, "--prompts", "cifar100"),
])
def test_error_unknown_builtin(load, field, spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="neither a builtin") as err:
        load(spec)
    message = _one_line(err)
    assert message.startswith(f"{field}: ") and repr(spec) in message


def test_results_are_fresh_lists():
    first = zeroshot.classnames("digits")
    first.append("ten")
    assert len(zeroshot.classnames("digits")) == 10
