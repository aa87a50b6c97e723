"""Figures of a claim's scaling checks (docs/reference.md §7.1), one per family.

A family is the checks of one claim that fit the same bound over the same swept variable (the
same ``axis``, ``quantity`` and bound expression) — e.g. one panel per accuracy ε, or per
matrix — drawn as panels on shared axes: the values over seeds at each grid point as their
interquartile band, the fitted statistic per point and its log–log fit, the censored seeds
counted. Under the panels a forest (:func:`scb_verify.report.forest.draw_forest`) sets each
fitted exponent and its interval against the band of exponents the prediction admits.

The check's evidence is its own data (:func:`scb_verify.checks.scaling_check` writes it) and is
read here only: ``x``, ``y`` (values per grid point over seeds), ``stat``, ``intercept``,
``censored``, ``level``, ``expr`` and ``expr_latex``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scb_verify.records import CheckRecord, ClaimRun, ScalingFit
from scb_verify.report.forest import Row, draw_forest
from scb_verify.report.plot import Plot, new_figure
from scb_verify.report.style import (
    BAND,
    STATUS_COLOURS,
    floats,
    grid_ticks,
    plain_log_ticks,
    range_text,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Below this many seeds at a grid point the values are drawn one by one, not as a band.
MIN_SEEDS_FOR_BAND = 4


@dataclass(frozen=True)
class Scaling:
    """A scaling check that fitted a slope, with the evidence its panel draws."""

    check: CheckRecord
    fit: ScalingFit
    x: np.ndarray
    values: list[np.ndarray]
    stat: np.ndarray
    intercept: float
    censored: list[int]
    level: float
    expr: str | None
    expr_latex: str | None

    @classmethod
    def of(cls, check: CheckRecord, fit: ScalingFit) -> Scaling:
        """From the check's evidence; KeyError, TypeError or ValueError if it is malformed."""
        ev = check.evidence
        x = floats(ev["x"])
        values = [floats(row) for row in ev["y"]]
        stat = floats(ev["stat"])
        if not (len(values) == len(stat) == x.size):
            raise ValueError(f"{x.size} grid points but {len(values)} rows and {stat.size} stats")
        return cls(
            check=check,
            fit=fit,
            x=x,
            values=values,
            stat=stat,
            intercept=float(ev["intercept"]),
            censored=_censored(ev.get("censored") or {}, x.size),
            level=float(ev.get("level", 0.95)),
            expr=ev.get("expr"),
            expr_latex=ev.get("expr_latex"),
        )

    @property
    def family(self) -> tuple[str | None, str, str | None]:
        return (self.fit.axis, self.fit.quantity, self.expr)


def scaling_plots(run: ClaimRun) -> tuple[list[Plot], list[str]]:
    """One figure per family of the claim's fitted scaling checks, and notes on the checks
    whose evidence cannot be drawn."""
    families: dict[tuple, list[Scaling]] = {}
    notes = []
    for label, fit in run.fits().items():
        check = run.check(label)
        try:
            scaling = Scaling.of(check, fit)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            notes.append(f"scaling check {label!r} is malformed ({type(e).__name__}: {e}): skipped")
            continue
        families.setdefault(scaling.family, []).append(scaling)
    plots = [
        family_plot(run, members, f"scaling-{i}")
        for i, members in enumerate(families.values(), start=1)
    ]
    return plots, notes


