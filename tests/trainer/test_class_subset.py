"""Scoring a subset of the classes (ImageNet-A/R style): the argmax runs over the subset's
logits only, checked against numpy; the subset comes from a list, a file or the split."""
import jax
import numpy as np
import pytest

from herolion.errors import ConfigError
from herolion.trainer import mesh as mesh_lib, setup
from herolion.trainer.evaluate import resolve_class_subset
from herolion.trainer.step import apply_model, make_eval_step
from tests.trainer.test_step import tiny_config


@pytest.fixture(scope="module")
def model_and_state():
    config = tiny_config()
    images = np.random.default_rng(0).normal(size=(24, 16, 16, 3)).astype(np.float32)
    mesh = mesh_lib.make_mesh("data=1", jax.devices()[:1])
    built = setup.build(config, mesh, images)
    return built.model, built.init(), images


def test_subset_argmax_matches_numpy(model_and_state):
    model, state, images = model_and_state
    subset = [1, 4, 7]
    rng = np.random.default_rng(1)
    labels = rng.choice(subset, len(images)).astype(np.int32)
    mask = np.arange(len(images)) < 20                       # 4 padded examples
    logits, _ = apply_model(model, state.params, state.model_state, images, train=False)
    logits = np.asarray(logits)
    want_pred = np.asarray(subset)[np.argmax(logits[:, subset], -1)]
    want = float(np.sum((want_pred == labels) & mask))
    full_pred = np.argmax(logits, -1)
    batch = {"image": images, "labels": labels, "_mask": mask}
    got = jax.jit(make_eval_step(model, class_subset=subset))(state.params, state.model_state, batch)
    assert float(got["correct"]) == want and float(got["count"]) == 20.0
    # the restriction changes the answer here (random init: the full argmax is mostly
    # outside the subset), so the test could not pass with the subset ignored
    unrestricted = jax.jit(make_eval_step(model))(state.params, state.model_state, batch)
    assert float(unrestricted["correct"]) == float(np.sum((full_pred == labels) & mask))
    assert float(unrestricted["correct"]) != want


def test_out_of_range_class_id_is_a_config_error(model_and_state):
    model, state, images = model_and_state
    step = make_eval_step(model, class_subset=[3, 10])       # the model has 10 classes
    with pytest.raises(ConfigError, match="class id 10 is out of range"):
        step(state.params, state.model_state, {"image": images, "labels": np.zeros(24, int)})


def test_subset_from_list_file_and_split(tmp_path):
    assert resolve_class_subset({"class_subset": [5, 2, 2]}, "a", None) == [2, 5]
    ids = tmp_path / "ids.txt"
    ids.write_text("7\n3\n\n11\n")
    assert resolve_class_subset({"class_subset": str(ids)}, "a", None) == [3, 7, 11]
    from sklearn.datasets import load_digits
    from herolion.data.prepare import prepare
    prepare("digits", tmp_path / "tfds")
    cfg = {"class_subset": "labels", "data": {"name": "digits", "split": "test"}}
    assert resolve_class_subset(cfg, "d", str(tmp_path / "tfds")) == sorted(
        set(load_digits().target.tolist()))


@pytest.mark.parametrize("spec,needle", [
    ("nowhere.txt", "neither 'labels[:KEY]' nor a file"),
    ([], "at least one class id"),
    ([-1, 2], "at least one class id, all >= 0"),
    (3.5, "expected a list of class ids"),
])
def test_bad_subset_is_one_line_naming_the_field(spec, needle):
    with pytest.raises(ConfigError, match="config.evals.a.class_subset") as err:
        resolve_class_subset({"class_subset": spec}, "a", None)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_missing_label_feature_is_named(tmp_path):
    from herolion.data.prepare import prepare
    prepare("digits", tmp_path / "tfds")
    cfg = {"class_subset": "labels:fine_label", "data": {"name": "digits", "split": "test"}}
    with pytest.raises(ConfigError, match="no feature 'fine_label'"):
        resolve_class_subset(cfg, "d", str(tmp_path / "tfds"))
