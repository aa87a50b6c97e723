"""Samples-to-threshold at the smallest batch that succeeds (the measurement of C3, C4, C5).

Sample complexity depends on the batch size: too small a batch and the iterate drowns in noise
(the correlation collapses or stalls), too large and samples are wasted. The rule used by the
stage and transfer claims (docs/reference.md §6): every instance (seed) of a grid cell tries batch
sizes
on a fixed geometric grid in increasing order; it is *resolved* at the first batch with which it
reaches the milestone within ``cap`` steps, and its measurement is the samples consumed when the
milestone was first reached in that run (at least one batch: milestones are checked after every
step, so a run that starts at the milestone counts one batch, the resolution). An instance that
no batch on the grid resolves is *censored*: its cost exceeds every budget it was given, so it
is recorded at the largest, ``budget`` = largest batch × ``cap`` (a right-censored observation,
never dropped and never NaN). The censored seeds of each cell are evidence
(:func:`censoring_check`) and enter the slope at the budget, marked
(:func:`scaling_over_cells`, :func:`~scb_verify.checks.scaling_check`'s censoring rules). A cell
where at least half the seeds are censored has a censored median: only a lower bound.

:func:`smallest_batch_search` is a generator to be driven from a claim's ``measure`` with
``yield from``: every round it yields one :class:`~scb_verify.claim.Job` per cell that still has
unresolved instances (those instances only, all at the cell's next batch size).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scb_verify import stats
from scb_verify.checks import MAX_CENSORED_SHARE, scaling_check
from scb_verify.claim import Job
from scb_verify.runs import Init, Milestone, RunResult, RunSpec
from scb_verify.task import SCBTask
from scb_verify.verdict import CheckResult, Range, Status

#: Batch sizes tried, in order (geometric, factor 2).
BATCH_GRID: tuple[int, ...] = tuple(2**k for k in range(5, 15))  # 32 … 16384


#: Largest batch a no-signal negative control tries: on a task with P = μ1ᵀ the attention gets
#: no signal in expectation, so no batch reaches the target; larger ones only cost time.
CONTROL_MAX_BATCH = 1024


def batch_grid(max_batch: int, *, control: bool = False) -> tuple[int, ...]:
    """The batch sizes of :data:`BATCH_GRID` up to ``max_batch`` (and up to
    :data:`CONTROL_MAX_BATCH` for a no-signal negative control)."""
    if control:
        max_batch = min(max_batch, CONTROL_MAX_BATCH)
    grid = tuple(b for b in BATCH_GRID if b <= max_batch)
    if not grid:
        raise ValueError(f"max_batch must be at least {BATCH_GRID[0]}, got {max_batch}")
    return grid


#: How the stage milestones of C3–C5 read the attention (docs/reference.md §6.3), by the metric
#: that must reach a level: ``per_column`` (the default) — every token's attention, min_k
#: cos(a_k, q_k): stage 1 has ended when every column's cosine with its own target is ≥ ρ₁, and
#: accuracy ε is reached when every column's is ≥ 1 − ε; ``aggregate`` — the μ-weighted
#: correlation ρ(A), the reading before issue 19, kept so that both can be compared on the same
#: seeds. ρ(A) ≥ min_k cos(a_k, q_k) always, so a per-column level is crossed no earlier.
READINGS: dict[str, str] = {"per_column": "min_cosine", "aggregate": "correlation"}


def stage_milestone(reading: str, level: float) -> Milestone:
    """The milestone "the attention is at ``level``" under ``reading`` (:data:`READINGS`)."""
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {sorted(READINGS)}, got {reading!r}")
    return Milestone(READINGS[reading], level)


def stage_milestones(reading: str, level: float) -> list[Milestone]:
    """The milestones a stage run watches: ``reading``'s at ``level`` first (it decides
    success), then the aggregate one when ``reading`` is per-column — crossed no later, so
    recording it does not move where a run stops (the aggregate reading records nothing more:
    its runs must stop where ρ(A) reaches the level, and their state there is the hand-off)."""
    first = stage_milestone(reading, level)
    if reading == "per_column":
        return [first, stage_milestone("aggregate", level)]
    return [first]


#: make_specs(batch, samples) → the seeds' RunSpecs of one cell (milestones set by the search).
SpecFactory = Callable[[int, int], list[RunSpec]]


def seeded_cell(
    seeds: Sequence[int],
    task_of: Callable[[int], SCBTask],
    init_of: Callable[[int], Init] = lambda seed: "uniform",
) -> SpecFactory:
    """A cell of one run per seed: the task and initialization of each seed come from
    ``task_of(seed)`` and ``init_of(seed)``; the run's sampling seed is the seed itself. The
    algorithm's settings are the claim context's, applied by the framework."""

    def specs(batch: int, samples: int) -> list[RunSpec]:
        return [
            RunSpec(
                task=task_of(s),
                seed=s,
                batch=batch,
                samples=samples,
                init=init_of(s),
                record_points=25,
            )
            for s in seeds
        ]

    return specs


@dataclass
class CellOutcome:
    """The measurement of one cell, per seed (in the cell's seed order): the batch that resolved
    it (None if none did), the samples to the first milestone (``budget`` if unresolved: a
    right-censored observation), every milestone's first-hit samples in the last run tried, and
    that run's result; ``budget``: the largest batch tried × cap."""

    batches: list[int | None]
    samples: list[float]
    hits: dict[str, list[int | None]]
    results: list[RunResult]
    budget: float

    @property
    def censored_seeds(self) -> list[bool]:
        """Per seed: never resolved (its cost is only known to exceed ``budget``)."""
        return [b is None for b in self.batches]

    @property
    def censored(self) -> bool:
        """True when at least half the seeds are censored: the cell's median cost is then only
        known to exceed the budget (below that, the censored seeds rank above every resolved
        one and the median is exact)."""
        return 2 * sum(self.censored_seeds) >= len(self.batches)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.results]

    def decomposition(self) -> dict[str, list]:
        """Per seed (cell order) the cost and its two factors, samples = batch × steps: the
        resolving batch and the steps taken with it (None for a censored seed, whose samples
        are the budget), and the censoring flag. Plain JSON-ready lists."""
        return {
            "seed": self.seeds,
            "batch": list(self.batches),
            "steps": [
                None if b is None else round(n / b)
                for b, n in zip(self.batches, self.samples, strict=True)
            ],
            "samples": list(self.samples),
            "censored": self.censored_seeds,
        }


