"""Samples-to-threshold at the smallest batch that succeeds (the measurement of C3, C4, C5).

Sample complexity depends on the batch size: too small a batch and the iterate drowns in noise
(the correlation collapses or stalls), too large and samples are wasted. The rule used by the
stage and transfer claims (SCB_SPEC §6, issue "claims"): for each grid cell, try batch sizes on a
fixed geometric grid in increasing order; a batch *succeeds* when a strict majority of the seeds
reach the milestone within ``cap`` steps; the cell's measurement is, per seed, the samples
consumed when the milestone was first reached at the first successful batch. A seed that did not
reach it counts as the full budget ``batch × cap`` (a lower bound on its true value, which leaves
the median exact because a majority did reach it); one that starts at the milestone counts as
one batch, the resolution of the measurement (milestones are checked after every step). A cell where no batch on the grid succeeds is
*censored*: it has no measurement.

:func:`smallest_batch_search` is a generator to be driven from a claim's ``measure`` with
``yield from``: every round it yields one :class:`~scb_verify.claim.Job` per unresolved cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scb_verify.checks import scaling_check
from scb_verify.claim import Job
from scb_verify.learner import Init, Milestone, RunResult, RunSpec
from scb_verify.task import SCBTask
from scb_verify.verdict import CheckResult, Status

#: Batch sizes tried, in order (geometric, factor 2).
BATCH_GRID: tuple[int, ...] = tuple(2**k for k in range(5, 15))  # 32 … 16384


def batch_grid(max_batch: int) -> tuple[int, ...]:
    """The batch sizes of :data:`BATCH_GRID` up to ``max_batch``."""
    grid = tuple(b for b in BATCH_GRID if b <= max_batch)
    if not grid:
        raise ValueError(f"max_batch must be at least {BATCH_GRID[0]}, got {max_batch}")
    return grid


#: make_specs(batch, samples) → the seeds' RunSpecs of one cell (milestones set by the search).
SpecFactory = Callable[[int, int], list[RunSpec]]


def seeded_cell(
    seeds: Sequence[int],
    task_of: Callable[[int], SCBTask],
    settings: Mapping[str, Any],
    init_of: Callable[[int], Init] = lambda seed: "uniform",
) -> SpecFactory:
    """A cell of one run per seed: the task and initialization of each seed come from
    ``task_of(seed)`` and ``init_of(seed)``; the run's sampling seed is the seed itself."""

    def specs(batch: int, samples: int) -> list[RunSpec]:
        return [
            RunSpec(
                task=task_of(s),
                seed=s,
                batch=batch,
                samples=samples,
                init=init_of(s),
                settings=dict(settings),
                record_points=25,
            )
            for s in seeds
        ]

    return specs


@dataclass
class CellOutcome:
    """The measurement of one cell: the successful batch (None if censored) and, per seed, the
    samples to the first milestone (budget if unreached; NaN everywhere if censored). ``hits``
    maps every milestone name to per-seed samples (None if unreached) at that batch."""

    batch: int | None
    samples: list[float]
    hits: dict[str, list[int | None]]
    results: list[RunResult]

    @property
    def censored(self) -> bool:
        return self.batch is None


def smallest_batch_search(
    learner: str,
    cells: Mapping[Hashable, SpecFactory],
    milestones: Sequence[Milestone],
    *,
    cap: int,
    batches: Sequence[int] = BATCH_GRID,
):
    """Run the smallest-successful-batch rule on every cell; returns {cell: CellOutcome}.

    The first milestone decides success; later ones (e.g. finer accuracies) are recorded at the
    same batch. Runs stop as soon as every milestone is reached.
    """
    if cap < 1:
        raise ValueError(f"cap must be a positive number of steps, got {cap}")
    target = milestones[0].name
    index = dict.fromkeys(cells, 0)
    out: dict[Hashable, CellOutcome] = {}
    while index:
        keys = list(index)
        jobs = []
        for key in keys:
            b = batches[index[key]]
            specs = [_with_milestones(s, milestones) for s in cells[key](b, b * cap)]
            jobs.append(Job(learner, tuple(specs), label=f"{key} batch {b}"))
        results: list[list[RunResult]] = yield jobs
        for key, res in zip(keys, results, strict=True):
            b = batches[index[key]]
            hits = {ms.name: [r.milestones[ms.name] for r in res] for ms in milestones}
            reached = [h for h in hits[target] if h is not None]
            last = index[key] == len(batches) - 1
            if 2 * len(reached) > len(res):
                samples = [float(max(h, b)) if h is not None else float(b * cap)
                           for h in hits[target]]
                out[key] = CellOutcome(b, samples, hits, res)
            elif last:
                out[key] = CellOutcome(None, [math.nan] * len(res), hits, res)
            else:
                index[key] += 1
                continue
            del index[key]
    return out


def _with_milestones(spec: RunSpec, milestones: Sequence[Milestone]) -> RunSpec:
    return replace(spec, milestones=tuple(milestones), stop_at_milestones=True)


def censoring_check(outcomes: Mapping[Hashable, CellOutcome], what: str) -> CheckResult:
    """Did every cell reach its milestone at some batch on the grid? holds: all did;
    violated: none did (the learner never got there within any budget tried);
    inconclusive: some cells are censored (beyond the budget at this scale)."""
    censored = [str(k) for k, o in outcomes.items() if o.censored]
    evidence = {
        "censored_cells": censored,
        "cells": [str(k) for k in outcomes],
        "batches": {str(k): o.batch for k, o in outcomes.items()},
    }
    if not censored:
        status, text = Status.HOLDS, f"{what} reached in every cell"
    elif len(censored) == len(outcomes):
        status, text = Status.VIOLATED, f"{what} never reached, at any batch tried"
    else:
        status, text = Status.INCONCLUSIVE, f"{what} not reached in cells {censored}"
    return CheckResult("reach", status, f"{text}: {status.value}", evidence)


def scaling_over_cells(
    outcomes: Mapping[float, CellOutcome],
    predicted: tuple[float, float],
    *,
    expr=None,
    seed: int = 0,
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
        )
    width = max(len(outcomes[k].samples) for k in keep)
    y = np.full((len(keep), width), np.nan)  # cells may have different seed counts
    for i, k in enumerate(keep):
        y[i, : len(outcomes[k].samples)] = outcomes[k].samples
    return scaling_check(keep, y, predicted, expr=expr, seed=seed)
