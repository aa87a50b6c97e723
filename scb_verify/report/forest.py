"""Forest plots of fitted exponents: one row per scaling check, its slope and confidence
interval against the band of slopes its prediction admits. Drawn for the whole report (the
summary at its top) and under each family of scaling panels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scb_verify.records import ClaimRun, ScalingFit
from scb_verify.report.plot import Plot, new_figure
from scb_verify.report.style import PREDICTED_COLOUR, PREDICTED_EDGE, STATUS_COLOURS, range_text
from scb_verify.verdict import Status

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

#: Half the height of a row's predicted band, in rows.
HALF_ROW = 0.34


@dataclass(frozen=True)
class Row:
    """One fitted exponent to draw: its row label, fit and verdict."""

    label: str
    fit: ScalingFit
    status: Status


def draw_forest(ax: Axes, rows: Sequence[Row]) -> list[Artist]:
    """The rows top to bottom: the predicted range as a band of admissible slopes (solid edge:
    a closed end, dashed: an open one; an unbounded side runs to the axis edge, ▸), the slope's
    CI as a bar and the slope as a dot in its verdict's colour, and at the right the numbers:
    slope [CI] · predicted · verdict. Returns the legend's entries (the caller places it)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    lo, hi = _limits(rows)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        fit, colour = row.fit, STATUS_COLOURS[row.status]
        p = fit.predicted
        left, right = max(p.lo, lo), min(p.hi, hi)
        if left < right:
            ax.add_patch(
                Rectangle(
                    (left, y - HALF_ROW),
                    right - left,
                    2 * HALF_ROW,
                    color=PREDICTED_COLOUR,
                    alpha=0.35,
                    lw=0,
                )
            )
        for end, closed in ((p.lo, p.lo_closed), (p.hi, p.hi_closed)):
            if math.isfinite(end):
                ax.plot(
                    [end, end],
                    [y - HALF_ROW, y + HALF_ROW],
                    color=PREDICTED_EDGE,
                    linestyle="-" if closed else "--",
                    linewidth=1.6,
                )
        for edge, side, marker in ((lo, p.lo, "<"), (hi, p.hi, ">")):
            if math.isinf(side):
                ax.plot(
                    [edge], [y], marker=marker, color=PREDICTED_EDGE, markersize=6, clip_on=False
                )
        ci = (max(fit.ci[0], lo), min(fit.ci[1], hi))
        ax.plot(ci, [y, y], color=colour, linewidth=2.4, solid_capstyle="butt")
        ax.plot(ci, [y, y], linestyle="none", marker="|", markersize=10, color=colour)
        ax.plot([fit.slope], [y], marker="o", markersize=7, color=colour, zorder=3)
        ax.annotate(
            f"{fit.slope:.3g} [{fit.ci[0]:.3g}, {fit.ci[1]:.3g}] · predicted "
            f"{range_text(p)} · {row.status.value}",
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
            color=colour,
        )
    ax.set_yticks(range(len(rows)), [row.label for row in reversed(rows)])
    if lo < 0 < hi:
        ax.axvline(0.0, color="grey", linewidth=0.8, zorder=0)
    ax.set_xlabel("exponent (log–log slope)")
    ax.grid(True, axis="x", alpha=0.3)
    statuses = list(dict.fromkeys(row.status for row in rows))
    return [
        Patch(
            color=PREDICTED_COLOUR, alpha=0.35, label="predicted exponents (dashed edge: open end)"
        ),
        *(
            Line2D(
                [],
                [],
                color=STATUS_COLOURS[s],
                marker="o",
                linewidth=2.4,
                label=f"slope and its CI: {s.value}",
            )
            for s in statuses
        ),
    ]


def _limits(rows: Sequence[Row]) -> tuple[float, float]:
    """x limits around 0 (no growth) and every slope, CI and finite predicted end, padded."""
    values = [0.0]
    values += [v for r in rows for v in (r.fit.slope, *r.fit.ci) if math.isfinite(v)]
    values += [
        v for r in rows for v in (r.fit.predicted.lo, r.fit.predicted.hi) if math.isfinite(v)
    ]
    lo, hi = min(values), max(values)
    pad = 0.1 * (hi - lo) if hi > lo else 0.1
    return lo - pad, hi + pad


def summary_forest(runs: Sequence[ClaimRun]) -> Plot | None:
    """Every scaling check of the report that fitted a slope, in one forest; None if none."""
    rows = [
        Row(f"{run.key} · {fit.label}", fit, run.check(label).status)
        for run in runs
        for label, fit in run.fits().items()
    ]
    if not rows:
        return None
    fig = new_figure(11.0, 1.6 + 0.42 * len(rows))
    handles = draw_forest(fig.add_subplot(), rows)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle("every scaling check: fitted exponent against its predicted range")
    return Plot(
        "scaling-summary",
        "every scaling check's fitted exponent (dot) and its confidence interval (bar) against "
        "the band of exponents its prediction admits (dashed edge: an open end), coloured by "
        "verdict",
        fig,
    )