def smallest_batch_search(
    algorithm: str,
    cells: Mapping[Hashable, SpecFactory],
    milestones: Sequence[Milestone],
    *,
    cap: int,
    batches: Sequence[int] = BATCH_GRID,
):
    """Run the smallest-successful-batch rule on every cell; returns {cell: CellOutcome}.

    The first milestone decides success; later ones (e.g. where stage 1 ended) are recorded in
    the same runs. Runs stop as soon as every milestone is reached.
    """
    if cap < 1:
        raise ValueError(f"cap must be a positive number of steps, got {cap}")
    target = milestones[0].name
    level = dict.fromkeys(cells, 0)  # index into batches
    pending: dict[Hashable, list[int]] = {}
    found: dict[Hashable, list[int | None]] = {}
    last: dict[Hashable, list[RunResult | None]] = {}
    while level:
        keys, jobs = list(level), []
        for key in keys:
            b = batches[level[key]]
            specs = cells[key](b, b * cap)
            if key not in pending:
                pending[key] = list(range(len(specs)))
                found[key], last[key] = [None] * len(specs), [None] * len(specs)
            chosen = tuple(_with_milestones(specs[i], milestones) for i in pending[key])
            jobs.append(Job(algorithm, chosen, label=f"{key} batch {b}"))
        results: list[list[RunResult]] = yield jobs
        for key, res in zip(keys, results, strict=True):
            b = batches[level[key]]
            for i, r in zip(pending[key], res, strict=True):
                last[key][i] = r
                if r.milestones[target] is not None:
                    found[key][i] = b
            pending[key] = [i for i in pending[key] if found[key][i] is None]
            level[key] += 1
            if not pending[key] or level[key] == len(batches):
                del level[key]
    out = {}
    budget = float(batches[-1] * cap)
    for key in cells:
        runs = last[key]
        samples = [
            float(max(r.milestones[target], b)) if b is not None else budget
            for r, b in zip(runs, found[key], strict=True)
        ]
        hits = {ms.name: [r.milestones[ms.name] for r in runs] for ms in milestones}
        out[key] = CellOutcome(found[key], samples, hits, runs, budget)
    return out


