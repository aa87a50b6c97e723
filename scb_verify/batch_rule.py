"""Samples-to-threshold at the smallest batch that succeeds (the measurement of C3, C4, C5).

Sample complexity depends on the batch size: too small a batch and the iterate drowns in noise
(the correlation collapses or stalls), too large and samples are wasted. The rule used by the
stage and transfer claims (docs/reference.md §6): every instance (seed) of a grid cell tries batch
sizes
on a fixed geometric grid in increasing order; it is *resolved* at the first batch with which it
reaches the milestone within ``cap`` steps, and its measurement is the samples consumed when the
milestone was first reached in that run (at least one batch: milestones are checked after every
step, so a run that starts at the milestone counts one batch, the resolution). An instance that
no batch on the grid resolves is missing (NaN) — reported, and dropped by the statistics; a cell
where most instances are missing is *censored*: it has no measurement.

:func:`smallest_batch_search` is a generator to be driven from a claim's ``measure`` with
``yield from``: every round it yields one :class:`~scb_verify.claim.Job` per cell that still has
unresolved instances (those instances only, all at the cell's next batch size).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from scb_verify.checks import scaling_check
from scb_verify.claim import Job
from scb_verify.learner import Init, Milestone, RunResult, RunSpec
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


#: make_specs(batch, samples) → the seeds' RunSpecs of one cell (milestones set by the search).
SpecFactory = Callable[[int, int], list[RunSpec]]


def seeded_cell(
    seeds: Sequence[int],
    task_of: Callable[[int], SCBTask],
    init_of: Callable[[int], Init] = lambda seed: "uniform",
) -> SpecFactory:
    """A cell of one run per seed: the task and initialization of each seed come from
    ``task_of(seed)`` and ``init_of(seed)``; the run's sampling seed is the seed itself. The
    learner's settings are the claim context's, applied by the framework."""

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
    it (None if none did), the samples to the first milestone (NaN if unresolved), every
    milestone's first-hit samples in the last run tried, and that run's result."""

    batches: list[int | None]
    samples: list[float]
    hits: dict[str, list[int | None]]
    results: list[RunResult]

    @property
    def censored(self) -> bool:
        """True when most seeds were never resolved."""
        return 2 * sum(b is None for b in self.batches) >= len(self.batches)


def smallest_batch_search(
    learner: str,
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
            jobs.append(Job(learner, chosen, label=f"{key} batch {b}"))
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
    for key in cells:
        runs = last[key]
        samples = [
            float(max(r.milestones[target], b)) if b is not None else math.nan
            for r, b in zip(runs, found[key], strict=True)
        ]
        hits = {ms.name: [r.milestones[ms.name] for r in runs] for ms in milestones}
        out[key] = CellOutcome(found[key], samples, hits, runs)
    return out


def _with_milestones(spec: RunSpec, milestones: Sequence[Milestone]) -> RunSpec:
    return replace(spec, milestones=tuple(milestones), stop_at_milestones=True)


def censoring_check(
    outcomes: Mapping[Hashable, CellOutcome], what: str, *, label: str = ""
) -> CheckResult:
    """Did every cell reach its milestone at some batch on the grid? holds: all did;
    violated: none did (the learner never got there within any budget tried);
    inconclusive: some cells are censored (beyond the budget at this scale). Predicted: 0
    censored cells."""
    censored = [str(k) for k, o in outcomes.items() if o.censored]
    missing = {str(k): sum(b is None for b in o.batches) for k, o in outcomes.items()}
    evidence = {
        "censored_cells": censored,
        "cells": [str(k) for k in outcomes],
        "missing_seeds": missing,
        "batches": {str(k): o.batches for k, o in outcomes.items()},
    }
    if not censored:
        n_missing = sum(missing.values())
        note = f" ({n_missing} seed(s) never resolved)" if n_missing else ""
        status, text = Status.HOLDS, f"{what} reached in every cell{note}"
    elif len(censored) == len(outcomes):
        status, text = Status.VIOLATED, f"{what} never reached, at any batch tried"
    else:
        status, text = Status.INCONCLUSIVE, f"{what} not reached in cells {censored}"
    return CheckResult(
        "reach", status, f"{text}: {status.value}", evidence, label=label, predicted=Range(0, 0)
    )


def scaling_over_cells(
    outcomes: Mapping[float, CellOutcome],
    predicted: tuple[float, float],
    *,
    expr=None,
    seed: int = 0,
    label: str = "",
    axis: str | None = None,
) -> CheckResult:
    """:func:`~scb_verify.checks.scaling_check` of the per-seed samples against the cell value,
    on the uncensored cells (inconclusive when fewer than 3 remain)."""
    keep = sorted(k for k, o in outcomes.items() if not o.censored)
    if len(keep) < 3:
        return CheckResult(
            "scaling",
            Status.INCONCLUSIVE,
            f"only {len(keep)} uncensored grid point(s); a slope needs 3: inconclusive",
            {"uncensored": keep, "predicted": list(predicted)},
            label=label,
            axis=axis,
            predicted=Range(*predicted),
        )
    width = max(len(outcomes[k].samples) for k in keep)
    y = np.full((len(keep), width), np.nan)  # cells may have different seed counts
    for i, k in enumerate(keep):
        y[i, : len(outcomes[k].samples)] = outcomes[k].samples
    return scaling_check(keep, y, predicted, expr=expr, seed=seed, label=label, axis=axis)
