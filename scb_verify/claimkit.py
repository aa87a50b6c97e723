"""Small helpers shared by claim plugins: per-seed summaries of training runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scb_verify.runs import HIGHER_IS_BETTER, RunResult


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