def _with_milestones(spec: RunSpec, milestones: Sequence[Milestone]) -> RunSpec:
    return replace(spec, milestones=tuple(milestones), stop_at_milestones=True)


def censoring_check(
    outcomes: Mapping[Hashable, CellOutcome], what: str, *, label: str = ""
) -> CheckResult:
    """Did the seeds reach the milestone within the budget? Per cell, the count of censored
    seeds (never resolved at any batch on the grid) is evidence. holds: every cell has at most
    :data:`~scb_verify.checks.MAX_CENSORED_SHARE` of its seeds censored (the share with which a
    slope can still decide); unreached: every cell's median is censored (at least half its
    seeds: the typical seed never gets there within the budget, so no scaling was measured —
    not a violation, docs/reference.md §7.5); inconclusive otherwise. The evidence keeps the
    budget."""
    counts = {str(k): sum(o.censored_seeds) for k, o in outcomes.items()}
    sizes = {str(k): len(o.batches) for k, o in outcomes.items()}
    shares = {k: counts[k] / sizes[k] for k in counts}
    over = [k for k, share in shares.items() if share > MAX_CENSORED_SHARE]
    budgets = {o.budget for o in outcomes.values()}
    evidence = {
        "cells": list(counts),
        "censored_seeds": counts,
        "seeds": sizes,
        "share": shares,
        "max_share": MAX_CENSORED_SHARE,
        "budget": max(budgets) if budgets else None,
        "censored_cells": [str(k) for k, o in outcomes.items() if o.censored],
        "batches": {str(k): o.batches for k, o in outcomes.items()},
    }
    censored = f"{sum(counts.values())} of {sum(sizes.values())} seed(s) censored"
    budget = max(budgets, default=0.0)
    note = f"{censored} at {budget:.6g} samples"
    if outcomes and all(o.censored for o in outcomes.values()):
        status = Status.UNREACHED
        text = (
            f"{what} not reached within the budget ({budget:.6g} samples) by half the seeds of "
            f"any cell ({censored})"
        )
    elif outcomes and not over:
        status, text = Status.HOLDS, f"{what} reached in every cell ({note})"
    else:
        worst = max(shares, key=shares.get, default=None)
        text = (
            f"{what}: more than {MAX_CENSORED_SHARE:.0%} of the seeds censored in cells {over} "
            f"(worst {worst}: {counts[worst]} of {sizes[worst]}; {note})"
            if worst is not None
            else f"{what}: no cells"
        )
        status = Status.INCONCLUSIVE
    return CheckResult(
        "reach",
        status,
        f"{text}: {status.value}",
        evidence,
        label=label,
        quantity="largest share of censored seeds in a cell",
        predicted=Range(0.0, MAX_CENSORED_SHARE),
    )


