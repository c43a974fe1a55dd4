"""The figures: Figure 2 (curves with the β ablation; lr × λ heatmaps) and Table 6 as a plot.

matplotlib with the Agg backend (no display on training machines); each function takes the
``results.json`` dict and writes one PNG.
"""
import numpy as np

LABELS = {"adamw": "AdamW (β=0.9/0.999)", "lion": "Lion (β1=0.9, β2=0.99)",
          "signum": "ablation: sign momentum (β1=β2=0.9)"}
COLORS = {"adamw": "tab:blue", "lion": "tab:red", "signum": "tab:green"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def curves(results, path):
    """Test accuracy (%) vs step of each optimizer's best cell: mean ± std over seeds."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
    for name, r in results["optimizers"].items():
        c = r["curve"]
        mean, std = 100 * np.asarray(c["test_acc_mean"]), 100 * np.asarray(c["test_acc_std"])
        best = r["best"]
        ax.plot(c["step"], mean, marker="o", ms=3, color=COLORS[name],
                label=f"{LABELS[name]}, lr={best['lr']:g}, λ={best['wd']:g}")
        ax.fill_between(c["step"], mean - std, mean + std, color=COLORS[name], alpha=0.2)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"digits, tiny ViT: best cell per optimizer ({len(results['seeds'])} seed(s))")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def heatmap(results, name, path):
    """Mean final test accuracy (%) over the lr × λ grid of optimizer ``name``.

    All heatmaps share one colour scale (the lowest cell of any optimizer to 100%), so
    their spread — the robustness Appendix C compares — reads the same in each.
    """
    plt = _pyplot()
    r = results["optimizers"][name]
    lrs, wds = r["grid"]["lr"], r["grid"]["wd"]
    acc = {(c["lr"], c["wd"]): 100 * c["test_acc_mean"] for c in r["cells"]}
    spread = {(c["lr"], c["wd"]): 100 * c["test_acc_std"] for c in r["cells"]}
    table = np.array([[acc[(lr, wd)] for wd in wds] for lr in lrs])
    seeds = len(results["seeds"])
    fig, ax = plt.subplots(figsize=(1.3 * len(wds) + 2.2, 0.8 * len(lrs) + 1.8), dpi=110)
    low = min(c["test_acc_mean"] for o in results["optimizers"].values() for c in o["cells"])
    im = ax.imshow(table, cmap="viridis", vmin=max(0.0, 100 * low - 2), vmax=100,
                   origin="lower", aspect="auto")
    for i in range(len(lrs)):
        for j in range(len(wds)):
            text = f"{table[i, j]:.1f}" + (f"\n±{spread[(lrs[i], wds[j])]:.1f}" if seeds > 1 else "")
            ax.text(j, i, text, ha="center", va="center",
                    color="white" if table[i, j] < (100 * low + 100) / 2 else "black", fontsize=9)
    ax.set_xticks(range(len(wds)), [f"{w:g}" for w in wds])
    ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
    ax.set_xlabel("weight decay λ (effective decay lr·λ)")
    ax.set_ylabel("peak learning rate")
    ax.set_title(f"{LABELS[name].split(' (')[0]}: test accuracy (%), mean"
                 + (f" ± std of {seeds} seeds" if seeds > 1 else ""), fontsize=10)
    fig.colorbar(im, ax=ax, label="test accuracy (%)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def flatness(results, path):
    """Training loss under relative Gaussian weight noise vs σ (mean ± std over seeds)."""
    plt = _pyplot()
    f = results["flatness"]
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
    for name, r in f["optimizers"].items():
        mean, std = np.asarray(r["loss_mean"]), np.asarray(r["loss_std"])
        ax.errorbar(f["sigma"], mean, yerr=std, marker="o", ms=4, capsize=3,
                    color=COLORS[name], label=LABELS[name])
    ax.set_xlabel("σ: noise std relative to each tensor's RMS (dimensionless)")
    ax.set_ylabel("training cross-entropy (nats)")
    ax.set_yscale("log")
    ax.set_title(f"Flatness (Table 6 style): mean over {f['draws']} noise draws\n"
                 f"(error bars: std over {len(results['seeds'])} seed(s))", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
