"""The cost of a smallest-successful-batch measurement and its two factors (built-in figure
plugin): samples = batch × steps along the claim's grid, so a reader sees which factor grows
(docs/reference.md §6.4: at the smallest successful batch the steps stay flat while the batch
grows with T).

Artifact format ``cost_decomposition``: ``{axis, series: {label: series}}``, a series as
:func:`scb_verify.batch_rule.cost_series` writes it — ``x`` (the grid), the medians over the
seeds that reached the target of ``samples``, ``batch`` and ``steps`` (null where none did),
and per point how many seeds ``reached`` it of ``seeds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scb_verify.hookspecs import hookimpl
from scb_verify.records import ClaimRun
from scb_verify.report.plot import FigureMaker, Plot, new_figure
from scb_verify.report.style import floats, grid_ticks, plain_log_ticks, qualitative

#: The panels, left to right: the series key and its axis label.
PANELS = (
    ("samples", "samples to the target"),
    ("batch", "smallest successful batch"),
    ("steps", "steps at that batch"),
)


def cost_decomposition(run: ClaimRun, budget: str, artifact: Mapping[str, Any]) -> list[Plot]:
    """One panel per factor of the cost (samples, batch, steps) against the grid, log–log, a
    line per series: the median over the seeds that reached the target; a point that fewer
    than all seeds reached is drawn hollow."""
    axis = str(artifact.get("axis") or "x")
    series: Mapping[str, Mapping[str, Any]] = artifact["series"]
    fig = new_figure(4.2 * len(PANELS), 3.8)
    axes = fig.subplots(1, len(PANELS), sharex=True)
    grid: set[float] = set()
    batches: list[float] = []
    partial = False
    for (label, s), colour in zip(series.items(), qualitative(len(series)), strict=True):
        x = floats(s["x"])
        full = np.array(s["reached"]) == np.array(s["seeds"])
        partial |= not full.all()
        grid.update(x.tolist())
        batches += [b for b in floats(s["batch"]) if np.isfinite(b)]
        for ax, (key, _) in zip(axes, PANELS, strict=True):
            y = floats(s[key])
            ax.plot(x, y, color=colour, label=label)
            ax.scatter(x[full], y[full], color=colour, zorder=3)
            ax.scatter(x[~full], y[~full], facecolor="white", edgecolor=colour, zorder=3)
    for ax, (_, name) in zip(axes, PANELS, strict=True):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        grid_ticks(ax.xaxis, sorted(grid))
        plain_log_ticks(ax.yaxis)
        ax.set_xlabel(axis)
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
    if batches:  # the batches tried are powers of two: label each one the panel spans
        low, high = int(np.floor(np.log2(min(batches)))), int(np.ceil(np.log2(max(batches))))
        grid_ticks(axes[1].yaxis, [2.0**k for k in range(low, high + 1)])
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{run.key}: the cost as batch × steps (median over the seeds that reached it)")
    caption = (
        f"samples to the target, the smallest successful batch and the steps taken with it "
        f"against {axis}: medians over the seeds that reached the target (each factor's median "
        "taken apart)"
    )
    if partial:
        caption += "; hollow: a point some seeds did not reach within the budget"
    return [Plot("cost", caption, fig)]


@hookimpl
def register_figures() -> list[FigureMaker]:
    return [
        FigureMaker(
            "cost_decomposition", cost_decomposition, "a cost's batch × steps against the grid"
        )
    ]