def scaling_over_cells(
    outcomes: Mapping[float, CellOutcome],
    predicted: Range | tuple[float, float],
    *,
    expr=None,
    label: str = "",
    axis: str | None = None,
) -> CheckResult:
    """:func:`~scb_verify.checks.scaling_check` of the per-seed samples against the cell value,
    every cell included, censored seeds at the budget and marked. The design is ``"paired"``
    when every cell ran the same seeds (then seed j is the same task and stream at every point)
    and ``"independent"`` otherwise (e.g. C4's phase 2, run on the seeds that handed off).
    Inconclusive when fewer than 3 cells have runs."""
    keys = sorted(k for k, o in outcomes.items() if o.samples)
    if len(keys) < 3:
        return CheckResult(
            "scaling",
            Status.INCONCLUSIVE,
            f"only {len(keys)} grid point(s) with runs; a slope needs 3: inconclusive",
            {"cells": keys},
            label=label,
            axis=axis,
            predicted=predicted if isinstance(predicted, Range) else Range(*predicted),
        )
    cells = [outcomes[k] for k in keys]
    paired = all(o.seeds == cells[0].seeds for o in cells)
    return scaling_check(
        keys,
        [np.array(o.samples) for o in cells],
        predicted,
        design="paired" if paired else "independent",
        right_censored=[np.array(o.censored_seeds) for o in cells],
        expr=expr,
        label=label,
        axis=axis,
        seeds=cells[0].seeds if paired else None,
    )


def local_slopes_over_cells(
    outcomes: Mapping[float, CellOutcome], level: float = 0.95
) -> dict[str, Any] | None:
    """The local log–log slope of the per-seed samples at the bottom and at the top of the grid
    (docs/reference.md §7.1): paired slopes (:func:`~scb_verify.stats.paired_slope_interval`) on
    the lower and the upper half of the cells (sharing the middle one when their number is odd)
    and the per-seed difference top − bottom with its t interval. A polylog (log x)^k has local
    exponent k/ln x, falling along the grid; a power law's is constant. Censored seeds at the
    budget, as in :func:`scaling_over_cells`. None unless every cell ran the same seeds and
    there are at least 4 cells."""
    keys = sorted(k for k, o in outcomes.items() if o.samples)
    if len(keys) < 4 or any(outcomes[k].seeds != outcomes[keys[0]].seeds for k in keys):
        return None
    low, high = keys[: (len(keys) + 2) // 2], keys[(len(keys) - 1) // 2 :]
    log_y = {k: np.log(np.array(outcomes[k].samples)) for k in keys}

    def per_seed(part: list) -> np.ndarray:
        ly = np.array([log_y[k] for k in part])
        return stats.slope_weights(np.log(part)) @ (ly - ly[:1])

    out: dict[str, Any] = {}
    for name, part in (("low", low), ("high", high)):
        mean, lo, hi = stats.mean_interval(per_seed(part), level)
        out[name] = {"x": part, "slope": float(mean), "ci": [float(lo), float(hi)]}
    mean, lo, hi = stats.mean_interval(per_seed(high) - per_seed(low), level)
    out["difference"] = {"estimate": float(mean), "ci": [float(lo), float(hi)]}
    out["censored"] = {k: int(sum(outcomes[k].censored_seeds)) for k in keys}
    out["method"] = stats.PAIRED_SLOPE
    return out


def cost_series(outcomes: Mapping[float, CellOutcome]) -> dict[str, list]:
    """Along the grid (``outcomes`` in grid order): the median over the seeds that reached the
    target of the cost and of its two factors, samples = batch × steps (docs/reference.md §6.4:
    which factor grows with the grid), with how many of the cell's seeds reached it (the
    medians are None where none did). Each median is taken apart, so the product of the two
    factors' medians need not be the cost's. The series of a ``cost_decomposition`` artifact
    (drawn by :mod:`scb_verify.report.cost`)."""
    out: dict[str, list] = {k: [] for k in ("x", "samples", "batch", "steps", "reached", "seeds")}
    for x, outcome in outcomes.items():
        parts = outcome.decomposition()
        reached = [i for i, censored in enumerate(parts["censored"]) if not censored]
        out["x"].append(x)
        for key in ("samples", "batch", "steps"):
            values = [parts[key][i] for i in reached]
            out[key].append(float(np.median(values)) if values else None)
        out["reached"].append(len(reached))
        out["seeds"].append(len(parts["censored"]))
    return out
