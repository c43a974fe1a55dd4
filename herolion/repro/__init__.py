"""`herolion repro`: the paper's small-scale protocol (β ablation, lr×λ grid, flatness) on digits.

Modules: ``data`` (digits in memory), ``grid`` (the hyperparameter grids), ``train`` (one
jitted, vmapped train loop per optimizer), ``flatness`` (Table 6's perturbed loss),
``plots`` (Figure 2 / Table 6 figures), ``report`` (runs it all, writes results.json).
"""