def family_plot(run: ClaimRun, members: Sequence[Scaling], stem: str) -> Plot:
    """The panels of one family side by side on shared axes, the forest of their exponents
    below."""
    n = len(members)
    fig = new_figure(max(9.5, 4.0 * n + 1.0), 4.6 + 0.45 * n)
    grid = fig.add_gridspec(2, n, height_ratios=[3.4, 0.7 + 0.4 * n])
    first = fig.add_subplot(grid[0, 0])
    panels = [first] + [
        fig.add_subplot(grid[0, j], sharex=first, sharey=first) for j in range(1, n)
    ]
    for ax, member in zip(panels, members, strict=True):
        _panel(ax, member)
    bound = _bound_name(run, members[0].expr)
    first.set_ylabel(f"{bound or 'measured value'} (per seed)")
    for ax in panels[1:]:
        ax.tick_params(which="both", labelleft=False)
    handles = first.get_legend_handles_labels()[0] + draw_forest(
        fig.add_subplot(grid[1, :]),
        [Row(m.fit.label, m.fit, m.check.status) for m in members],
    )
    fig.legend(handles=handles, loc="outside lower center", ncols=2 if n == 1 else 3, frameon=False)
    fig.suptitle(f"{run.key}: {math_title(bound, members[0].expr, members[0].expr_latex)}")
    labels = ", ".join(m.fit.label for m in members)
    predicted = sorted({range_text(m.fit.predicted) for m in members})
    caption = (
        f"scaling {'checks' if n > 1 else 'check'} {labels}: the {BAND} at each grid point "
        f"(band), the fitted statistic per point (◆) and its log–log fit; below, each fitted "
        f"exponent with its {members[0].level:.0%} CI against the predicted exponent "
        f"{' / '.join(predicted)}; "
        + "; ".join(f"{m.fit.label} {m.check.status.value}" for m in members)
    )
    return Plot(stem, caption, fig)


def _panel(ax: Axes, s: Scaling) -> None:
    """One check: the band (or the seeds) per grid point, the statistic, the fit."""
    colour = STATUS_COLOURS[s.check.status]
    ax.set_xscale("log")
    ax.set_yscale("log")
    counts = [int(np.isfinite(v).sum()) for v in s.values]
    if min(counts) >= MIN_SEEDS_FOR_BAND:
        q25, q75 = (np.array([np.nanquantile(v, q) for v in s.values]) for q in (0.25, 0.75))
        ax.fill_between(s.x, q25, q75, color="tab:gray", alpha=0.25, linewidth=0, label=BAND)
    else:
        for xi, v in zip(s.x, s.values, strict=True):
            ax.scatter(np.full(v.size, xi), v, s=14, color="tab:gray", alpha=0.6)
    ax.scatter(
        s.x,
        s.stat,
        s=50,
        marker="D",
        color="tab:blue",
        zorder=3,
        label="fitted statistic per point",
    )
    u = np.log(s.x)
    line = np.linspace(u.min(), u.max(), 50)
    ax.plot(
        np.exp(line),
        np.exp(s.intercept + s.fit.slope * line),
        color=colour,
        linewidth=2,
        label=f"fit: {s.fit.quantity}",
    )
    for xi, yi, k in zip(s.x, s.stat, s.censored, strict=True):
        if k:
            ax.annotate(
                f"{k} censored",
                (xi, yi),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                fontsize="x-small",
            )
    grid_ticks(ax.xaxis, s.x)
    plain_log_ticks(ax.yaxis)
    ax.set_xlabel(s.fit.axis or "x")
    ax.grid(True, which="both", alpha=0.25)
    ax.set_title(f"{s.fit.label}: {s.check.status.value}", color=colour)


def _censored(counts: dict, points: int) -> list[int]:
    """Censored seeds per grid point, right and left together (none if the file has none)."""
    right = counts.get("right") or [0] * points
    left = counts.get("left") or [0] * points
    return [int(a) + int(b) for a, b in zip(right, left, strict=True)]


def _bound_name(run: ClaimRun, expr: str | None) -> str | None:
    """The name under which the claim declares the bound ``expr`` (sympy text), or None."""
    return next((name for name, b in run.bounds.items() if b.get("sympy") == expr), None)


def math_title(name: str | None, expr: str | None, latex: str | None) -> str:
    """``name = $latex$`` when mathtext can parse the bound's LaTeX, else its sympy text."""
    from matplotlib.mathtext import MathTextParser

    prefix = f"{name} = " if name else "bound: "
    if latex:
        try:
            MathTextParser("path").parse(f"${latex}$")
        except ValueError:
            pass
        else:
            return f"{prefix}${latex}$"
    return prefix + str(expr or "?")
