"""The hyperparameter grids: one log grid of (lr, λ) per optimizer.

Lion's grid is AdamW's with lr 3x lower and λ 3x higher (Table 5's convention), so the
effective decay lr·λ of matching cells is the same and the heatmaps line up. The
single-β ablation ('signum', Section 3.2) uses Lion's grid: it is Lion with β1 = β2.
"""
from dataclasses import dataclass

ADAMW_LR = (1e-3, 3e-3, 1e-2, 3e-2)
ADAMW_WD = (0.01, 0.1, 1.0)
QUICK_ADAMW_LR = (3e-3, 1e-2)
QUICK_ADAMW_WD = (0.01, 0.1)


@dataclass(frozen=True)
class Grid:
    lrs: tuple
    wds: tuple

    def cells(self):
        """``(lrs, wds)``, one entry per cell, lr-major (row = lr, column = λ)."""
        pairs = [(lr, wd) for lr in self.lrs for wd in self.wds]
        return [p[0] for p in pairs], [p[1] for p in pairs]


def grids(quick=False):
    """``{optimizer: Grid}`` for the full protocol, or the reduced ``--quick`` one."""
    lrs, wds = (QUICK_ADAMW_LR, QUICK_ADAMW_WD) if quick else (ADAMW_LR, ADAMW_WD)
    lion = Grid(tuple(_round(lr / 3) for lr in lrs), tuple(_round(wd * 3) for wd in wds))
    return {"adamw": Grid(lrs, wds), "lion": lion, "signum": lion}


def _round(x):
    return float(f"{x:.1g}")
