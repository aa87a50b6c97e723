"""Building blocks for a claim's falsifier (:meth:`scb_verify.claim.Claim.falsifier`): data
seeds of an instance, calibrated bounds, claim measurements driven in this process.

Claim-agnostic: no built-in claim is imported here; each claim builds its falsifier beside its
measurement, from these pieces and :mod:`.engine`.

An instance is a JSON dict; ``seed`` (stochastic claims) seeds its data. A stochastic bound holds
"except with small probability", so one instance is measured on several independent data
streams and fails only on a significant excess. The optional key ``data_seeds`` (never drawn by
a search) names the data seeds explicitly, so a falsifier can measure a claim's own runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypedDict

import numpy as np
import sympy
from hypothesis import strategies as st

from scb_verify import bounds
from scb_verify.checks import bound_check
from scb_verify.claim import Claim, ClaimContext
from scb_verify.executors import JobRunner, execute_job
from scb_verify.falsify import instance as schema
from scb_verify.falsify.engine import Evaluation, Falsifier, bound_function
from scb_verify.strategies import SUPPORTS, WEIGHTINGS, tasks
from scb_verify.task import SCBTask, TaskError, task_from_spec

#: Divisor of the bound in the negative controls of the stochastic claims.
CONTROL_FACTOR = 10.0
#: Data seeds are drawn from this range (torch generators take any of them).
SEEDS = st.integers(0, 2**32 - 1)
#: The same range as a schema field.
SEED = schema.integer(0, 2**32 - 1)
#: The optional ``data_seeds`` key as a schema field.
DATA_SEEDS = {"data_seeds": schema.integers(0, 2**63 - 1, max_length=1000)}


def task_schema(
    *, N: schema.Check, T: schema.Check, Q: schema.Check, seed: schema.Check = SEED, **fixed
) -> schema.Check:
    """A ``make_task`` task of a class (its :meth:`~scb_verify.task.SCBTask.describe`): N, T,
    Q, seed and, unless ``fixed`` narrows them, every concentration in [0.1, 10], support
    pattern and weighting (what :func:`scb_verify.strategies.tasks` draws); then
    :func:`~scb_verify.task.make_task` itself checks the rest (Q ≤ T, the window)."""
    fields = {
        "N": N,
        "T": T,
        "Q": Q,
        "seed": seed,
        "concentration": schema.number(0.1, 10.0),
        "support": schema.one_of(*SUPPORTS),
        "weights": schema.one_of(*WEIGHTINGS),
        **fixed,
    }
    window = {"window": schema.integer(1, 64)}
    return schema.built(schema.record(fields, window), task_from_spec, (TaskError,))


def data_seeds(instance: dict, count: int) -> list[int]:
    """The data seeds of an instance: ``instance["data_seeds"]`` if given, else ``count``
    disjoint ones, seed·count + i (the next instance seed, used for confirmation, starts the
    next block)."""
    if "data_seeds" in instance:
        return [int(s) for s in instance["data_seeds"]]
    return [instance["seed"] * count + i for i in range(count)]


def run_serially(measurement, ctx: ClaimContext, run_job: JobRunner = execute_job):
    """Drive a claim measurement generator (yield jobs, receive results, return a value) in
    this process, job by job, each job with the context applied as the runner applies it
    (:meth:`~scb_verify.claim.ClaimContext.apply`) and trained by ``run_job`` (default: here,
    :func:`scb_verify.executors.execute_job`); returns its value."""
    try:
        jobs = next(measurement)
        while True:
            jobs = measurement.send([run_job(ctx.apply(job)) for job in jobs])
    except StopIteration as stop:
        return stop.value


def run_one(job, ctx: ClaimContext, run_job: JobRunner = execute_job):
    """One job of a falsifier's measurement, with the context applied as the runner applies
    it, trained by ``run_job``."""
    return run_job(ctx.apply(job))


class Reach(TypedDict):
    """A samples-to-target measurement of one instance (C4, C5), per data seed: ``samples`` (a
    censored seed at the budget, a lower bound; NaN where nothing was measured — C4's seeds that
    never handed off) and ``censored`` (the seed did not reach the target, or the hand-off before
    it, within the budget)."""

    samples: list[float]
    censored: list[bool]


Measurement = Sequence[float] | Reach


def values(measurement: Measurement) -> list[float]:
    """The per-seed values a bound is tested on: the measurement itself, or a :class:`Reach`'s
    samples."""
    if isinstance(measurement, Mapping):
        return list(measurement["samples"])
    return list(measurement)


def unreached(measurement: Measurement) -> bool:
    """Whether the instance's target was not reached within the budget by its typical data
    seed: a :class:`Reach` with at least half its seeds censored (the rule of
    :attr:`scb_verify.batch_rule.CellOutcome.censored`; docs/reference.md §7.5). Such a
    measurement gives the budget, not the claim's cost, so it is never a counterexample
    (§7.10)."""
    if not isinstance(measurement, Mapping):
        return False
    censored = measurement["censored"]
    return bool(censored) and 2 * sum(censored) >= len(censored)


def held_out(
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
    lower, estimate = point["ci"][0], point["estimate"]
    holds = point["verdict"] != "violated"
    text = (
        f"{what}: geometric mean {estimate:.4g}, 95% lower end {lower:.4g} "
        f"{'<=' if holds else '>'} C·f = {limit:.4g} (C = {check.evidence['C']:.4g})"
    )
    return Evaluation(
        lower,
        limit,
        holds,
        text,
        {
            "per_seed": list(map(float, row)),
            "geometric_mean": estimate,
            "ci": point["ci"],
            "C": check.evidence["C"],
            "f": f_test,
            "verdict": point["verdict"],
        },
    )


def calibrated_falsifier(
    claim: str,
    algorithm: str,
    statement: str,
    parameters: dict[str, str],
    instances: st.SearchStrategy[dict],
    calibration: list[dict],
    measured: Callable[[dict], Measurement],
    bound: Callable[[dict], float],
    what: str,
    fields: schema.Check | None = None,
) -> Falsifier:
    """A falsifier of ``measured(instance)`` (one value per data seed, or a :class:`Reach`) ≤
    C·``bound(instance)``, C calibrated by :func:`~scb_verify.checks.bound_check` (the upper end
    of the 95% log-scale t interval of the geometric mean, maximized over calibration instances)
    on the ``calibration`` instances, measured once per process; every searched instance is the
    check's held-out point and fails when its verdict is *violated* (the lower end of its
    geometric mean's interval lies above C·f). An instance whose target was not reached within
    the budget by its typical seed (:func:`unreached`) is no counterexample: it holds, with
    its measurement recorded and a ratio of 0 for the search's targeting."""

    @functools.cache
    def calibrated() -> tuple[np.ndarray, list[float]]:
        rows = [values(measured(i)) for i in calibration]
        return np.array(rows), [bound(i) for i in calibration]

    def evaluate(instance: dict, control: bool) -> Evaluation:
        measurement, f_value = measured(instance), bound(instance)
        if unreached(measurement):
            return Evaluation(
                0.0,
                f_value,
                True,
                f"{what}: not reached within the budget by half the data seeds: unreached, "
                "not a counterexample",
                {**measurement, "f": f_value, "verdict": "unreached"},
            )
        return held_out(*calibrated(), values(measurement), f_value, control, what)

    def evidence() -> dict[str, Any]:
        rows, f_values = calibrated()
        # bound_check needs a held-out point; C depends on the calibration rows alone.
        constant = held_out(rows, f_values, rows[0], f_values[0], False, what).details["C"]
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
        algorithm=algorithm,
        statement=statement,
        parameters=parameters,
        instances=instances,
        evaluate=evaluate,
        measurement=measured,
        control=f"the bound divided by {CONTROL_FACTOR:g} (C still calibrated on the true bound)",
        stochastic=True,
        calibration=evidence,
        schema=fields,
    )


