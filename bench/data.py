"""Images/s of ImageNet-style train preprocessing: grain (ours) vs an equivalent tf.data.

Why: the paper's runs are input-bound at small models; our numpy/PIL ops in grain
must keep up with TensorFlow's C++ pipeline. Both pipelines read the same locally
generated JPEGs (ImageNet-like 500x375, smooth content) from a temp dir, decode,
inception-crop to 224 (area 5..100 %, ratio 3/4..4/3), flip left-right, and batch.
grain runs ``decode_jpeg_and_inception_crop(224)|flip_lr`` (and, for reference,
the unfused ``decode|inception_crop(224)|flip_lr``) with worker processes; tf.data
uses ``decode_and_crop_jpeg`` + ``sample_distorted_bounding_box`` with AUTOTUNE.
Prints each rate and the ratio grain / tf.data. Usage::

    .venv/bin/python bench/data.py [--images 256] [--epochs 3] [--workers N] [--batch 32]
"""
import argparse
import io
import os
import tempfile
import time

import numpy as np


def make_jpegs(folder, n, seed=0):
    from PIL import Image
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:375, 0:500].astype(np.float32)
    paths = []
    for i in range(n):
        f = rng.uniform(0.005, 0.05, 3)
        img = 127.5 + 100 * np.stack([np.sin(f[0] * xx + i), np.cos(f[1] * yy),
                                      np.sin(f[2] * (xx + yy))], -1)
        img += rng.normal(0, 12, img.shape)
        path = os.path.join(folder, f"{i:05d}.jpg")
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


class _ReadFile:
    def __call__(self, path):
        with open(path, "rb") as f:
            return {"image": f.read()}


class _Pp:
    def __init__(self, spec):
        from herolion.data import preprocess
        self.pp = preprocess.build(spec)

    def __call__(self, example, rng):
        return self.pp(example, rng)


def grain_rate(paths, spec, epochs, batch, workers, threads):
    import grain
    from absl import flags
    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    ds = (grain.MapDataset.source(paths).seed(0).shuffle().repeat(epochs + 1)
          .map(_ReadFile()).random_map(_Pp(spec)).batch(batch, drop_remainder=True))
    it = ds.to_iter_dataset(grain.ReadOptions(num_threads=threads, prefetch_buffer_size=4))
    if workers:
        it = it.mp_prefetch(grain.MultiprocessingOptions(num_workers=workers))
    it = iter(it)
    per_epoch = len(paths) // batch
    for _ in range(per_epoch):  # warm-up epoch: worker start, page cache
        next(it)
    start = time.perf_counter()
    n = 0
    for _ in range(per_epoch * epochs):
        b = next(it)
        n += b["image"].shape[0]
    rate = n / (time.perf_counter() - start)
    if hasattr(it, "close"):
        it.close()
    return rate


def tfdata_rate(paths, epochs, batch):
    import tensorflow as tf

    def pp(path):
        data = tf.io.read_file(path)
        shape = tf.io.extract_jpeg_shape(data)
        begin, size, _ = tf.image.sample_distorted_bounding_box(
            shape, tf.zeros([0, 0, 4], tf.float32), area_range=(0.05, 1.0),
            aspect_ratio_range=(3 / 4, 4 / 3), min_object_covered=0, use_image_if_no_bounding_boxes=True)
        crop = tf.stack([begin[0], begin[1], size[0], size[1]])
        img = tf.image.decode_and_crop_jpeg(data, crop, channels=3)
        img = tf.cast(tf.image.resize(img, (224, 224), method="bilinear"), tf.uint8)
        return {"image": tf.image.random_flip_left_right(img)}

    ds = (tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths), seed=0)
          .repeat(epochs + 1).map(pp, num_parallel_calls=tf.data.AUTOTUNE)
          .batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    it = iter(ds.as_numpy_iterator())
    per_epoch = len(paths) // batch
    for _ in range(per_epoch):
        next(it)
    start = time.perf_counter()
    n = 0
    for _ in range(per_epoch * epochs):
        n += next(it)["image"].shape[0]
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="herolion-bench-data-") as tmp:
        paths = make_jpegs(tmp, args.images)
        print(f"{len(paths)} JPEGs 500x375, {args.epochs} epochs timed, batch {args.batch}, "
              f"{os.cpu_count()} CPUs, grain workers {args.workers}")
        tf_rate = tfdata_rate(paths, args.epochs, args.batch)
        fused = grain_rate(paths, "decode_jpeg_and_inception_crop(224)|flip_lr", args.epochs,
                           args.batch, args.workers, args.threads)
        plain = grain_rate(paths, "decode|inception_crop(224)|flip_lr", args.epochs,
                           args.batch, args.workers, args.threads)
    print(f"tf.data  decode_and_crop_jpeg|resize|flip        {tf_rate:9.1f} images/s")
    print(f"grain    decode_jpeg_and_inception_crop|flip_lr  {fused:9.1f} images/s")
    print(f"grain    decode|inception_crop|flip_lr           {plain:9.1f} images/s")
    print(f"ratio grain/tf.data: fused {fused / tf_rate:.2f}, unfused {plain / tf_rate:.2f}")


if __name__ == "__main__":
    main()
