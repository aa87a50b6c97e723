"""How close the paper's algorithm gets to the ground truth at a small batch (issue 10's targets).

Prints, for C7's ci instance class (N = 5, T = 32, Q = 2, batch 32, 49,152 samples, seeds 0–7)
and for the README's default ``scb-verify train`` instance (N = 5, T = 64, Q = 2, batch 256,
200,000 samples, seed 0; here seeds 0–3), the median relative distances ‖A − Q*‖_F/‖Q*‖_F and
‖V − P‖_F/‖P‖_F of:

- ``pppd`` at its defaults (the sparse variant; targets: ≤ 0.1 on both);
- the ablations: λ = 0 (no regularizer), ε = 0 (plain ℓ1 instead of reweighted), a fixed
  threshold λ = 0.01 in gradient units, the slower step schedule decay = 0.02 (issue 19: it
  flattens C5's finetuning in T, docs/reference.md §5.1.5), and the earlier reading
  (``variant=simplex``, λ = 0, decay 0.02, the default before issue 10);
- the population algorithm (exact gradients, same defaults);
- SGD at every learning rate of C7's ci grid, and the best of them.

Not a timed test: a measurement, run by hand (about a minute on 2 cores)::

    python benchmarks/recovery.py

With ``--beyond`` it measures pppd at its defaults on classes beyond C7's instead, one axis at a
time from C7's ci class (N = 5, 10, 20; T = 32, 128, 512; Q = 2, 4; Dirichlet concentration
0.5, 2, 20 — larger is a weaker signal, docs/reference.md §1.1), batch 32, at a sample budget
scaled like the stage-2 bound from C7's 49,152 (× (N/5)²·(Q/2)·ln T/ln 32: poly(N, Q)·log T,
§6.4), with the cost model's time estimate (:func:`scb_verify.cost.estimate`) printed per class;
it says where the method stops recovering (median ≤ 0.1 on both distances)::

    python benchmarks/recovery.py --beyond
"""

from __future__ import annotations

import math
import sys

import numpy as np

from scb_verify.cost import duration, estimate
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
    ("pppd", {"decay": 0.02}, "pppd, decay 0.02 (slower schedule)"),
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


#: One axis at a time from C7's ci class: (N, T, Q, concentration).
BEYOND = [
    (5, 32, 2, 0.5),
    (10, 32, 2, 0.5),
    (20, 32, 2, 0.5),
    (5, 128, 2, 0.5),
    (5, 512, 2, 0.5),
    (5, 32, 4, 0.5),
    (5, 32, 2, 2.0),
    (5, 32, 2, 20.0),
]


def scaled_budget(N: int, T: int, Q: int) -> int:
    """C7's 49,152 samples scaled like the stage-2 bound poly(N, Q)·log T (exponents 2 and 1)."""
    return int(49152 * (N / 5) ** 2 * (Q / 2) * math.log(T) / math.log(32))


def beyond(seeds: range = range(4)) -> None:
    """pppd's recovery on the classes of :data:`BEYOND` (module docstring)."""
    alg = load_registry().algorithm("pppd")
    print(
        f"  {'N':>3} {'T':>4} {'Q':>2} {'conc':>5} {'samples':>9} {'est. time':>9}"
        f" {'‖A−Q*‖/‖Q*‖':>12} {'‖V−P‖/‖P‖':>10} {'recovers':>8}"
    )
    for N, T, Q, conc in BEYOND:
        samples = scaled_budget(N, T, Q)
        tasks = [make_task(N, T, Q, seed=s, concentration=conc) for s in seeds]
        specs = [
            RunSpec(task=t, seed=s, batch=32, samples=samples)
            for s, t in zip(seeds, tasks, strict=True)
        ]
        when = estimate(N, T, batch=32, samples=samples, runs=len(specs)).seconds
        rel_A, rel_V = [], []
        for res, task in zip(train(alg, specs), tasks, strict=True):
            rel_A.append(np.linalg.norm(res.params.A - task.Qstar) / np.linalg.norm(task.Qstar))
            rel_V.append(np.linalg.norm(res.params.V - task.P) / np.linalg.norm(task.P))
        a, v = float(np.median(rel_A)), float(np.median(rel_V))
        print(
            f"  {N:>3} {T:>4} {Q:>2} {conc:>5g} {samples:>9} {duration(when):>9}"
            f" {a:>12.3f} {v:>10.3f} {'yes' if max(a, v) <= 0.1 else 'no':>8}"
        )


def main() -> None:
    if "--beyond" in sys.argv[1:]:
        beyond()
        return
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
