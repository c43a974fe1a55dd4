"""``prepare(name, data_dir, **options)``: make a local dataset, once.

Why idempotent and atomic: preparing runs before every demo/test and may be
interrupted. tfds writes into ``NAME/VERSION.incomplete*`` and renames it when
complete, so a dataset folder exists only when whole; a second call finds it and
returns at once. ``digits_captions`` also gets its sentencepiece model, written to
a temporary file and renamed (``tokenizer_path(data_dir)``).
"""
import os

from herolion.errors import ConfigError

DATASETS = ("digits", "digits_captions", "image_folder")
_OPTIONS = {
    "digits": ("image_size",),
    "digits_captions": ("image_size", "vocab_size"),
    "image_folder": ("source_dir", "dataset_name"),
}


def tokenizer_path(data_dir):
    """Where ``prepare('digits_captions', ...)`` puts its sentencepiece model."""
    return os.path.join(os.fspath(data_dir), "digits_captions", "sentencepiece.model")


def _check(name, data_dir, options):
    if name not in DATASETS:
        import difflib
        close = difflib.get_close_matches(str(name), DATASETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"name: unknown dataset {name!r}{hint}; "
                          f"known: {', '.join(DATASETS)}")
    if not data_dir:
        raise ConfigError("data_dir: required (the folder to write tfds datasets into)")
    unknown = sorted(set(options) - set(_OPTIONS[name]))
    if unknown:
        raise ConfigError(f"{unknown[0]}: not an option of {name} "
                          f"(options: {', '.join(_OPTIONS[name])})")
    size = options.get("image_size")
    if size is not None and (int(size) != size or not 4 <= int(size) <= 1024):
        raise ConfigError(f"image_size: must be an integer in 4..1024, got {size!r}")


def _make_builder(name, data_dir, options):
    from herolion.data import builders
    if name == "image_folder":
        return builders.ImageFolder(data_dir=data_dir, source_dir=options.get("source_dir"),
                                    name=options.get("dataset_name") or "image_folder")
    cls = builders.Digits if name == "digits" else builders.DigitsCaptions
    kwargs = {"image_size": int(options["image_size"])} if options.get("image_size") else {}
    return cls(data_dir=data_dir, **kwargs)


def _check_prepared_size(builder, options):
    """An existing digits dataset must have the requested image size (else: say so)."""
    import tensorflow_datasets as tfds
    want = options.get("image_size")
    if want is None:
        return
    have = tfds.builder_from_directory(builder.data_dir).info.features["image"].shape[0]
    if have != int(want):
        raise ConfigError(f"image_size: {builder.name} in {builder.data_dir} was prepared at "
                          f"{have}x{have}, not {want}; use another data_dir or delete it")


def _train_tokenizer(data_dir, vocab_size=None):
    from herolion.data import captions, digits, tokenizer
    path = tokenizer_path(data_dir)
    if os.path.isfile(path):
        return path
    _, labels = digits.load_arrays()
    train = digits.split_indices(labels)["train"]
    texts = [captions.pick_caption(labels[i], i) for i in train]
    return tokenizer.train(texts, path, vocab_size=vocab_size or tokenizer.DEFAULT_VOCAB_SIZE)


def prepare(name, data_dir, **options):
    """Writes dataset ``name`` into ``data_dir`` unless it is already there.

    Options: ``image_size`` (digits, digits_captions; default 32), ``vocab_size``
    (digits_captions' tokenizer), ``source_dir`` and ``dataset_name`` (image_folder).
    Returns the dataset's version folder, e.g. ``DATA_DIR/digits/1.0.0``.
    """
    options = {k: v for k, v in options.items() if v is not None}
    _check(name, data_dir, options)
    data_dir = os.path.abspath(os.fspath(data_dir))
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise ConfigError(f"data_dir: {data_dir} exists and is not a folder")
    os.makedirs(data_dir, exist_ok=True)
    builder = _make_builder(name, data_dir, options)
    if builder.is_prepared():
        _check_prepared_size(builder, options)
    else:
        import tempfile
        import tensorflow_datasets as tfds
        config = tfds.download.DownloadConfig(
            compute_stats=tfds.download.ComputeStatsMode.SKIP, try_download_gcs=False)
        with tempfile.TemporaryDirectory(prefix="herolion-dl-") as nothing_to_download:
            builder.download_and_prepare(download_dir=nothing_to_download,
                                         download_config=config)
    if name == "digits_captions":
        _train_tokenizer(data_dir, options.get("vocab_size"))
    return os.fspath(builder.data_dir)