# --------------------------------------------------------------------------- samples to ε

#: Data seeds per instance of the samples-to-ε claims (C4, C5).
STAGE_DATA_SEEDS = 5


class StageGrid(Protocol):
    """What :func:`stage_falsifier` reads of a samples-to-ε claim's grid (C4's and C5's)."""

    N: int
    Q: int
    weights: str
    rho1: float
    cap: int
    max_batch: int


def stage_falsifier(
    claim: Claim,
    algorithm: str,
    grid: StageGrid,
    eps_value: float,
    statement: str,
    parameters: Mapping[str, str],
    extra: Mapping[str, tuple[st.SearchStrategy, Any, schema.Check]],
    measured: Callable[[dict], Measurement],
    expr: sympy.Expr,
    what: str,
) -> Falsifier:
    """A samples-to-ε falsifier over tasks with the grid's N, Q and weights and T in 8..64
    (any support pattern and seed), against ``expr`` = C·N^a·Q^b·ε^(−c)·log T as a function of
    T: the class fixes N, Q and ε, so N^a·Q^b·ε^(−c) is a constant absorbed in C (C = a = b =
    c = 1). Calibrated on T = 8, 16, 32 (instance seeds 0, 1, 2, random supports). ``extra``:
    instance key → (its strategy, its calibration value, its schema field)."""
    fixed = {bounds.C: 1, bounds.a: 1, bounds.b: 1, bounds.c: 1}
    fixed.update({bounds.N: grid.N, bounds.Q: grid.Q, bounds.eps: eps_value})
    f = bound_function(expr, (bounds.T,), fixed)
    task_kwargs = {"N": grid.N, "Q": grid.Q, "concentration": 0.5, "weights": grid.weights}
    task = tasks(T=st.integers(8, 64), seed=SEEDS, **task_kwargs).map(SCBTask.describe)
    instances = st.fixed_dictionaries(
        {"task": task, **{k: v[0] for k, v in extra.items()}, "seed": SEEDS}
    )
    calibration = [
        {
            "task": {**task_kwargs, "T": t, "seed": s, "support": "random"},
            **{k: v[1] for k, v in extra.items()},
            "seed": s,
        }
        for s, t in enumerate((8, 16, 32))
    ]
    settings = claim.settings_for(algorithm)
    return calibrated_falsifier(
        claim.id,
        algorithm,
        statement,
        {
            "N, Q, ε": f"{grid.N}, {grid.Q}, {eps_value} (the claim's smoke grid; "
            "N^a·Q^b·ε^(−c) is then a constant)",
            "T": "8..64",
            "task": f"make_task, Dirichlet(0.5) P, {grid.weights} weights, supports "
            "random/window/shared, any seed",
            "runs": f"{algorithm} {settings or '(defaults)'}, smallest successful batch up to "
            f"{grid.max_batch}, cap {grid.cap} steps, {STAGE_DATA_SEEDS} data seeds per "
            "instance",
            "calibration": "T = 8, 16, 32 (instance seeds 0, 1, 2), random supports",
            **parameters,
        },
        instances,
        calibration,
        measured,
        lambda instance: f(instance["task"]["T"]),
        what,
        schema.record(
            {
                "task": task_schema(
                    N=schema.one_of(grid.N),
                    T=schema.integer(8, 64),
                    Q=schema.one_of(grid.Q),
                    concentration=schema.one_of(0.5),
                    weights=schema.one_of(grid.weights),
                ),
                **{k: v[2] for k, v in extra.items()},
                "seed": SEED,
            },
            DATA_SEEDS,
        ),
    )
