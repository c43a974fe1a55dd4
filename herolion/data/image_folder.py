"""Scan a folder of class-named sub-folders of JPEG/PNG files (the user's own data).

Why separate from the tfds builder: listing and validating the folder is plain
Python, so a bad folder is reported (one line, naming it) before TensorFlow loads.
Layout::

    SOURCE/cat/001.jpg  SOURCE/cat/002.png  SOURCE/dog/x.jpeg ...

Classes are the sub-folder names, sorted; everything lands in split ``train``
(carve out a validation set with tfds split slicing, e.g. ``train[90%:]``).
"""
import io
import os
import re

from herolion.errors import ConfigError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


def check_name(name, field="name"):
    """tfds dataset names are snake_case identifiers."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"{field}: dataset name must be snake_case like 'my_images', got {name!r}")
    return name


def scan(source_dir, field="--source-dir"):
    """Returns ``(class_names, [(path, label), ...])`` sorted by class then file name."""
    if not source_dir:
        raise ConfigError(f"{field}: required for image_folder (a folder of class sub-folders)")
    source_dir = os.fspath(source_dir)
    if not os.path.isdir(source_dir):
        raise ConfigError(f"{field}: {source_dir} is not a folder")
    classes = sorted(d for d in os.listdir(source_dir)
                     if os.path.isdir(os.path.join(source_dir, d)) and not d.startswith("."))
    files = []
    for label, cls in enumerate(classes):
        folder = os.path.join(source_dir, cls)
        for fname in sorted(os.listdir(folder)):
            if fname.lower().endswith(IMAGE_EXTENSIONS) and not fname.startswith("."):
                files.append((os.path.join(folder, fname), label))
    if not files:
        raise ConfigError(f"{field}: {source_dir} has no JPEG/PNG images in class sub-folders")
    used = sorted({label for _, label in files})
    if len(used) != len(classes):  # class folders without images are not classes
        classes = [classes[i] for i in used]
        remap = {old: new for new, old in enumerate(used)}
        files = [(p, remap[label]) for p, label in files]
    return classes, files


def read_rgb_encoded(path):
    """The file's bytes if it is an RGB JPEG/PNG, else the image re-encoded as RGB PNG."""
    from PIL import Image
    with open(path, "rb") as f:
        data = f.read()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.mode == "RGB" and img.format in ("JPEG", "PNG"):
                return data
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="PNG")
            return buf.getvalue()
    except OSError as err:
        raise ConfigError(f"{path}: not a readable image ({err})") from None
