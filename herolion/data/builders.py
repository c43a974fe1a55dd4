"""The local datasets as real tfds builders, written in ``array_record`` format.

Why tfds builders (and not ad-hoc files): the pipeline reads *any* tfds dataset by
name from a ``data_dir`` (``imagenet2012`` included), so local data must look the
same on disk: ``DATA_DIR/NAME/VERSION/`` with ``dataset_info.json`` and
``NAME-SPLIT.array_record-XXXXX-of-YYYYY`` shards. tfds writes into a temporary
``*.incomplete*`` folder and renames it when done, so a half-written dataset never
looks prepared. The classes skip tfds' global registry: readers find them through
the files (tfds' read-only builder), exactly like datasets prepared elsewhere.
"""
import io

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from herolion.data import captions as captions_lib
from herolion.data import digits as digits_lib
from herolion.data import image_folder as folder_lib

FILE_FORMAT = "array_record"
# tfds derives a builder's code folder from its package via importlib resources,
# which fails for a package that is not installed (a source checkout); say it.
CODE_PATH = epath.Path(__file__)


def _png_bytes(image):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


class Digits(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """scikit-learn's 1797 handwritten digits, upscaled to RGB, stratified 80/20 split."""

    code_path = CODE_PATH

    name = "digits"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}

    def __init__(self, *, image_size=digits_lib.DEFAULT_IMAGE_SIZE, **kwargs):
        self.image_size = int(image_size)
        kwargs.setdefault("file_format", FILE_FORMAT)
        super().__init__(**kwargs)

    def _features(self):
        s = self.image_size
        return {
            "image": tfds.features.Image(shape=(s, s, 3), encoding_format="png"),
            "label": tfds.features.ClassLabel(names=list(digits_lib.CLASS_NAMES)),
            "id": np.int64,  # row in sklearn.datasets.load_digits()
        }

    def _info(self):
        return self.dataset_info_from_configs(
            description=self._description(),
            features=tfds.features.FeaturesDict(self._features()),
            supervised_keys=("image", "label"),
            metadata=tfds.core.MetadataDict(image_size=self.image_size),
        )

    def _description(self):
        return ("scikit-learn handwritten digits (UCI), 8x8 gray levels 0..16 upscaled "
                f"bilinearly to {self.image_size}x{self.image_size} RGB.")

    def _split_generators(self, dl_manager):
        del dl_manager
        images, labels = digits_lib.load_arrays()
        big = digits_lib.upscale(images, self.image_size)
        split = digits_lib.split_indices(labels)
        return {name: self._generate_examples(big, labels, idx) for name, idx in split.items()}

    def _example(self, image, label, index):
        return {"image": _png_bytes(image), "label": int(label), "id": int(index)}

    def _generate_examples(self, images, labels, indices):
        for i in indices:
            yield int(i), self._example(images[i], labels[i], i)


class DigitsCaptions(Digits, skip_registration=True):
    """The digits with one caption each, written from ``captions.TRAIN_TEMPLATES``."""

    name = "digits_captions"

    def _features(self):
        return {**super()._features(), "caption": tfds.features.Text()}

    def _description(self):
        return (super()._description() + " One caption each, from TRAIN_TEMPLATES of "
                "herolion.data.captions; HELDOUT_TEMPLATES are never written.")

    def _example(self, image, label, index):
        return {**super()._example(image, label, index),
                "caption": captions_lib.pick_caption(label, index)}


class ImageFolder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A folder of class-named sub-folders of JPEG/PNG files, as split ``train``."""

    code_path = CODE_PATH

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}

    def __init__(self, *, source_dir, name="image_folder", **kwargs):
        self.name = folder_lib.check_name(name)
        self.source_dir = source_dir
        self._classes, self._files = folder_lib.scan(source_dir)
        kwargs.setdefault("file_format", FILE_FORMAT)
        super().__init__(**kwargs)

    def _info(self):
        return self.dataset_info_from_configs(
            description=f"Images imported from the class folders of {self.source_dir}.",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3)),
                "label": tfds.features.ClassLabel(names=self._classes),
                "file_name": tfds.features.Text(),
            }),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for path, label in self._files:
            rel = "/".join(path.replace("\\", "/").split("/")[-2:])
            yield rel, {"image": folder_lib.read_rgb_encoded(path), "label": label,
                        "file_name": rel}
