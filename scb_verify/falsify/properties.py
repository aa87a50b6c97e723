"""Each claim's "for all" statement as a property over its instance class (docs/reference.md §6,
§7).

An instance is a JSON dict; its ``task`` is the keyword arguments of the task generator (or, for
C1, explicit arrays), ``seed`` (stochastic claims) seeds the data. Bounds are the claims' own
sympy expressions, evaluated with ``sympy.lambdify``. Stochastic bounds hold "except with small
probability", so one instance is measured on several independent data streams and fails only
on a significant excess:

- **C1** — exact: at (P, Q*) the constrained gradient vanishes and L = ½σ²; at any feasible
  (V, A) the excess risk is ≥ 0; all to C1's own tolerance.
- **C2, C4, C5** — final error / samples-to-ε against C·f, with C calibrated by
  :func:`~scb_verify.checks.bound_check` (the upper 95% bootstrap end of the median, maximized
  over calibration instances). The claims record no calibrated C, so the falsifier calibrates on
  a fixed set of instances with the same measurement; each searched instance is the check's
  held-out point, and fails when its verdict is *violated* (the lower end of its median's
  interval lies above C·f).
- **C6** — ‖D‖ ≤ C·f(m, T, δ) except with probability δ: R replicate batches give an exceedance
  count; the instance fails when the Clopper–Pearson lower end for the exceedance probability
  (level :data:`C6_LEVEL`) lies above δ. C is calibrated on C6's own grid (empirical
  (1 − δ)-quantiles of ‖D‖ / f, maximized over points and δ).

Every stochastic failure must recur on fresh data to count (:func:`.engine.measure`).

Not here: C3 (a scaling shape over a grid), C7 (an ordering at fixed settings) and C8 (a
similarity threshold) quantify over no instance class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

from scb_verify.batch_rule import CellOutcome, batch_grid, seeded_cell, smallest_batch_search
from scb_verify.checks import bound_check
from scb_verify.claim import Job
from scb_verify.claimkit import final_value
from scb_verify.claims import c1_realizability as c1
from scb_verify.claims import c2_bigram as c2
from scb_verify.claims import c4_stage2 as c4
from scb_verify.claims import c5_transfer as c5
from scb_verify.claims import c6_concentration as c6
from scb_verify.falsify.engine import Evaluation, Falsifier, bound_function
from scb_verify.learner import Milestone, Params, runs_per_seed
from scb_verify.population import Population
from scb_verify.runner import execute_job
from scb_verify.stats import binomial_interval
from scb_verify.strategies import (
    linear_params,
    sparse_attention,
    task_sizes,
    tasks,
    transition_matrices,
)
from scb_verify.task import SCBTask, bigram_task, make_task, related_task

#: Divisor of the bound in the negative controls of the stochastic claims.
CONTROL_FACTOR = 10.0
#: Data seeds are drawn from this range (torch generators take any of them).
SEEDS = st.integers(0, 2**32 - 1)
#: Level of C6's per-instance interval: α = 1e-3 keeps a 50-example search's family-wise false
#: alarm ≤ 5% (Bonferroni); confirmation on fresh data then makes a false one ≤ K·1e-6.
C6_LEVEL = 0.999


def _data_seeds(instance: dict, count: int) -> list[int]:
    """``count`` disjoint data seeds of an instance: seed·count + i (the next instance seed,
    used for confirmation, starts the next block)."""
    return [instance["seed"] * count + i for i in range(count)]


def build_task(spec: dict[str, Any]) -> SCBTask:
    """The task of an instance: explicit arrays (``P``, ``Qstar``, ``Q``) or make_task kwargs."""
    if "P" in spec:
        return SCBTask.from_arrays(np.array(spec["P"]), np.array(spec["Qstar"]), Q=spec["Q"])
    return make_task(**spec)


def _held_out(
    rows: np.ndarray,
    f_values: Sequence[float],
    row: Sequence[float],
    f_value: float,
    control: bool,
    what: str,
) -> Evaluation:
    """bound_check with the calibration ``rows`` (bounds ``f_values``) and ``row`` held out;
    under ``control`` the held-out bound is divided by :data:`CONTROL_FACTOR`."""
    f_test = f_value / CONTROL_FACTOR if control else f_value
    check = bound_check(
        np.vstack([rows, row]), [*f_values, f_test], np.arange(len(rows) + 1) < len(rows)
    )
    point = check.evidence["points"][-1]
    limit = check.evidence["C"] * f_test
    lower, median = point["ci"][0], point["median"]
    holds = point["verdict"] != "violated"
    text = (
        f"{what}: median {median:.4g}, 95% lower end {lower:.4g} "
        f"{'<=' if holds else '>'} C·f = {limit:.4g} (C = {check.evidence['C']:.4g})"
    )
    return Evaluation(
        lower,
        limit,
        holds,
        text,
        {
            "per_seed": list(map(float, row)),
            "median": median,
            "ci": point["ci"],
            "C": check.evidence["C"],
            "f": f_test,
            "verdict": point["verdict"],
        },
    )


def _calibrated_falsifier(
    claim: str,
    statement: str,
    parameters: dict[str, str],
    instances: st.SearchStrategy[dict],
    calibration: list[dict],
    measured: Callable[[dict], list[float]],
    bound: Callable[[dict], float],
    what: str,
) -> Falsifier:
    """A falsifier of ``measured(instance)`` (one value per data seed) ≤ C·``bound(instance)``,
    C calibrated by bound_check on the ``calibration`` instances (measured once per process);
    every searched instance is the held-out point."""

    @functools.cache
    def calibrated() -> tuple[np.ndarray, list[float]]:
        return np.array([measured(i) for i in calibration]), [bound(i) for i in calibration]

    def evaluate(instance: dict, control: bool) -> Evaluation:
        return _held_out(*calibrated(), measured(instance), bound(instance), control, what)

    def evidence() -> dict[str, Any]:
        rows, f_values = calibrated()
        # bound_check needs a held-out point; C depends on the calibration rows alone.
        constant = _held_out(rows, f_values, rows[0], f_values[0], False, what).details["C"]
        return {
            "source": "calibrated by the falsifier (the claim records no calibrated C): "
            "checks.bound_check on these instances, same measurement",
            "C": constant,
            "instances": calibration,
            "f": f_values,
            "measured": rows,
        }

    return Falsifier(
        claim=claim,
        statement=statement,
        parameters=parameters,
        instances=instances,
        evaluate=evaluate,
        control=f"the bound divided by {CONTROL_FACTOR:g} (C still calibrated on the true bound)",
        stochastic=True,
        calibration=evidence,
    )


# --------------------------------------------------------------------------- C1


def _c1_instances() -> st.SearchStrategy[dict]:
    @st.composite
    def draw_instance(draw) -> dict:
        if draw(st.booleans()):
            task = draw(tasks())
            spec = task.describe()
        else:
            n, t, q = draw(task_sizes())
            spec = {
                "P": draw(transition_matrices(N=n)).tolist(),
                "Qstar": draw(sparse_attention(T=t, N=n, Q=q)).tolist(),
                "Q": q,
            }
            task = build_task(spec)
        V, A = draw(linear_params(N=task.N, T=task.T))
        return {"task": spec, "V": V.tolist(), "A": A.tolist()}

    return draw_instance()


def _c1_evaluate(instance: dict, control: bool) -> Evaluation:
    """max(‖∇L(P, Q*)‖ on 1ᵀa_k = 1, |L(P, Q*) − ½σ²|, −(L(V, A) − ½σ²)) ≤ tolerance; the
    control takes the identities at (P, A) instead, where the gradient does not vanish."""
    pop = Population.of(build_task(instance["task"]))
    V = torch.tensor(instance["V"], dtype=torch.float64)
    A = torch.tensor(instance["A"], dtype=torch.float64)
    at = (pop.P, A) if control else (pop.P, pop.Qstar)
    gV, gA = pop.grad_V(*at), pop.grad_A(*at)
    gA = gA - gA.mean(0, keepdim=True)  # the constraint 1ᵀa_k = 1 sees only this component
    parts = {
        "gradient_norm": float(torch.sqrt((gV**2).sum() + (gA**2).sum())),
        "abs_excess_at_truth": abs(float(pop.excess_risk(*at))),
        "negative_excess_elsewhere": -float(pop.excess_risk(V, A)),
    }
    worst = max(parts, key=parts.get)
    measured = parts[worst]
    holds = measured <= c1.TOLERANCE
    text = f"{worst} = {measured:.3g} {'<=' if holds else '>'} tolerance {c1.TOLERANCE:g}"
    return Evaluation(measured, c1.TOLERANCE, holds, text, parts)


C1 = Falsifier(
    claim="C1",
    statement="for every SCB instance (P, Q*) and every feasible (V, A) (1ᵀa_k = 1): "
    "‖∇L(P, Q*)‖ = 0 on the constraint set, L(P, Q*) − ½σ² = 0, "
    "L(V, A) − ½σ² ≥ 0 — exact, to C1's tolerance",
    parameters={
        "task": "tasks(): N 2..8, T 1..32, Q 1..T, Dirichlet concentration 0.1..10 (log scale), "
        "supports random/window/shared, weights dirichlet/uniform, any seed; or "
        "transition_matrices(N) (any ergodic P, zeros allowed) with "
        "sparse_attention(T, N, Q)",
        "(V, A)": "linear_params(N, T): V entries in [−2, 2], columns of A summing to 1",
        "tolerance": f"{c1.TOLERANCE:g} (C1's)",
    },
    instances=_c1_instances(),
    evaluate=_c1_evaluate,
    control="the identities at (P, A) with A the drawn attention instead of Q*",
    stochastic=False,
)


# --------------------------------------------------------------------------- C2

_C2_GRID = c2.Bigram().grid("smoke")
_C2_SETTINGS = c2.Bigram().settings_for("pppd")
_C2_BOUND = bound_function(c2.DIST_V, (c2.N, c2.n), {c2.C: 1, c2.gamma: c2.GAMMA_MIN})
_C2_SAMPLES = (1024, 2048, 4096)
_C2_CALIBRATION = [
    {
        "task": {"N": _C2_GRID["N"], "T": _C2_GRID["T"], "seed": s, "concentration": 0.5},
        "samples": n,
        "seed": s,
    }
    for s in range(3)
    for n in (_C2_SAMPLES[0], _C2_SAMPLES[-1])
]


def _c2_distances(instance: dict) -> list[float]:
    """Final ‖V − P‖_F of pppd (C2's settings and batch) on the bigram instance, one run per
    data seed (as many as C2 has seeds)."""
    task = bigram_task(**instance["task"])
    specs = runs_per_seed(
        ((seed, task) for seed in _data_seeds(instance, _C2_GRID["seeds"])),
        batch=_C2_GRID["batch"],
        samples=instance["samples"],
        settings=_C2_SETTINGS,
        record_points=2,
    )
    return [final_value(r, "dist_V") for r in execute_job(Job(c2.Bigram.learner, tuple(specs)))]


C2 = _calibrated_falsifier(
    "C2",
    "for every bigram instance (q_k = e_T) in the class and every budget n: the final "
    "‖V − P‖_F of pppd from uniform init is ≤ C·N·n^(−1/10) (C2's bound at its slowest "
    "admitted rate γ = 1/10), C calibrated",
    {
        "N": "2..6",
        "T": f"{_C2_GRID['T']} (C2's smoke grid; the bound has no T, so C is per T)",
        "P": "Dirichlet(0.5) columns (C2's), any instance seed",
        "n": f"{', '.join(map(str, _C2_SAMPLES))} samples (C2's smoke range)",
        "runs": f"pppd, batch {_C2_GRID['batch']}, settings {_C2_SETTINGS}, "
        f"{_C2_GRID['seeds']} data seeds per instance",
        "calibration": f"N = {_C2_GRID['N']}, instance seeds 0..2, n = {_C2_SAMPLES[0]} and "
        f"{_C2_SAMPLES[-1]}",
    },
    st.fixed_dictionaries(
        {
            "task": st.fixed_dictionaries(
                {
                    "N": st.integers(2, 6),
                    "T": st.just(_C2_GRID["T"]),
                    "seed": SEEDS,
                    "concentration": st.just(0.5),
                }
            ),
            "samples": st.sampled_from(_C2_SAMPLES),
            "seed": SEEDS,
        }
    ),
    _C2_CALIBRATION,
    _c2_distances,
    lambda instance: _C2_BOUND(instance["task"]["N"], instance["samples"]),
    "‖V − P‖_F",
)


# --------------------------------------------------------------------------- C4, C5

#: Data seeds per instance of the samples-to-ε claims.
STAGE_DATA_SEEDS = 5
_C4_GRID = c4.StageTwo().grid("smoke")
_C5_GRID = c5.Transfer().grid("smoke")
_C4_SETTINGS = c4.StageTwo().settings_for("pppd")
_C5_SETTINGS = c5.Transfer().settings_for("pppd")


def _stage_bound(claim, expr, grid, eps: float) -> Callable[[dict], float]:
    """The claim's bound C·N^a·Q^b·ε^(−c)·log T as a function of the instance's T. The class
    fixes N, Q and ε (the grid's), so N^a·Q^b·ε^(−c) is a constant absorbed in C: C = a = b =
    c = 1."""
    fixed = {claim.C: 1, claim.a: 1, claim.b: 1, claim.c: 1}
    fixed.update({claim.N: grid["N"], claim.Q: grid["Q"], claim.eps: eps})
    f = bound_function(expr, (claim.T,), fixed)
    return lambda instance: f(instance["task"]["T"])


def _stage_task(grid) -> dict[str, Any]:
    """The make_task arguments a samples-to-ε claim fixes (its smoke grid's N, Q, weights)."""
    return {"N": grid["N"], "Q": grid["Q"], "concentration": 0.5, "weights": grid["weights"]}


def _stage_instances(grid, **extra) -> st.SearchStrategy[dict]:
    """Tasks with the grid's N, Q, weights, T in 8..64, any support pattern and seed; a data
    seed; ``extra`` keys."""
    task = tasks(T=st.integers(8, 64), seed=SEEDS, **_stage_task(grid)).map(SCBTask.describe)
    return st.fixed_dictionaries({"task": task, **extra, "seed": SEEDS})


def _stage_calibration_instances(grid, **extra) -> list[dict]:
    """T = 8, 16, 32 with instance seeds 0, 1, 2, random supports."""
    return [
        {"task": {**_stage_task(grid), "T": t, "seed": s, "support": "random"}, **extra, "seed": s}
        for s, t in enumerate((8, 16, 32))
    ]


def _stage_parameters(grid, what: str, settings: dict) -> dict[str, str]:
    return {
        "N, Q, ε": f"{grid['N']}, {grid['Q']}, {what} (the claim's smoke grid; N^a·Q^b·ε^(−c) "
        "is then a constant)",
        "T": "8..64",
        "task": f"make_task, Dirichlet(0.5) P, {grid['weights']} weights, supports "
        "random/window/shared, any seed",
        "runs": f"pppd {settings or '(defaults)'}, smallest successful batch up to "
        f"{grid['max_batch']}, cap {grid['cap']} steps, {STAGE_DATA_SEEDS} data seeds per instance",
        "calibration": "T = 8, 16, 32 (instance seeds 0, 1, 2), random supports",
    }


def _smallest_batch(cell, milestone: Milestone, grid) -> CellOutcome:
    """Samples to ``milestone`` at the smallest successful batch (the claims' rule, grid, cap)."""
    return _run_serially(
        smallest_batch_search(
            "pppd", {0: cell}, [milestone], cap=grid["cap"], batches=batch_grid(grid["max_batch"])
        )
    )[0]


def _samples(outcome: CellOutcome, grid) -> list[float]:
    """Per seed samples; a censored cell counts the largest budget tried (a lower bound)."""
    if outcome.censored:
        return [float(grid["max_batch"] * grid["cap"])] * len(outcome.samples)
    return outcome.samples


def _run_serially(measurement):
    """Drive a claim measurement generator in this process, job by job."""
    try:
        jobs = next(measurement)
        while True:
            jobs = measurement.send([execute_job(job) for job in jobs])
    except StopIteration as stop:
        return stop.value


def _c4_samples(instance: dict) -> list[float]:
    """Per data seed, samples from the stage-1 hand-off (ρ ≥ ρ₁, reached from uniform at the
    smallest successful batch) to ρ ≥ 1 − ε, as C4 measures them; NaN for a seed that never
    handed off (no measurement)."""
    task = make_task(**instance["task"])
    seeds = _data_seeds(instance, STAGE_DATA_SEEDS)
    rho1 = Milestone("correlation", _C4_GRID["rho1"])
    phase1 = _smallest_batch(seeded_cell(seeds, lambda _: task, _C4_SETTINGS), rho1, _C4_GRID)
    handoff = {r.seed: r.params for r in phase1.results if r.milestones[rho1.name] is not None}
    if not handoff:
        return [float("nan")] * len(seeds)
    cell = seeded_cell(sorted(handoff), lambda _: task, _C4_SETTINGS, init_of=handoff.__getitem__)
    phase2 = _smallest_batch(cell, Milestone("correlation", 1 - _C4_GRID["eps"][0]), _C4_GRID)
    samples = dict(zip(sorted(handoff), _samples(phase2, _C4_GRID), strict=True))
    return [samples.get(s, float("nan")) for s in seeds]


def _c5_samples(instance: dict) -> list[float]:
    """Per data seed, finetuning samples to ρ(A, Q′) ≥ 1 − ε from the pretrained (P, Q*) on
    the downstream task (C5's related_task, seed + 1000), at the smallest successful batch."""
    pre = make_task(**instance["task"])
    down = related_task(
        pre, keep=_C5_GRID["keep"], seed=pre.meta["seed"] + 1000, perturb_P=instance["perturb_P"]
    )
    warm = Params(pre.P.copy(), pre.Qstar.copy())
    seeds = _data_seeds(instance, STAGE_DATA_SEEDS)
    cell = seeded_cell(seeds, lambda _: down, _C5_SETTINGS, init_of=lambda _: warm)
    target = Milestone("correlation", 1 - _C5_GRID["eps"])
    return _samples(_smallest_batch(cell, target, _C5_GRID), _C5_GRID)


C4 = _calibrated_falsifier(
    "C4",
    "for every task in the class: the samples from the stage-1 hand-off (ρ ≥ ρ₁) to "
    "ρ ≥ 1 − ε are ≤ C·N^a·Q^b·ε^(−c)·log T (C4's bound), C calibrated",
    {
        **_stage_parameters(_C4_GRID, f"{_C4_GRID['eps'][0]}", _C4_SETTINGS),
        "hand-off": f"ρ ≥ {_C4_GRID['rho1']} from uniform init at the smallest successful batch; "
        "seeds that never hand off are not measured",
    },
    _stage_instances(_C4_GRID),
    _stage_calibration_instances(_C4_GRID),
    _c4_samples,
    _stage_bound(c4, c4.STAGE2, _C4_GRID, _C4_GRID["eps"][0]),
    "stage-2 samples",
)

C5 = _calibrated_falsifier(
    "C5",
    "for every downstream task correlated with its pretraining task (keep ≥ 1 support position "
    "per token) in the class: finetuning samples to ρ ≥ 1 − ε from the pretrained model are "
    "≤ C·N^a·Q^b·ε^(−c)·log T (C5's bound), C calibrated",
    {
        **_stage_parameters(_C5_GRID, f"{_C5_GRID['eps']}", _C5_SETTINGS),
        "downstream": f"related_task(keep = {_C5_GRID['keep']}, seed + 1000), P′ = P or "
        "perturbed by 0.1; pretrained model = (P, Q*)",
    },
    _stage_instances(_C5_GRID, perturb_P=st.sampled_from((0.0, 0.1))),
    _stage_calibration_instances(_C5_GRID, perturb_P=0.0),
    _c5_samples,
    _stage_bound(c5, c5.FINETUNE, _C5_GRID, _C5_GRID["eps"]),
    "finetuning samples",
)


# --------------------------------------------------------------------------- C6

_C6_BOUND = bound_function(c6.DEVIATION, (c6.m, c6.T, c6.delta), {c6.C: 1})
_C6_GRID = c6.Concentration().grid("smoke")
_C6_DELTAS = (0.01, 0.02, 0.05, 0.1, 0.2)
_C6_TASK = {"N": _C6_GRID["N"], "concentration": 0.5, "seed": c6.INSTANCE}
_C6_REPLICATES = 500
_C6_CALIBRATION_REPLICATES = 1000
_C6_CALIBRATION = [{"T": _C6_GRID["T"], "m": size} for size in _C6_GRID["m"]] + [
    {"T": t, "m": _C6_GRID["m_T"]} for t in _C6_GRID["T_grid"]
]


def _c6_norms(task: SCBTask, size: int, replicates: int, seed: int) -> np.ndarray:
    """(replicates, 2): C6's deviation norms (:func:`c6.deviation_norms`), replicate r on data
    seed ``seed·replicates + r``."""
    return c6.deviation_norms(task, size, [seed * replicates + r for r in range(replicates)])


@functools.cache
def _c6_constants() -> np.ndarray:
    """(C_V, C_A): the smallest constants with empirical P(‖D‖ > C·f(m, T, δ)) ≤ δ at every
    calibration point (C6's smoke grid on C6's instance) and every δ of the class. Its data
    seeds, from 2³²·1000 on, lie above every searched instance's (below 2³²·500)."""
    ratios = []
    for i, point in enumerate(_C6_CALIBRATION):
        task = make_task(Q=_C6_GRID["Q"], T=point["T"], **_C6_TASK)
        norms = _c6_norms(task, point["m"], _C6_CALIBRATION_REPLICATES, seed=2**32 + i)
        ratios += [
            np.quantile(norms, 1 - d, axis=0) / _C6_BOUND(point["m"], point["T"], d)
            for d in _C6_DELTAS
        ]
    return np.max(ratios, axis=0)


def _c6_evaluate(instance: dict, control: bool) -> Evaluation:
    """Exceedances of C·f(m, T, δ) by ‖D_V‖ and ‖D_A‖ over replicate batches; fails when the
    Clopper–Pearson lower end of either part's exceedance probability is above δ."""
    task = build_task(instance["task"])
    size, delta = instance["m"], instance["delta"]
    constants = _c6_constants() / (CONTROL_FACTOR if control else 1.0)
    limit = constants * _C6_BOUND(size, task.T, delta)
    norms = _c6_norms(task, size, _C6_REPLICATES, instance["seed"])
    parts = {}
    for j, name in enumerate(("D_V", "D_A")):
        k = int((norms[:, j] > limit[j]).sum())
        parts[name] = {
            "exceed": k,
            "of": _C6_REPLICATES,
            "limit": limit[j],
            "C": constants[j],
            "ci": binomial_interval(k, _C6_REPLICATES, C6_LEVEL),
            "quantile": float(np.quantile(norms[:, j], 1 - delta)),
        }
    worst = max(parts, key=lambda p: parts[p]["ci"][0])
    w = parts[worst]
    holds = w["ci"][0] <= delta
    text = (
        f"{w['exceed']}/{_C6_REPLICATES} batches with ‖{worst}‖ > C·f = {w['limit']:.4g}: "
        f"P(exceed) ≥ {w['ci'][0]:.3g} ({C6_LEVEL:g} Clopper–Pearson lower end) "
        f"{'<=' if holds else '>'} δ = {delta:g}"
    )
    return Evaluation(w["ci"][0], delta, holds, text, {**parts, "level": C6_LEVEL})


C6 = Falsifier(
    claim="C6",
    statement="for every (T, Q*, m, δ) in the class: P(‖D‖_F > C·√(T·log(1/δ)/m)) ≤ δ for "
    "both parts D_V, D_A of pppd's preconditioned minibatch-gradient deviation "
    "at V = P, a_k = 1/T (C6's bound; one constant per part, calibrated)",
    parameters={
        "P": f"C6's instance: make_task(N = {_C6_GRID['N']}, α = 0.5, seed "
        f"{c6.INSTANCE}) — C6 states its bound for one data distribution",
        "T": "2..64",
        "Q*": "Q 1..min(T, 8), supports random/window/shared, weights dirichlet/uniform",
        "m": "16..1024 (powers of 2)",
        "δ": ", ".join(map(str, _C6_DELTAS)),
        "test": f"{_C6_REPLICATES} replicate batches; fails if the Clopper–Pearson lower "
        f"end (level {C6_LEVEL:g}) of P(exceed) is above δ; confirmed on fresh data",
        "calibration": f"C6's smoke grid ({len(_C6_CALIBRATION)} points, "
        f"{_C6_CALIBRATION_REPLICATES} replicates): C = max over points "
        "and δ of quantile_(1−δ)(‖D‖) / f",
    },
    instances=st.fixed_dictionaries(
        {
            "task": tasks(T=st.integers(2, 64), Q=st.integers(1, 8), **_C6_TASK).map(
                SCBTask.describe
            ),
            "m": st.integers(4, 10).map(lambda e: 2**e),
            "delta": st.sampled_from(_C6_DELTAS),
            "seed": SEEDS,
        }
    ),
    evaluate=_c6_evaluate,
    control=f"the constants divided by {CONTROL_FACTOR:g}",
    stochastic=True,
    calibration=lambda: {
        "source": "calibrated by the falsifier (C6 records no constant)",
        "C_V": _c6_constants()[0],
        "C_A": _c6_constants()[1],
        "points": _C6_CALIBRATION,
        "deltas": _C6_DELTAS,
        "replicates": _C6_CALIBRATION_REPLICATES,
    },
)


#: claim id → its falsifier.
FALSIFIERS: dict[str, Falsifier] = {f.claim: f for f in (C1, C2, C4, C5, C6)}

__all__ = ["FALSIFIERS", "build_task"]
