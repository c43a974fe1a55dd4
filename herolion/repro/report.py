"""``run(...)``: the whole protocol — grids, best cells, curves, flatness, figures, JSON.

Model selection is honest: 20% of the train split is held out as validation, the best
cell per optimizer is the one with the highest mean *validation* accuracy at the end,
and the reported number is that cell's *test* accuracy (mean ± std over seeds).
"""
import json
import os
import time

import jax
import numpy as np

from herolion.repro import data, flatness, grid, plots
from herolion.repro.train import OPTIMIZERS, Setup, init_params, make_model, train_grid

SIGMAS = (0.0, 0.025, 0.05, 0.1, 0.2, 0.4)
FULL = dict(setup=Setup(), draws=32, flat_examples=256)
QUICK = dict(setup=Setup(steps=200, warmup=20, eval_every=50), draws=8, flat_examples=256)
FIGURES = ("curves.png", "heatmap_adamw.png", "heatmap_lion.png", "flatness.png")
VAL_FRACTION = 0.2


def holdout(split, fraction=VAL_FRACTION, seed=0):
    """``(train, val)``: a fixed random ``fraction`` of ``split`` held out."""
    order = np.random.default_rng(seed).permutation(len(split.labels))
    n_val = int(round(len(order) * fraction))
    pick = lambda idx: data.Split(split.images[idx], split.labels[idx])
    return pick(np.sort(order[n_val:])), pick(np.sort(order[:n_val]))


def _stats(x):
    x = np.asarray(x, np.float64)
    return float(x.mean()), float(x.std())


def summarize(name, g, setup, curves):
    """Per-cell final accuracies, the best cell (by validation) and its curve."""
    lrs, wds = g.cells()
    val, test = curves["val"][..., -1], curves["test"][..., -1]  # [seed, cell]
    cells = []
    for i, (lr, wd) in enumerate(zip(lrs, wds)):
        m, s = _stats(test[:, i])
        cells.append(dict(lr=lr, wd=wd, val_acc_mean=_stats(val[:, i])[0], test_acc_mean=m,
                          test_acc_std=s, test_acc=test[:, i].tolist()))
    best = int(np.argmax(val.mean(0)))
    steps = [(k + 1) * setup.eval_every for k in range(curves["test"].shape[-1])]
    curve = dict(step=steps, test_acc_mean=curves["test"][:, best].mean(0).tolist(),
                 test_acc_std=curves["test"][:, best].std(0).tolist(),
                 val_acc_mean=curves["val"][:, best].mean(0).tolist(),
                 train_loss_mean=curves["loss"][:, best].mean(0).tolist())
    return dict(betas=OPTIMIZERS[name][1], grid=dict(lr=list(g.lrs), wd=list(g.wds)),
                cells=cells, best=dict(cells[best], index=best), curve=curve), best


def write_figures(results, out_dir):
    """The PNGs of ``results`` (also usable on a saved results.json, to re-plot)."""
    plots.curves(results, os.path.join(out_dir, FIGURES[0]))
    plots.heatmap(results, "adamw", os.path.join(out_dir, FIGURES[1]))
    plots.heatmap(results, "lion", os.path.join(out_dir, FIGURES[2]))
    plots.flatness(results, os.path.join(out_dir, FIGURES[3]))
    return list(FIGURES)


def run(out_dir, data_dir, quick=False, seeds=None, log=print):
    """Runs the protocol and writes ``results.json`` and the PNGs into ``out_dir``."""
    t0 = time.time()
    plan = QUICK if quick else FULL
    setup, seeds = plan["setup"], list(range(seeds or (1 if quick else 3)))
    train, test = data.load(data_dir)
    train, val = holdout(train)
    arrays = {"train": (train.images, train.labels),
              "evals": {"val": (val.images, val.labels), "test": (test.images, test.labels)}}
    shapes = jax.eval_shape(lambda: init_params(make_model(setup), 0, train.images.shape[1:]))
    params_count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(shapes))
    results = dict(
        quick=quick, seeds=seeds, data=dict(dataset="digits", res=int(train.images.shape[1]),
                                            train=len(train.labels), val=len(val.labels),
                                            test=len(test.labels)),
        setup=dict(steps=setup.steps, batch=setup.batch, warmup=setup.warmup,
                   schedule="linear warmup + cosine to 0", eval_every=setup.eval_every,
                   grad_clip_norm=setup.clip, model=dict(name="vit", **setup.model),
                   params=params_count),
        selection="best cell = highest mean final validation accuracy; test accuracy reported",
        optimizers={}, runtime_s={})
    best_params = {}
    for name, g in grid.grids(quick).items():
        t = time.time()
        lrs, wds = g.cells()
        params, curves = train_grid(name, setup, arrays, lrs, wds, seeds)
        results["optimizers"][name], best = summarize(name, g, setup, curves)
        best_params[name] = jax.tree.map(lambda a, b=best: a[:, b], params)
        results["runtime_s"][name] = round(time.time() - t, 1)
        b = results["optimizers"][name]["best"]
        log(f"{name}: {len(lrs)} cells x {len(seeds)} seed(s) in {results['runtime_s'][name]}s; "
            f"best lr={b['lr']:g} wd={b['wd']:g}: test {100 * b['test_acc_mean']:.1f} "
            f"± {100 * b['test_acc_std']:.1f}%")
    t = time.time()
    n = plan["flat_examples"]
    flat = dict(sigma=list(SIGMAS), relative_to="per-tensor RMS (eps ~ N(0, (sigma*rms(W))^2))",
                draws=plan["draws"], examples=min(n, len(train.labels)), optimizers={})
    for name in ("adamw", "lion"):
        losses = flatness.perturbed_losses(setup, best_params[name], train.images[:n],
                                           train.labels[:n], SIGMAS, plan["draws"])
        per_seed = losses.mean(-1)  # [seed, sigma]
        flat["optimizers"][name] = dict(loss_mean=per_seed.mean(0).tolist(),
                                        loss_std=per_seed.std(0).tolist())
    results["flatness"] = flat
    results["runtime_s"]["flatness"] = round(time.time() - t, 1)
    log(f"flatness in {results['runtime_s']['flatness']}s")
    os.makedirs(out_dir, exist_ok=True)
    results["figures"] = write_figures(results, out_dir)
    results["runtime_s"]["total"] = round(time.time() - t0, 1)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    log(f"wrote {out_dir}/results.json and {len(FIGURES)} figures in "
        f"{results['runtime_s']['total']}s")
    return results
