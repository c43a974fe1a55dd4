"""Images/s of ImageNet-style train preprocessing: grain (ours) vs an equivalent tf.data.

Why: the paper's runs are input-bound at small models; our ops in grain must keep up
with TensorFlow's C++ pipeline. Both pipelines read the same locally generated JPEGs
(ImageNet-like 500x375, smooth content + noise) from a temp dir, decode, inception-crop
to 224 (area 5..100 %, ratio 3/4..4/3), flip left-right, and batch. Both get the same
parallelism budget (``--cpus``, default: all cores):

* tf.data: ``extract_jpeg_shape`` + ``sample_distorted_bounding_box`` +
  ``decode_and_crop_jpeg`` + ``resize`` (bilinear) + flip, ``map`` with AUTOTUNE on a
  private thread pool of ``--cpus`` threads;
* grain: ``decode_jpeg_and_inception_crop(224)|flip_lr`` (libjpeg-turbo with DCT scaling
  + OpenCV resize) with ``--cpus`` read threads in-process, and with ``--cpus`` worker
  processes (``mp_prefetch``, 1 read thread each); for reference the PIL version of the
  fused op (the previous implementation) and the unfused PIL ``decode|inception_crop``.

grain reads a shuffled index space of ImageNet's size (file = index mod n), shuffled as
the train pipeline shuffles (``herolion.data.shuffle``: a permutation per epoch; grain's
own per-element ``index_shuffle`` cost ~8 us per element at this size).
Methods run interleaved for ``--rounds`` rounds; each figure is the median round.
Prints images/s, CPU ms/image (process + grain workers: steadier on a shared machine)
and the ratios grain / tf.data. Usage::

    .venv/bin/python bench/data.py [--images 256] [--epochs 3] [--rounds 3] [--cpus N]
"""
import argparse
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


IMAGENET_TRAIN = 1_281_167


class _ReadFile:
    """Index ``i`` of the virtual ImageNet-sized dataset -> the bytes of file ``i % n``."""

    def __init__(self, paths):
        self.paths = list(paths)

    def __call__(self, index):
        with open(self.paths[index % len(self.paths)], "rb") as f:
            return {"image": f.read()}


class _Pp:
    def __init__(self, spec):
        from herolion.data import preprocess
        self.pp = preprocess.build(spec)

    def __call__(self, example, rng):
        return self.pp(example, rng)


def _cpu_seconds():
    """User+system CPU seconds of this process and its live children (grain workers)."""
    import psutil
    me = psutil.Process()
    total = {me.pid: sum(me.cpu_times()[:2])}
    for child in me.children(recursive=True):
        try:
            total[child.pid] = sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def _timed(it, steps):
    """Images/s and CPU ms/image over ``steps`` batches of ``it``."""
    cpu0, start, n = _cpu_seconds(), time.perf_counter(), 0
    for _ in range(steps):
        n += next(it)["image"].shape[0]
    wall = time.perf_counter() - start
    cpu1 = _cpu_seconds()
    cpu = sum(cpu1[k] - cpu0[k] for k in cpu1 if k in cpu0)
    return n / wall, 1e3 * cpu / n


class _PilFused:
    """The previous (PIL) implementation of the fused op, for the before/after figure."""

    def __init__(self, size):
        self.size = size

    def __call__(self, example, rng):
        from herolion.data.ops import image
        img = image._pil_decode_and_inception_crop(example["image"], rng, self.size,
                                                   (0.05, 1.0), "bilinear")
        return {**example, "image": img}


def grain_rate(paths, spec, epochs, batch, workers, threads):
    import grain
    from absl import flags

    from herolion.data import shuffle
    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    if isinstance(spec, (str, list)):
        spec = _Pp(spec)
    per_epoch = len(paths) // batch
    # A shuffled index space of ImageNet's size, shuffled as the train pipeline does
    # (herolion.data.shuffle: one permutation per epoch, made in the warm-up epoch).
    ds = shuffle.shuffle(grain.MapDataset.range(IMAGENET_TRAIN).seed(0), seed=0)
    ds = (ds[:(epochs + 1) * per_epoch * batch].map(_ReadFile(paths)).random_map(spec)
          .batch(batch, drop_remainder=True))
    it = ds.to_iter_dataset(grain.ReadOptions(num_threads=threads, prefetch_buffer_size=4))
    if workers:
        it = it.mp_prefetch(grain.MultiprocessingOptions(num_workers=workers,
                                                         per_worker_buffer_size=2))
    it = iter(it)
    for _ in range(per_epoch):  # warm-up epoch: worker start, page cache
        next(it)
    result = _timed(it, per_epoch * epochs)
    if hasattr(it, "close"):
        it.close()
    return result


