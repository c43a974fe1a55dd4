"""The train step's speed, its MFU, the loop's overhead and the cost of a save, in one run.

CPU (default) prints, measured side by side in this process:

* images/s of the jitted train step (``setup.build`` + ``step.make_train_step``, state
  donated, as the loop runs it) for ViT-S/16 at 224 px, batch 8, Lion; and for the demo's
  tiny ViT on 32x32 digits-shaped input at the demo's batch;
* MFU: the compiled step's FLOPs (XLA's ``cost_analysis``) / step time, as a fraction of
  this CPU's measured matmul peak (a jitted f32 ``jnp.dot`` of two 2048x2048 matrices,
  timed in the same run). Why measured and not a spec sheet: the machine is a shared VM
  whose clock and vector units we do not know; the same dot is the ceiling XLA reaches;
* the same ViT-S/16 step on one single-threaded XLA device per core, data-parallel
  (``PerCoreStep``: a child process, its rounds interleaved with the one-device step's;
  MFU with the one-device step's FLOPs), which is how to run XLA:CPU on several cores;
* the loop's overhead: the real ``herolion.trainer.loop.train`` on the demo config (local
  digits, evals and checkpoints off until the last step) versus the bare jitted step on
  device-resident batches of the same shape, alternating every ``log_steps`` steps in
  one process (``loop_vs_bare``), each loop segment against the bare segments either
  side of it, with a bootstrap interval of the median (the machine's noise);
* how long a save blocks the loop, on the ViT-S/16 train state: the default async save
  (a device copy, then orbax in a background thread), orbax's own async save (returns
  once the arrays are on the host) and a synchronous save.

``--gpu`` (automatic when ``jax.default_backend() == 'gpu'``) instead runs only the
ViT-B/16 step at 224 px in bf16 compute at the largest batch of ``--gpu-batches`` that
fits, for Lion and AdamW, each in a fresh child process (so peak memory is that
optimizer's own), and prints MFU against 989 TFLOP/s (H100/H200 dense bf16) and
``peak_bytes_in_use``. That mode imports only jax/flax/optax/numpy and
``herolion.optim/models/trainer.setup/step`` — no grain/tfds/clu/tensorflow/orbax — so
it runs on a GPU image with only jax, flax and optax installed.

    .venv/bin/python bench/train_step.py              # CPU, ~10 min on 2 cores
    .venv/bin/python bench/train_step.py --gpu        # ViT-B/16, Lion vs AdamW
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from herolion.trainer import losses, mesh as mesh_lib, setup, sharding  # noqa: E402
from herolion.trainer.step import make_train_step  # noqa: E402

H100_BF16_PEAK = 989e12     # dense bf16 FLOP/s of an H100/H200 SXM


# -- shared helpers (jax/flax/optax/numpy + herolion.trainer.setup/step only) --------------

def mesh_context(mesh, config):
    """What ``loop.mesh_context`` does, without importing the loop (it needs grain/orbax)."""
    stack = contextlib.ExitStack()
    stack.enter_context(jax.set_mesh(mesh))
    stack.enter_context(nn.logical_axis_rules(
        setup.rules_for_mesh(setup.rules_from(config), mesh)))
    return stack


def vit_config(variant, *, optimizer="lion", batch=8, num_classes=1000, dtype=None,
               model=None, total_steps=10_000):
    """A plain-dict trainer config (no ml_collections needed): paper-like Lion/AdamW."""
    lr, wd = {"lion": (1e-4, 1.0), "adamw": (1e-3, 0.1)}[optimizer]
    model = dict(model or dict(variant=variant, num_classes=num_classes, pool_type="tok"))
    if dtype:
        model["dtype"] = dtype
    return {"seed": 0, "total_steps": total_steps, "model_name": "vit", "model": model,
            "optimizer": optimizer, "lr": lr, "wd": wd,
            "optax": {"b1": 0.9, "b2": 0.99} if optimizer == "lion" else {},
            "schedule": {"decay_type": "cosine", "warmup_steps": 100},
            "grad_clip_norm": 1.0, "input": {"batch_size": batch}, "mesh": "data=-1"}


class StepBench:
    """A built, compiled, donated train step on a fixed device-resident batch."""

    def __init__(self, config, image_shape, num_classes, *, dtype=np.float32):
        self.config = config
        self.mesh = mesh_lib.make_mesh(config["mesh"])
        batch = config["input"]["batch_size"]
        rng = np.random.default_rng(0)
        images = rng.uniform(-1, 1, (batch, *image_shape)).astype(dtype)
        labels = np.eye(num_classes, dtype=np.float32)[rng.integers(0, num_classes, batch)]
        self.built = setup.build(config, self.mesh, images)
        step = make_train_step(self.built.model, self.built.tx, self.built.schedule,
                               losses.softmax_xent)
        bs = sharding.batch_sharding(self.mesh)
        self.batch = {"image": jax.device_put(images, bs), "labels": jax.device_put(labels, bs)}
        self.state = self.built.init()
        with mesh_context(self.mesh, config):
            jitted = jax.jit(step, donate_argnums=0,
                             out_shardings=(self.built.shardings, sharding.replicated(self.mesh)))
            t0 = time.perf_counter()
            self.compiled = jitted.lower(self.state, self.batch).compile()
            self.compile_s = time.perf_counter() - t0
        cost = self.compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, (list, tuple)) else cost
        self.flops = float(cost["flops"])
        self.batch_size = batch

    def run(self, n):
        """``n`` steps back to back; seconds per step (blocks on the last state)."""
        state = self.state
        t0 = time.perf_counter()
        for _ in range(n):
            state, metrics = self.compiled(state, self.batch)
        jax.block_until_ready((state, metrics))
        dt = (time.perf_counter() - t0) / n
        self.state = state
        return dt

    def timed(self, warmup, rounds, steps_per_round):
        self.run(warmup)
        return statistics.median(self.run(steps_per_round) for _ in range(rounds))


# -- CPU -----------------------------------------------------------------------------------

def matmul_peak(n=2048, rounds=3, reps=2):
    """FLOP/s of a jitted f32 ``n x n @ n x n`` (the best of ``rounds``)."""
    k1, k2 = jax.random.split(jax.random.key(0))
    a = jax.random.normal(k1, (n, n), jnp.float32)
    b = jax.random.normal(k2, (n, n), jnp.float32)
    dot = jax.jit(jnp.dot)
    dot(a, b).block_until_ready()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            out = dot(a, b)
        out.block_until_ready()
        times.append((time.perf_counter() - t0) / reps)
    return 2 * n ** 3 / min(times)


def interleaved_mfu(benches, rounds, steps):
    """Rounds of (matmul peak, ``steps`` train steps of each bench, a peak after each), so
    every run of steps sits between two peaks and its MFU is against the higher of them.
    Why: this machine is shared, and its matmul peak drifts by 2x within a minute; a peak
    measured once, far from the steps, makes MFU meaningless. Returns, per bench,
    (median step s, median of its two-sided peaks, median MFU, those peaks)."""
    step_s, peaks = [[] for _ in benches], [[] for _ in benches]
    peak = matmul_peak()
    for _ in range(rounds):
        for i, bench in enumerate(benches):
            step_s[i].append(bench.run(steps))
            after = matmul_peak()
            peaks[i].append(max(peak, after))
            peak = after
    return [(statistics.median(ts), statistics.median(ps),
             statistics.median(b.flops / t / p for t, p in zip(ts, ps)), ps)
            for b, ts, ps in zip(benches, step_s, peaks)]


class PerCoreStep:
    """The ViT-S/16 step in a child process with one single-threaded XLA:CPU device per
    core, the batch split over them (mesh ``data=-1``), timed on request so its rounds
    interleave with the one-device step's. Why: one XLA:CPU device spreads the big dots
    over all cores but runs much of the rest (elementwise fusions, small ops) on one, so
    the cores overlap only ~1.3x; with a device per core each core works on its own
    slice of the batch. ``flops`` is the one-device step's (the model FLOPs)."""

    def __init__(self, devices, flops, batch_size):
        from herolion.launch.cpu_devices import xla_flags   # what --cpu-devices sets
        env = dict(os.environ, XLA_FLAGS=xla_flags(os.environ.get("XLA_FLAGS", ""), devices),
                   JAX_PLATFORMS="cpu")
        self.proc = subprocess.Popen([sys.executable, __file__, "--per-core-child"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        ready = self._reply()
        self.devices, self.compile_s = ready["devices"], ready["compile_s"]
        self.flops, self.batch_size = flops, batch_size

    def _reply(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"per-core child exited with status {self.proc.wait()}")

    def run(self, n):
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        return self._reply()["step_s"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def per_core_child():
    """Child side of :class:`PerCoreStep`: build, warm up, then one JSON line per 'N'."""
    b = StepBench(vit_config("S/16", batch=8), (224, 224, 3), 1000)
    b.run(1)
    print(json.dumps({"devices": jax.device_count(), "compile_s": b.compile_s}), flush=True)
    for line in sys.stdin:
        print(json.dumps({"step_s": b.run(int(line))}), flush=True)
    return 0


def demo_config(steps, data_dir, *, log_steps):
    """The demo config as the CLI builds it; evals off, checkpoints only at the end."""
    from herolion.config import load_config
    root = Path(__file__).resolve().parents[1]
    config = load_config(f"{root}/herolion/configs/demo.py:steps={steps},data_dir={data_dir}")
    config.evals = {}
    config.eval_steps = 0
    config.log_steps = log_steps
    config.ckpt_steps = 10 ** 9
    return config


class InMemoryBatches:
    """Pre-made batches, cycled, checkpointable like a grain iterator (bytes state): the
    loop with its input pipeline's host work taken out, to separate the two costs."""

    def __init__(self, batches):
        self.batches, self.i = batches, 0

    def __iter__(self):
        return self

    def __next__(self):
        batch = self.batches[self.i % len(self.batches)]
        self.i += 1
        return batch

    def get_state(self):
        return json.dumps({"i": self.i}).encode()

    def set_state(self, state):
        self.i = json.loads(state)["i"]


def loop_vs_bare(config, workdir, bare, in_memory=False):
    """The real ``loop.train`` and the bare jitted step, alternating in segments of
    ``log_steps`` steps in this process: each time the loop flushes its metrics (which
    waits for the step, then logs), ``bare`` runs as many steps. Why alternate: the
    machine's speed drifts by +-5 % within a minute, more than the overhead to measure;
    neighbouring segments see the same machine. Returns one (loop s/step, bare s/step
    before it, bare s/step after it) per loop segment, the first (compilation) dropped.
    ``in_memory``: the pipeline's first 16 batches, cycled, instead of the live pipeline."""
    from herolion.data import pipeline
    from herolion.trainer import loop
    n = config.log_steps
    handover, resume, bare_s = [], [], []
    real_flush, real_iter = loop.flush_metrics, pipeline.train_iterator

    def flush_then_bare(*args, **kwargs):
        out = real_flush(*args, **kwargs)
        handover.append(time.perf_counter())
        bare_s.append(bare.run(n))
        resume.append(time.perf_counter())
        return out

    if in_memory:
        it = real_iter(config.input, seed=config.get("seed", 0))
        batches = [next(it) for _ in range(16)]
        pipeline.train_iterator = lambda *a, **k: InMemoryBatches(batches)
    loop.flush_metrics = flush_then_bare
    try:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            loop.train(config, workdir)
    finally:
        pipeline.train_iterator, loop.flush_metrics = real_iter, real_flush
    return [((handover[k] - resume[k - 1]) / n, bare_s[k - 1], bare_s[k])
            for k in range(1, len(handover))]


def overhead(segments):
    """Median over loop segments of loop time / mean of the bare segments around it, - 1."""
    return statistics.median(t / ((b0 + b1) / 2) for t, b0, b1 in segments) - 1


def overhead_interval(segments, draws=2000, level=0.9):
    """A bootstrap ``level`` interval of :func:`overhead`: how far the machine's noise
    alone moves the median over this many segments (resampled with replacement)."""
    rng = np.random.default_rng(0)
    ratios = np.array([t / ((b0 + b1) / 2) - 1 for t, b0, b1 in segments])
    medians = np.median(rng.choice(ratios, (draws, len(ratios))), axis=1)
    return tuple(np.quantile(medians, [(1 - level) / 2, (1 + level) / 2]))


def host_work(config, n=100):
    """Seconds per batch of the input pipeline alone (the loop's host work besides the
    jitted call; in one process the call itself places the numpy batch)."""
    from herolion.data import pipeline
    it = pipeline.train_iterator(config.input, seed=0)
    next(it)
    t0 = time.perf_counter()
    for _ in range(n):
        next(it)
    return (time.perf_counter() - t0) / n


SAVE_MODES = {   # Checkpointer kwargs
    "background": dict(async_save=True, background=True),   # the default on 1-process CPU
    "async": dict(async_save=True, background=False),       # orbax's own async save
    "sync": dict(async_save=False),
}


def save_blocking(state, workdir, *, rounds=5):
    """Per save mode (``SAVE_MODES``): the median seconds ``save`` blocks the caller, the
    median until the save has committed, and the calling thread's CPU seconds while
    blocked. The modes alternate round by round (the machine's load drifts), each after
    a ``gc.collect()``; the first save of each pays orbax's setup.

    Why the CPU time too: on 2 cores orbax's blocking part competes with the same save's
    background writes (tensorstore's threads, orbax's commit threads) for the cores and
    the GIL; its wall time then swings 3-5x round to round while its own CPU stays put."""
    import gc
    from herolion.checkpoints import Checkpointer
    times = {mode: {"block": [], "commit": [], "cpu": []} for mode in SAVE_MODES}
    with contextlib.ExitStack() as stack:
        ckpts = {mode: stack.enter_context(Checkpointer(workdir / mode, keep_last=2, **kw))
                 for mode, kw in SAVE_MODES.items()}
        for i in range(rounds + 1):
            for mode, ckpt in ckpts.items():
                gc.collect()
                jax.block_until_ready(state)
                c0, t0 = time.thread_time(), time.perf_counter()
                ckpt.save(i + 1, params=state.params, opt_state=state.opt_state,
                          state={"rng": np.asarray(jax.device_get(state.rng)).tolist()})
                c1, t1 = time.thread_time(), time.perf_counter()
                ckpt.wait()
                t2 = time.perf_counter()
                if i:
                    for key, value in (("block", t1 - t0), ("commit", t2 - t0), ("cpu", c1 - c0)):
                        times[mode][key].append(value)
    med = {mode: {k: statistics.median(v) for k, v in t.items()} for mode, t in times.items()}
    return med, times


def cpu_main(args):
    print(f"jax {jax.__version__} backend={jax.default_backend()} devices={jax.device_count()} "
          f"cpus={os.cpu_count()} XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}", flush=True)
    rows = []
    vit_s = StepBench(vit_config("S/16", batch=8), (224, 224, 3), 1000)
    vit_s.run(1)
    benches = [("ViT-S/16 224px b8 Lion, 1 device", vit_s)]
    cores = os.cpu_count() or 1
    if cores > 1 and not args.no_per_core:
        per_core = PerCoreStep(cores, vit_s.flops, vit_s.batch_size)
        benches.append((f"ViT-S/16 224px b8 Lion, {per_core.devices} devices x 1 thread "
                        f"(data={per_core.devices})", per_core))
    results = interleaved_mfu([b for _, b in benches], args.rounds, args.vit_steps)
    rows += [(name, b, *r) for (name, b), r in zip(benches, results)]
    if len(benches) > 1:
        per_core.close()
    demo_model = dict(patch_size=(8, 8), width=64, depth=4, mlp_dim=128, num_heads=4,
                      num_classes=10, pool_type="gap", posemb="learn")
    demo_cfg = dict(vit_config(None, batch=128, model=demo_model), lr=1e-3, wd=0.1)  # demo's
    demo = StepBench(demo_cfg, (32, 32, 3), 10)
    demo.run(5)
    rows.append(("demo ViT 32px b128 Lion", demo, *interleaved_mfu([demo], args.rounds, 30)[0]))

    print("\nMFU = compiled step FLOPs (XLA cost_analysis; the one-device step's for every "
          "ViT-S/16 row) / step time / matmul peak (jitted f32 2048x2048 jnp.dot on all cores, "
          "measured between runs of steps; median over rounds)")
    print("| step | images/s | step ms | GFLOP/step | GFLOP/s | matmul peak GFLOP/s | MFU "
          "| compile s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, b, t, peak, mfu, peaks in rows:
        print(f"| {name} | {b.batch_size / t:.1f} | {t * 1e3:.1f} | {b.flops / 1e9:.2f} | "
              f"{b.flops / t / 1e9:.1f} | {peak / 1e9:.1f} (range {min(peaks) / 1e9:.0f}-"
              f"{max(peaks) / 1e9:.0f}) | {mfu:.3f} | {b.compile_s:.1f} |", flush=True)

    # The loop vs the bare step, on the demo's shapes.
    with tempfile.TemporaryDirectory() as tmp:
        from herolion.data.prepare import prepare
        data_dir = Path(tmp) / "tfds"
        with contextlib.redirect_stdout(sys.stderr):   # tfds' progress bars
            prepare("digits", data_dir)
        config = demo_config(args.loop_steps, data_dir, log_steps=args.loop_log_steps)
        demo.run(5)
        live = loop_vs_bare(config, Path(tmp) / "run", demo)
        mem = loop_vs_bare(config, Path(tmp) / "run_mem", demo, in_memory=True)
        data_s = host_work(config)
    print(f"\nloop.train on the demo ({args.loop_steps} steps) alternating with the bare "
          f"jitted step (same shapes) every {args.loop_log_steps} steps; overhead = median "
          f"over loop segments of loop s/step / mean of the bare segments either side - 1")
    print("| run | segments | loop steps/s | bare steps/s | overhead | 90% interval "
          "| per segment |")
    print("|---|---|---|---|---|---|---|")
    for name, segs in (("live grain pipeline", live), ("in-memory batches", mem)):
        per = ", ".join(f"{t / ((b0 + b1) / 2) - 1:+.1%}" for t, b0, b1 in segs)
        low, high = overhead_interval(segs)
        print(f"| loop.train, {name} | {len(segs)} | "
              f"{1 / statistics.median(t for t, _, _ in segs):.2f} | "
              f"{1 / statistics.median(b for _, b, _ in segs):.2f} | "
              f"{overhead(segs):+.1%} | {low:+.1%} … {high:+.1%} | {per} |")
    print(f"loop overhead (target <= 3%): {overhead(live):+.1%} with the input pipeline, "
          f"{overhead(mem):+.1%} for the loop's own per-step work")
    print(f"  host work per step: input pipeline alone {data_s * 1e3:.2f} ms/batch "
          f"({1 / data_s:.0f} batches/s, {config.input.batch_size / data_s:.0f} images/s); "
          f"bare step "
          f"{1e3 * statistics.median(b for _, b, _ in live):.2f} ms", flush=True)

    # A save's blocking time, async (background thread / orbax's own) vs sync, ViT-S/16.
    with tempfile.TemporaryDirectory() as tmp:
        med, all_times = save_blocking(vit_s.state, Path(tmp))
    mb = sum(x.nbytes for x in jax.tree.leaves((vit_s.state.params, vit_s.state.opt_state))) / 2**20
    sync = med["sync"]["block"]
    print(f"\nViT-S/16 checkpoint ({mb:.0f} MiB params+opt_state), the modes alternating, "
          f"median of {len(all_times['sync']['block'])} (ms, each round in brackets):")
    print("| save | blocks the loop | / sync save | loop thread CPU while blocked | "
          "committed after |")
    print("|---|---|---|---|---|")
    for mode, m in med.items():
        each = ", ".join(f"{t * 1e3:.0f}" for t in all_times[mode]["block"])
        print(f"| {mode} | {m['block'] * 1e3:.0f} ({each}) | {m['block'] / sync:.3f} | "
              f"{m['cpu'] * 1e3:.0f} | {m['commit'] * 1e3:.0f} |")
    print(f"async blocking / sync save (target <= 0.10): {med['background']['block'] / sync:.3f}"
          f" with the default background save, {med['async']['block'] / sync:.3f} with "
          f"orbax's own async save", flush=True)


# -- GPU -----------------------------------------------------------------------------------

def gpu_child(optimizer, batches, steps, variant="B/16", rounds=5):
    """Try ``batches`` largest first; print one JSON line for the first that fits."""
    failed = []
    for batch in batches:
        try:
            b = StepBench(vit_config(variant, optimizer=optimizer, batch=batch, dtype="bfloat16"),
                          (224, 224, 3), 1000)
            t = b.timed(3, rounds, steps)
        except Exception as err:   # XlaRuntimeError RESOURCE_EXHAUSTED, or compile-time OOM
            if "RESOURCE_EXHAUSTED" not in str(err) and "out of memory" not in str(err).lower():
                raise
            failed.append(batch)
            b = None
            jax.clear_caches()
            continue
        stats = jax.devices()[0].memory_stats() or {}
        print(json.dumps({"optimizer": optimizer, "batch": batch, "step_s": t,
                          "flops": b.flops, "peak_bytes": stats.get("peak_bytes_in_use"),
                          "failed_batches": failed, "device": str(jax.devices()[0])}), flush=True)
        return 0
    print(json.dumps({"optimizer": optimizer, "failed_batches": failed}), flush=True)
    return 1


def gpu_main(args):
    batches = [int(b) for b in args.gpu_batches.split(",")]
    print(f"jax {jax.__version__} backend={jax.default_backend()} device={jax.devices()[0]}")
    print(f"ViT-{args.gpu_variant} 224px, bf16 compute (f32 params), largest batch of {batches} that fits; "
          f"MFU vs {args.peak_tflops:.0f} TFLOP/s\n", flush=True)
    print("| optimizer | batch | images/s | step ms | TFLOP/step | TFLOP/s | MFU | peak memory GiB |")
    print("|---|---|---|---|---|---|---|---|")
    for optimizer in ("lion", "adamw"):
        proc = subprocess.run([sys.executable, __file__, "--gpu-child", optimizer,
                               "--gpu-batches", ",".join(map(str, batches)),
                               "--gpu-steps", str(args.gpu_steps),
                               "--gpu-variant", args.gpu_variant],
                              capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            print(f"| {optimizer} | failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]} |")
            continue
        r = json.loads(lines[-1])
        tflops = r["flops"] / r["step_s"] / 1e12
        peak = r["peak_bytes"] / 2**30 if r["peak_bytes"] else float("nan")
        note = f" (after OOM at {r['failed_batches']})" if r["failed_batches"] else ""
        print(f"| {optimizer} | {r['batch']}{note} | {r['batch'] / r['step_s']:.0f} | "
              f"{r['step_s'] * 1e3:.1f} | {r['flops'] / 1e12:.2f} | {tflops:.0f} | "
              f"{tflops * 1e12 / (args.peak_tflops * 1e12):.3f} | {peak:.1f} |", flush=True)
        # Same batch for both optimizers where it fits: a like-for-like memory comparison.
        batches = [b for b in batches if b <= r["batch"]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="ViT-B/16 bf16 Lion vs AdamW only")
    parser.add_argument("--gpu-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--gpu-batches", default="256,192,128,96,64,32")
    parser.add_argument("--gpu-steps", type=int, default=10)
    parser.add_argument("--gpu-variant", default="B/16", help="for a CPU smoke test: Ti/16")
    parser.add_argument("--gpu-rounds", type=int, default=5, help="timed rounds (median)")
    parser.add_argument("--peak-tflops", type=float, default=H100_BF16_PEAK / 1e12)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vit-steps", type=int, default=2)
    parser.add_argument("--loop-steps", type=int, default=1050,
                        help="20 segments of --loop-log-steps after the first")
    parser.add_argument("--loop-log-steps", type=int, default=50)
    parser.add_argument("--no-per-core", action="store_true",
                        help="skip the ViT-S/16 row on one XLA device per core")
    parser.add_argument("--per-core-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.per_core_child:
        return per_core_child()
    if args.gpu_child:
        return gpu_child(args.gpu_child, [int(b) for b in args.gpu_batches.split(",")],
                         args.gpu_steps, args.gpu_variant, args.gpu_rounds)
    if args.gpu or jax.default_backend() == "gpu":
        return gpu_main(args)
    return cpu_main(args)


if __name__ == "__main__":
    sys.exit(main())
