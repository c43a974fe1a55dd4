"""Open a prepared tfds dataset split as a random-access source for grain.

Why one function: every pipeline (train, eval, zero-shot) reads data the same way,
and bad input (no data_dir, an unknown or unprepared dataset, a bad split) must
become one :class:`ConfigError` line instead of a tfds traceback. Image features
are left encoded (the ``decode`` op decodes them), as in big_vision.
"""
import os

from herolion.errors import ConfigError

LOCAL_DATASETS = ("digits", "digits_captions", "image_folder")


def check_data_dir(data_dir, field="input.data_dir"):
    if not data_dir:
        raise ConfigError(f"{field}: required (the folder with prepared tfds datasets)")
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise ConfigError(f"{field}: {data_dir} is not a folder")
    return data_dir


def _not_prepared(name, data_dir, field):
    hint = (f"run `herolion data prepare {name} --data-dir {data_dir}`"
            if name in LOCAL_DATASETS else "prepare it there with tfds first")
    return ConfigError(f"{field}.name: dataset {name!r} is not prepared in {data_dir} ({hint})")


def builder(name, data_dir, *, field="input.data"):
    """The tfds builder of a dataset prepared in ``data_dir`` (never downloads)."""
    import tensorflow_datasets as tfds
    data_dir = check_data_dir(data_dir, field=field.rsplit(".", 1)[0] + ".data_dir"
                              if "." in field else "data_dir")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{field}.name: required (a tfds dataset name), got {name!r}")
    try:
        b = tfds.builder(name, data_dir=data_dir)
    except Exception as err:  # tfds raises several types for unknown names
        if not ("not found" in str(err).lower()
                or isinstance(err, tfds.core.registered.DatasetNotFoundError)):
            raise
        if name in LOCAL_DATASETS:
            raise _not_prepared(name, data_dir, field) from None
        raise ConfigError(f"{field}.name: unknown dataset {name!r} (not a tfds dataset and not "
                          f"prepared in {data_dir}; local ones: {', '.join(LOCAL_DATASETS)})"
                          ) from None
    if not b.is_prepared():
        raise _not_prepared(name, data_dir, field)
    return b


def image_keys(features):
    """Top-level feature names that hold encoded images."""
    import tensorflow_datasets as tfds
    return [k for k, f in features.items() if isinstance(f, tfds.features.Image)]


def open_source(name, split, data_dir, *, field="input.data"):
    """A grain-compatible random-access source (``len`` + ``[i]`` -> dict of numpy)."""
    import tensorflow_datasets as tfds
    b = builder(name, data_dir, field=field)
    decoders = {k: tfds.decode.SkipDecoding() for k in image_keys(b.info.features)}
    try:
        return b.as_data_source(split=split, decoders=decoders)
    except NotImplementedError:
        raise ConfigError(f"{field}.name: {name} in {data_dir} is not in a random-access format; "
                          "grain needs file_format='array_record' (re-prepare it so)") from None
    except (ValueError, KeyError, AssertionError) as err:
        known = ", ".join(sorted(b.info.splits.keys()))
        raise ConfigError(f"{field}.split: bad split {split!r} for {name} (splits: {known}; "
                          f"{str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