def tfdata_rate(paths, epochs, batch, threads):
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

    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    ds = (tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths), seed=0)
          .repeat(epochs + 1).map(pp, num_parallel_calls=tf.data.AUTOTUNE)
          .batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE).with_options(options))
    it = iter(ds.as_numpy_iterator())
    per_epoch = len(paths) // batch
    for _ in range(per_epoch):
        next(it)
    return _timed(it, per_epoch * epochs)


FUSED = "decode_jpeg_and_inception_crop(224)|flip_lr"
METHODS = {  # name -> (what, how it runs)
    "tf.data": "decode_and_crop_jpeg|resize|flip",
    "grain threads": FUSED,
    "grain processes": FUSED,
    "grain PIL fused": "PIL decode_jpeg_and_inception_crop|flip_lr (before)",
    "grain PIL unfused": "decode|inception_crop|flip_lr (PIL)",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1,
                        help="parallelism budget: tf.data threads = grain threads = workers")
    args = parser.parse_args()
    n = args.cpus
    with tempfile.TemporaryDirectory(prefix="herolion-bench-data-") as tmp:
        paths = make_jpegs(tmp, args.images)
        print(f"{len(paths)} JPEGs 500x375, {args.epochs} epochs timed (+1 warm-up), "
              f"batch {args.batch}, {os.cpu_count()} CPUs, parallelism budget {n}, "
              f"median of {args.rounds} interleaved rounds")
        runs = {
            "tf.data": lambda: tfdata_rate(paths, args.epochs, args.batch, n),
            "grain threads": lambda: grain_rate(paths, FUSED, args.epochs, args.batch, 0, n),
            "grain processes": lambda: grain_rate(paths, FUSED, args.epochs, args.batch, n, 1),
            "grain PIL fused": lambda: grain_rate(paths, [_PilFused(224), "flip_lr"],
                                                  args.epochs, args.batch, 0, n),
            "grain PIL unfused": lambda: grain_rate(paths, "decode|inception_crop(224)|flip_lr",
                                                    args.epochs, args.batch, 0, n),
        }
        rates = {k: [] for k in runs}
        for _ in range(args.rounds):
            for k, fn in runs.items():
                rates[k].append(fn())
    med = {k: float(np.median([r for r, _ in v])) for k, v in rates.items()}
    cpu = {k: float(np.median([c for _, c in v])) for k, v in rates.items()}
    parallel = {"tf.data": f"map AUTOTUNE, private pool {n} threads",
                "grain threads": f"{n} read threads, in-process",
                "grain processes": f"mp_prefetch {n} workers x 1 thread",
                "grain PIL fused": f"{n} read threads, in-process",
                "grain PIL unfused": f"{n} read threads, in-process"}
    print(f"{'':18s} {'pipeline':52s} {'parallelism':36s} {'images/s (range)':>22s} "
          f"{'CPU ms/image':>12s}")
    for k in runs:
        spread = f"({min(r for r, _ in rates[k]):.0f}-{max(r for r, _ in rates[k]):.0f})"
        print(f"{k:18s} {METHODS[k]:52s} {parallel[k]:36s} {med[k]:9.1f} {spread:>12s} "
              f"{cpu[k]:12.2f}")
    tf_rate, tf_cpu = med["tf.data"], cpu["tf.data"]
    print("ratio grain/tf.data images/s:    " + ", ".join(
        f"{k[6:]} {med[k] / tf_rate:.2f}" for k in runs if k != "tf.data"))
    print("ratio tf.data/grain CPU per image: " + ", ".join(
        f"{k[6:]} {tf_cpu / cpu[k]:.2f}" for k in runs if k != "tf.data"))


if __name__ == "__main__":
    main()
