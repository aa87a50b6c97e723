"""Small helpers shared by claim plugins: per-seed summaries of training runs, and the state of a
run at the end of stage 1 (docs/reference.md §6.3)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scb_verify.runs import HIGHER_IS_BETTER, Params, RunResult
from scb_verify.task import SCBTask

if TYPE_CHECKING:
    from scb_verify.claim import Claim


def median_curves(results: Sequence[RunResult], metrics: Sequence[str]) -> dict[str, list]:
    """Median over runs of each metric's trajectory, on the shared recording schedule.

    The runs must share batch, steps and record points (one stacked job does). A run that
    diverged stops early; its missing points are left out of the median there (None where
    every run has stopped). Returns ``{"samples": [...], metric: [...], ..., "quartiles":
    {metric: [[first quartile, ...], [third quartile, ...]]}}``: the spread over seeds that a
    figure draws as a band around the median.
    """
    longest = max(results, key=lambda r: len(r.trajectory["samples"]))
    out: dict[str, Any] = {"samples": list(longest.trajectory["samples"]), "quartiles": {}}
    for metric in metrics:
        table = np.full((len(results), len(out["samples"])), np.nan)
        for i, r in enumerate(results):
            values = r.trajectory[metric]
            table[i, : len(values)] = values
        q25, q50, q75 = (
            [
                float(np.quantile(col[np.isfinite(col)], q)) if np.isfinite(col).any() else None
                for col in table.T
            ]
            for q in (0.25, 0.5, 0.75)
        )
        out[metric] = q50
        out["quartiles"][metric] = [q25, q75]
    return out


def final_value(result: RunResult, metric: str) -> float:
    """The run's final ``metric``; for a run that diverged, the worst finite value it recorded
    before (at least as bad as its start), so a blow-up never scores better than it did."""
    value = result.final.get(metric, float("nan"))
    if result.status != "diverged" and np.isfinite(value):
        return float(value)
    recorded = np.asarray(result.trajectory[metric], dtype=float)
    recorded = recorded[np.isfinite(recorded)]
    return float(recorded.min() if HIGHER_IS_BETTER[metric] else recorded.max())


def handoff_state(params: Params, task: SCBTask, level: float) -> dict[str, float | int]:
    """Where a run stands at the end of stage 1 (docs/reference.md §6.3), measured against the
    ground truth (the claim is the experimenter; the algorithm never sees these): the cosines
    c_k = cos(a_k, q_k) summarized as their plain mean, their μ-weighted mean ρ(A) and their
    minimum; ``not_escaped``, the number of columns with c_k < ``level`` (still in stage 1); and
    ``off_support_mass``, Σ_k μ_k · (Σ_{t ∉ supp q_k} |a_kt|) / ‖a_k‖₁, the μ-weighted share
    of attention mass on positions the target does not use."""
    A, Qs = np.asarray(params.A, dtype=float), task.Qstar
    norms = np.linalg.norm(A, axis=0) * np.linalg.norm(Qs, axis=0)
    cos = np.where(norms > 0, (A * Qs).sum(0) / np.where(norms > 0, norms, 1.0), 0.0)
    mass = np.abs(A).sum(0)
    off = np.where(Qs > 0, 0.0, np.abs(A)).sum(0) / np.where(mass > 0, mass, 1.0)
    return {
        "mean_cosine": float(cos.mean()),
        "correlation": float(task.mu @ cos),
        "worst_cosine": float(cos.min()),
        "not_escaped": int(np.sum(cos < level)),
        "off_support_mass": float(task.mu @ off),
    }


def handoff_diagnostics(
    results: Sequence[RunResult], resolved: Sequence[bool], tasks: Sequence[SCBTask], level: float
) -> dict[str, list]:
    """:func:`handoff_state` of every resolved run of a cell, as one list per quantity in the
    cell's seed order (None for a seed that never reached the hand-off)."""
    states = [
        handoff_state(r.params, t, level) if ok else None
        for r, ok, t in zip(results, resolved, tasks, strict=True)
    ]
    keys = ("mean_cosine", "correlation", "worst_cosine", "not_escaped", "off_support_mass")
    return {k: [None if s is None else s[k] for s in states] for k in keys}


def with_grid(claim: Claim, **overrides: Any) -> Claim:
    """A copy of ``claim`` whose grid at every budget has ``overrides`` replaced, checked by the
    claim's grid class (an unknown field or a wrong type raises): a documented variant of a
    claim (e.g. the stage claims' ``reading = "aggregate"``, docs/reference.md §6.3) or a
    wider grid, run on the same seeds as the default."""
    variant = copy.copy(claim)
    variant.grids = {
        budget: dataclasses.replace(grid, **overrides) for budget, grid in claim.grids.items()
    }
    return variant
