"""How close the paper's algorithm gets to the ground truth at a small batch (issue 10's targets).

Prints, for C7's ci instance class (N = 5, T = 32, Q = 2, batch 32, 49,152 samples, seeds 0–7)
and for the README's default ``scb-verify train`` instance (N = 5, T = 64, Q = 2, batch 256,
200,000 samples, seed 0; here seeds 0–3), the median relative distances ‖A − Q*‖_F/‖Q*‖_F and
‖V − P‖_F/‖P‖_F of:

- ``pppd`` at its defaults (the sparse variant; targets: ≤ 0.1 on both);
- the ablations: λ = 0 (no regularizer), ε = 0 (plain ℓ1 instead of reweighted), a fixed
  threshold λ = 0.01 in gradient units, and the earlier reading (``variant=simplex``, λ = 0,
  decay 0.02, the default before issue 10);
- the population algorithm (exact gradients, same defaults);
- SGD at every learning rate of C7's ci grid, and the best of them.

Not a timed test: a measurement, run by hand (about a minute on 2 cores)::

    python benchmarks/recovery.py
"""

from __future__ import annotations

import numpy as np

from scb_verify.registry import load_registry
from scb_verify.runs import RunSpec
from scb_verify.task import make_task
from scb_verify.training import train

C7_CLASS = {"N": 5, "T": 32, "Q": 2, "batch": 32, "samples": 49152, "seeds": range(8)}
TRAIN_DEFAULT = {"N": 5, "T": 64, "Q": 2, "batch": 256, "samples": 200_000, "seeds": range(4)}
ROWS = [
    ("pppd", {}, "pppd (defaults)"),
    ("pppd", {"lam": 0.0}, "pppd, λ = 0"),
    ("pppd", {"eps": 0.0}, "pppd, plain ℓ1 (ε = 0)"),
    ("pppd", {"threshold": "fixed", "lam": 0.01}, "pppd, fixed λ = 0.01"),
    ("pppd", {"variant": "simplex", "lam": 0.0, "decay": 0.02}, "pppd, earlier simplex reading"),
    ("population", {}, "population (exact gradients)"),
]
SGD_LRS = (0.01, 0.03, 0.1, 0.3, 1.0)


def relative_distances(algorithm: str, settings: dict, cls: dict) -> tuple[float, float]:
    """Median over seeds of (‖A − Q*‖/‖Q*‖, ‖V − P‖/‖P‖) at the end of the budget."""
    alg = load_registry().algorithm(algorithm)
    tasks = [make_task(cls["N"], cls["T"], cls["Q"], seed=s) for s in cls["seeds"]]
    specs = [
        RunSpec(task=t, seed=s, batch=cls["batch"], samples=cls["samples"], settings=settings)
        for s, t in zip(cls["seeds"], tasks, strict=True)
    ]
    rel_A, rel_V = [], []
    for res, task in zip(train(alg, specs), tasks, strict=True):
        rel_A.append(np.linalg.norm(res.params.A - task.Qstar) / np.linalg.norm(task.Qstar))
        rel_V.append(np.linalg.norm(res.params.V - task.P) / np.linalg.norm(task.P))
    return float(np.median(rel_A)), float(np.median(rel_V))


def main() -> None:
    for title, cls in (("C7's ci class", C7_CLASS), ("default `train` instance", TRAIN_DEFAULT)):
        print(
            f"\n{title}: N={cls['N']} T={cls['T']} Q={cls['Q']} batch={cls['batch']} "
            f"samples={cls['samples']} seeds={list(cls['seeds'])}"
        )
        print(f"  {'algorithm':<34} {'‖A−Q*‖/‖Q*‖':>12} {'‖V−P‖/‖P‖':>10}")
        for algorithm, settings, label in ROWS:
            a, v = relative_distances(algorithm, settings, cls)
            print(f"  {label:<34} {a:>12.3f} {v:>10.3f}")
        sgd = {lr: relative_distances("sgd", {"lr": lr}, cls) for lr in SGD_LRS}
        for lr, (a, v) in sgd.items():
            print(f"  {f'sgd lr={lr:g}':<34} {a:>12.3f} {v:>10.3f}")
        best = min(sgd, key=lambda lr: np.hypot(*sgd[lr]))
        print(f"  best sgd: lr={best:g}")


if __name__ == "__main__":
    main()
