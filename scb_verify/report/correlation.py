"""Correlation against samples (built-in figure plugin, artifact ``correlation_curves``).

Format: ``{label: {samples, correlation, batch, T?, start?, stage1_end?}}`` — one run per
curve (each seed trains at its own smallest successful batch, so runs do not share a sample
axis to take quartiles on). A curve's ``T`` (the context length) colours it along an ordered
palette, its ``start`` (e.g. ``"scratch"``, ``"finetune"``) sets its line style, and
``stage1_end`` (samples) puts a × where stage 1 ends; without ``T`` each curve gets its own
colour. The claim's grid parameter ``rho1``, when it has one, is drawn as a level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scb_verify.hookspecs import hookimpl
from scb_verify.records import ClaimRun
from scb_verify.report.curves import curve_figure
from scb_verify.report.plot import FigureMaker, Plot
from scb_verify.report.style import qualitative, sequential

DASHES = ("-", "--", ":", "-.")


def correlation(run: ClaimRun, budget: str, curves: Mapping[str, Mapping[str, Any]]) -> list[Plot]:
    """ρ(A) against samples, one line per run: colour by T, line style by start."""
    by_t = all("T" in c for c in curves.values())
    starts = list(dict.fromkeys(str(c.get("start", "")) for c in curves.values()))
    order = sorted(
        curves,
        key=lambda k: (
            starts.index(str(curves[k].get("start", ""))),
            curves[k]["T"] if by_t else 0,
        ),
    )
    if by_t:
        ts = sorted({int(c["T"]) for c in curves.values()})
        colour = dict(zip(ts, sequential(len(ts)), strict=True))
        colours = {k: colour[int(curves[k]["T"])] for k in order}
        names = {k: f"{curves[k].get('start', '')} T={curves[k]['T']}".strip() for k in order}
    else:
        colours = dict(zip(order, qualitative(len(order)), strict=True))
        names = {k: k for k in order}
    names = {k: f"{name} (batch {curves[k]['batch']})" for k, name in names.items()}
    styles = {
        names[k]: {
            "color": colours[k],
            "linestyle": DASHES[starts.index(str(curves[k].get("start", ""))) % len(DASHES)],
        }
        for k in order
    }
    marks = {names[k]: curves[k]["stage1_end"] for k in order if curves[k].get("stage1_end")}
    level = run.grid(budget).get("rho1")
    legend = ["colour: T"] if by_t else []
    if len(starts) > 1:
        legend.append("line: start")
    fig = curve_figure(
        {names[k]: curves[k] for k in order},
        ["correlation"],
        styles=styles,
        title=f"{run.key}: correlation against samples (first seed"
        + "".join(f"; {text}" for text in legend)
        + ")",
        marks=marks,
        levels={"correlation": (level, f"ρ₁ = {level:g}")} if level is not None else {},
        size=(8.0, 5.0),
    )
    caption = "correlation ρ(A) against samples, one run per curve (first seed, at its batch)"
    if marks:
        caption += "; × marks where stage 1 ends"
    return [Plot("correlation", caption, fig)]


@hookimpl
def register_figures() -> list[FigureMaker]:
    return [FigureMaker("correlation_curves", correlation, "correlation against samples")]
