"""Markdown report with PNG figures from a results file (``scb-verify report RESULTS --out DIR``).

``DIR/report.md`` has the verdict table, then per claim its statement, bounds (LaTeX), checks,
measurements and figures, and the provenance last; figures go to ``DIR/figures/``. Figures are
chosen by artifact key, not by claim id, so any claim storing one of these formats gets them:

- ``trajectories``: ``{label: {samples, dist_V, dist_A}}`` — distance to the ground truth of V
  and of A against samples, the algorithm under test against every swept learning rate (C7);
- ``learning_curve``: ``{samples, metric…}`` — the same panels for one run (C2);
- ``correlation_curves``: ``{label: {samples, correlation, batch[, stage1_end]}}`` — correlation
  against samples, coloured by T, from scratch vs from a warm start, the end of stage 1
  marked (C3, C5);
- ``attention`` / ``values``: ``{name: matrix}`` — heatmaps side by side (C8);
- ``curves``: ``{label: {samples, metric…}}`` — one panel per metric (C8's loss curves).

Every scaling check that fitted a slope gets a figure: per-seed values, the per-point statistic,
the fitted line with its slope CI and the predicted exponent range as wedges through the centre
of the data, the bound in the title. An artifact that cannot be drawn is skipped with a note.

matplotlib (the ``report`` extra) is imported only here, when a report is written; figures are
:class:`matplotlib.figure.Figure` objects rendered by Agg — no pyplot, no display, no global
backend switch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scb_verify.results import (
    ScalingFit,
    brief,
    claim_key,
    expected_status,
    headline,
    scaling_fits,
)
from scb_verify.runs import HIGHER_IS_BETTER
from scb_verify.schema import load_results

#: Axis names of the §4 metrics.
METRIC_NAMES = {
    "dist_V": "‖V − P‖_F",
    "dist_A": "‖A − Q*‖_F",
    "correlation": "correlation ρ(A)",
    "excess_risk": "excess risk L − σ²/2",
    "support_recovery": "support recovery",
}
#: Display names of matrix artifacts' entries.
MATRIX_NAMES = {"Qstar": "ground truth Q*", "P": "ground truth P"}
#: A lower-is-better curve above this multiple of the largest starting value is off scale.
OFF_SCALE = 10.0
#: Heatmaps with at most this many cells print their values.
ANNOTATE_CELLS = 64
STATUS_COLOURS = {
    "holds": "tab:green",
    "violated": "tab:red",
    "inconclusive": "tab:orange",
    "error": "black",
}


class ReportError(ValueError):
    """The report cannot be written (matplotlib missing)."""


@dataclass
class Plot:
    """One figure of a claim: file stem, Markdown caption, the figure."""

    stem: str
    caption: str
    figure: Any


@dataclass
class Written:
    """What :func:`write_report` wrote."""

    markdown: Path
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_report(results: str | Path, out: str | Path) -> Written:
    """Write ``out/report.md`` and ``out/figures/*.png`` for the results file ``results``."""
    doc = load_results(results)
    figure_cls = _figure_class()
    out = Path(out)
    figdir = out / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    written = Written(out / "report.md")
    sections = [_header(doc, Path(results)), _verdict_table(doc)]
    for report in doc["claims"]:
        plots, notes = _claim_plots(report, doc.get("budget", ""), figure_cls)
        links = []
        for plot in plots:
            path = figdir / f"{_slug(claim_key(report))}-{plot.stem}.png"
            plot.figure.savefig(path, dpi=110)
            written.figures.append(path)
            links.append((plot.stem, plot.caption, path.relative_to(out).as_posix()))
        written.notes += [f"{claim_key(report)}: {n}" for n in notes]
        sections.append(_claim_section(report, links, notes))
    sections.append(_provenance(doc))
    written.markdown.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return written


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ReportError(
            "scb-verify report needs matplotlib: pip install 'scb-verify[report]'"
        ) from None
    return Figure


# --------------------------------------------------------------------------- Markdown


def _header(doc: dict[str, Any], path: Path) -> str:
    kind = "negative controls" if doc.get("controls") else "claims"
    algorithm = doc.get("algorithm") or "each claim's own"
    return (
        f"# scb-verify report\n\n"
        f"Results `{path.name}`: {len(doc['claims'])} {kind} at budget **{doc.get('budget')}**, "
        f"algorithm {algorithm}, created {doc.get('created', '?')}, commit "
        f"`{(doc.get('commit') or 'unknown')[:12]}`, {_seconds(doc.get('wall_time'))}."
    )


def _verdict_table(doc: dict[str, Any]) -> str:
    head = "negative control" if doc.get("controls") else "verdict"
    rows = [
        f"| claim | title | algorithm | {head} | runs | samples | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in doc["claims"]:
        status = r["status"]
        shown = f"**{status}**" if status != expected_status(r) else status
        title = r.get("description", {}).get("title", "")
        rows.append(
            f"| [{claim_key(r)}](#{_anchor(r)}) | {_cell(title)} | {r.get('algorithm') or '-'} "
            f"| {shown} | {r.get('runs', 0)} | {r.get('samples', 0):.3g} "
            f"| {r.get('wall_time', 0):.1f} |"
        )
    return "## Verdicts\n\n" + "\n".join(rows)


def _claim_section(
    report: dict[str, Any], links: list[tuple[str, str, str]], notes: list[str]
) -> str:
    d = report.get("description", {})
    seeds = report.get("seeds") or []
    lines = [
        f'<a id="{_anchor(report)}"></a>\n## {claim_key(report)} — {d.get("title", "")}',
        f"**Verdict: {report['status']}** · algorithm {report.get('algorithm') or '-'} · paper "
        f"{d.get('paper', '?')} · {report.get('runs', 0)} runs · "
        f"{report.get('samples', 0):.3g} samples · seeds "
        f"{f'{min(seeds)}–{max(seeds)}' if seeds else '-'} · "
        f"{_seconds(report.get('wall_time'))} · config `{report.get('config_hash', '')}`",
    ]
    if d.get("statement"):
        lines.append(f"> {d['statement']}")
    if d.get("bounds"):
        lines.append(
            "**Bounds.**\n\n"
            + "\n".join(f"- `{name}`: ${b['latex']}$" for name, b in d["bounds"].items())
        )
    if d.get("control"):
        lines.append(f"**Negative control.** {d['control']}")
    if report["checks"]:
        rows = ["| check | kind | verdict | summary |", "|---|---|---|---|"]
        rows += [
            f"| {_cell(c['label'])} | {c['kind']} | {c['status']} | {_cell(c['summary'])} |"
            for c in report["checks"]
        ]
        lines.append("**Checks.**\n\n" + "\n".join(rows))
    if report.get("measurements"):
        lines.append(
            "**Measurements.**\n\n"
            + "\n".join(f"- `{k}`: `{brief(v)}`" for k, v in report["measurements"].items())
        )
    if report.get("error"):
        lines.append(f"**Error.**\n\n```\n{report['error'].rstrip()}\n```")
    for stem, caption, href in links:
        lines.append(f"![{claim_key(report)} {stem}]({href})\n\n*{_cell(caption)}*")
    if notes:
        lines.append("\n".join(f"*Note: {n}*" for n in notes))
    return "\n\n".join(lines)


def _provenance(doc: dict[str, Any]) -> str:
    versions = doc.get("versions") or {}
    rows = ["| package | version |", "|---|---|"]
    rows += [f"| {k} | {v or '-'} |" for k, v in versions.items()]
    return (
        f"## Provenance\n\ncommit `{doc.get('commit') or 'unknown'}` · machine "
        f"{doc.get('machine', '?')} · created {doc.get('created', '?')} · schema "
        f"{doc['schema']} v{doc['schema_version']}\n\n" + "\n".join(rows)
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(report: dict[str, Any]) -> str:
    return _slug(claim_key(report)).lower()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def _seconds(value: float | None) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) else "? s"


# --------------------------------------------------------------------------- figure choice


def _claim_plots(report: dict[str, Any], budget: str, figure_cls) -> tuple[list[Plot], list[str]]:
    """The figures of one claim and notes on what could not be drawn."""
    plots, notes = [], []
    artifacts = report.get("artifacts") or {}
    for key, value in artifacts.items():
        plotter = PLOTTERS.get(key)
        if plotter is None:
            notes.append(f"artifact `{key}` is not drawn (no figure for that format)")
            continue
        if not value:
            notes.append(f"artifact `{key}` is empty: figure skipped")
            continue
        try:
            plots += plotter(figure_cls, report, budget, key, value)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            notes.append(f"artifact `{key}` is malformed ({type(e).__name__}: {e}): figure skipped")
    for fit in scaling_fits(report).values():
        try:
            plots.append(_scaling_plot(figure_cls, report, budget, fit))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            notes.append(f"scaling check {fit.label!r} is malformed ({e}): figure skipped")
    if report["status"] == "error" and not plots:
        notes.append("no figures: the claim errored")
    return plots, notes


# --------------------------------------------------------------------------- curve figures


def _distance_curves(figure_cls, report, budget, key, curves) -> list[Plot]:
    lead = (report.get("measurements") or {}).get("algorithm") or report.get("algorithm")
    fig = _curve_figure(
        figure_cls,
        curves,
        ["dist_V", "dist_A"],
        styles=_sweep_styles(curves, lead),
        title=f"{claim_key(report)}: distance to the ground truth, {lead} against SGD "
        f"(median over seeds{_setup(report, budget)})",
    )
    return [
        Plot(
            "distance",
            "distance to (P, Q*) of V and of A against samples; SGD at each swept learning rate",
            fig,
        )
    ]


def _learning_curve(figure_cls, report, budget, key, curve) -> list[Plot]:
    name = report.get("algorithm") or "run"
    metrics = [m for m in curve if m not in CURVE_EXTRAS]
    fig = _curve_figure(
        figure_cls,
        {name: curve},
        metrics,
        styles=_sweep_styles([name], name),
        title=f"{claim_key(report)}: learning curve (median over seeds{_setup(report, budget)})",
    )
    return [Plot("learning-curve", "median learning curve of the largest budget", fig)]


def _metric_curves(figure_cls, report, budget, key, curves) -> list[Plot]:
    metrics = [m for m in next(iter(curves.values())) if m not in CURVE_EXTRAS]
    names = {label: _display(label, report) for label in curves}
    fig = _curve_figure(
        figure_cls,
        {names[k]: v for k, v in curves.items()},
        metrics,
        styles=_sweep_styles(names.values(), names.get("model")),
        title=f"{claim_key(report)}: {', '.join(METRIC_NAMES.get(m, m) for m in metrics)} "
        f"(median over seeds{_setup(report, budget)})",
    )
    return [Plot("curves", "median curves of both models against samples", fig)]


_T_IN_LABEL = re.compile(r"T=(\d+)")


def _correlation_curves(figure_cls, report, budget, key, curves) -> list[Plot]:
    """C3 labels are T values, C5 labels ``"scratch T=64"``: colour by T, style by kind."""
    parsed = {}
    for label, curve in curves.items():
        match = _T_IN_LABEL.search(label)
        if match:
            parsed[label] = (_T_IN_LABEL.sub("", label).strip(), int(match.group(1)), curve)
        else:
            parsed[label] = ("", int(label), curve)
    ts = sorted({t for _, t, _ in parsed.values()})
    kinds = sorted({k for k, _, _ in parsed.values()}, key=lambda k: (k != "scratch", k))
    cmap = _colormap("viridis", len(ts))
    dashes = ["-", "--", ":", "-."]
    styles, marks, renamed = {}, {}, {}
    order = sorted(parsed, key=lambda label: (kinds.index(parsed[label][0]), parsed[label][1]))
    for label in order:
        kind, t, curve = parsed[label]
        name = f"{kind} T={t}".strip() + f" (batch {curve.get('batch', '?')})"
        renamed[name] = curve
        styles[name] = {
            "color": cmap[ts.index(t)],
            "linestyle": dashes[kinds.index(kind) % len(dashes)],
        }
        if curve.get("stage1_end"):
            marks[name] = curve["stage1_end"]
    level = _grid(report, budget).get("rho1")
    fig = _curve_figure(
        figure_cls,
        renamed,
        ["correlation"],
        styles=styles,
        # one run per curve: each seed trains at its own smallest successful batch, so runs of a
        # cell do not share a sample axis to take quartiles on
        title=f"{claim_key(report)}: correlation against samples (first seed; colour: T"
        + (", line: start)" if len(kinds) > 1 else ")"),
        marks=marks,
        levels={"correlation": (level, f"ρ₁ = {level:g}")} if level is not None else {},
        size=(8.0, 5.0),
    )
    caption = "correlation ρ(A) against samples (first seed, at the cell's smallest batch)"
    if marks:
        caption += "; × marks where stage 1 ends (ρ first ≥ ρ₁)"
    return [Plot("correlation", caption, fig)]


#: Keys of a curve that are not metrics: its x values and the band around its median.
CURVE_EXTRAS = ("samples", "quartiles", "batch", "stage1_end")


def _curve_figure(
    figure_cls,
    curves: dict[str, dict[str, list]],
    metrics: list[str],
    *,
    styles: dict[str, dict],
    title: str,
    marks: dict[str, float] | None = None,
    levels: dict[str, tuple[float, str]] | None = None,
    size: tuple[float, float] | None = None,
):
    """One panel per metric, one line per curve against samples (log x when the samples span
    two decades or more), with the interquartile band over seeds where the curve has one
    (``quartiles``, :func:`~scb_verify.claimkit.median_curves`); lower-is-better curves that
    blow up are cut off at the top of the plot, marked ▲ and say so in the legend."""
    fig = figure_cls(figsize=size or (5.2 * len(metrics) + 1.6, 4.4), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    xs = {label: _floats(c["samples"]) for label, c in curves.items()}
    positive = np.concatenate([x[x > 0] for x in xs.values()])
    log_x = positive.size > 0 and positive.max() / positive.min() >= 100
    for ax, metric in zip(axes, metrics, strict=True):
        ys = {label: _floats(c[metric]) for label, c in curves.items()}
        top = _off_scale_top(metric, ys)
        off = {label: top is not None and bool(np.any(y > top)) for label, y in ys.items()}
        if top is not None:
            ys = {label: np.where(y > top, np.nan, y) for label, y in ys.items()}
        for label, y in ys.items():
            x = xs[label]
            keep = np.isfinite(y) & (x > 0 if log_x else np.isfinite(x))
            band = (curves[label].get("quartiles") or {}).get(metric)
            if band is not None:
                lo, hi = _floats(band[0]), _floats(band[1])
                if top is not None:
                    hi = np.minimum(hi, top)
                inside = keep & np.isfinite(lo) & np.isfinite(hi)
                ax.fill_between(
                    x[inside],
                    lo[inside],
                    hi[inside],
                    alpha=0.15,
                    linewidth=0,
                    color=styles.get(label, {}).get("color", "black"),
                )
            # a run that leaves the scale ends in ▲ on its own line, so the legend shows it too
            clipped = {"marker": "^", "markersize": 8, "markevery": [int(keep.sum()) - 1]}
            ax.plot(
                x[keep],
                y[keep],
                label=label + (" (leaves the scale)" if off[label] else ""),
                **{
                    "linewidth": 1.6,
                    **styles.get(label, {}),
                    **(clipped if off[label] and keep.any() else {}),
                },
            )
            if marks and label in marks and (marks[label] > 0 or not log_x):
                ax.plot(
                    [marks[label]],
                    [np.interp(marks[label], x[keep], y[keep])],
                    marker="x",
                    markersize=9,
                    markeredgewidth=2,
                    color=styles.get(label, {}).get("color", "black"),
                )
        if levels and metric in levels:
            value, text = levels[metric]
            ax.axhline(value, color="grey", linestyle=":", linewidth=1)
            ax.annotate(
                text,
                (0.01, value),
                xycoords=("axes fraction", "data"),
                xytext=(0, 3),
                textcoords="offset points",
                va="bottom",
                color="grey",
            )
        if log_x:
            ax.set_xscale("log")
        finite = np.concatenate([y[np.isfinite(y)] for y in ys.values()])
        if finite.size and finite.min() > 0 and finite.max() / finite.min() >= 10:
            ax.set_yscale("log")
            _plain_log_ticks(ax.yaxis)
        ax.set_xlabel("samples" + (" (log scale)" if log_x else ""))
        ax.set_ylabel(METRIC_NAMES.get(metric, metric))
        ax.grid(True, which="major", alpha=0.3)
    axes[-1].legend(fontsize="small", loc="best")
    fig.suptitle(title)
    return fig


def _off_scale_top(metric: str, ys: dict[str, np.ndarray]) -> float | None:
    """For a lower-is-better metric some curve of which exceeds OFF_SCALE × the largest
    starting value: that limit (so one diverging run does not flatten the others)."""
    if HIGHER_IS_BETTER.get(metric, True):
        return None
    starts = [y[np.isfinite(y)][0] for y in ys.values() if np.isfinite(y).any()]
    if not starts or max(starts) <= 0:
        return None
    top = OFF_SCALE * max(starts)
    worst = max(
        np.nanmax(np.where(np.isfinite(y), y, np.nan)) for y in ys.values() if np.isfinite(y).any()
    )
    return top if worst > top else None


def _plain_log_ticks(axis) -> None:
    """Tick labels of a log axis as plain numbers (0.3, 1000, 10,000) instead of powers of ten, on
    the ticks matplotlib's log formatter chooses to label (minor ones only on short ranges);
    whole numbers are written out in full, so neighbouring labels never mix styles."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x, pos=None):
            if not super().__call__(x, pos):
                return ""
            return f"{x:,.0f}" if x >= 1 and float(x).is_integer() else f"{x:.4g}"

    axis.set_major_formatter(Plain())
    axis.set_minor_formatter(Plain(labelOnlyBase=False))


def _sweep_styles(labels: Iterable[str], lead: str | None) -> dict[str, dict]:
    """The lead curve black and thick; the others along a colormap in their given order."""
    labels = list(labels)
    others = [label for label in labels if label != lead]
    styles = dict(
        zip(others, ({"color": c} for c in _colormap("plasma", len(others))), strict=True)
    )
    if lead in labels:
        styles[lead] = {"color": "black", "linewidth": 2.6}
    return styles


def _colormap(name: str, n: int) -> list:
    from matplotlib import colormaps

    return [colormaps[name](v) for v in np.linspace(0.0, 0.85, max(n, 1))][:n]


def _display(key: str, report: dict[str, Any]) -> str:
    """A matrix or curve name for people: ground truth, the algorithm, the reference."""
    measurements = report.get("measurements") or {}
    if key == "model":
        return f"model ({report.get('algorithm')})"
    if key == "linear" and measurements.get("reference"):
        return f"linear ({measurements['reference']})"
    return MATRIX_NAMES.get(key, key)


def _grid(report: dict[str, Any], budget: str) -> dict[str, Any]:
    """The claim's parameters at ``budget`` (empty if not described)."""
    return report.get("description", {}).get("grids", {}).get(budget, {})


def _setup(report: dict[str, Any], budget: str) -> str:
    """``", batch 16, 5 seeds"`` from the claim's grid, for titles ("" if not in the grid)."""
    grid = _grid(report, budget)
    parts = [
        f"batch {grid['batch']}" if "batch" in grid else "",
        f"{grid['seeds']} seeds" if "seeds" in grid else "",
    ]
    return "".join(f", {p}" for p in parts if p)


def _floats(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# --------------------------------------------------------------------------- heatmaps

_MATRIX_AXES = {
    "attention": ("token k", "position t"),
    "values": ("current token j", "next token i"),
}


def _heatmaps(figure_cls, report, budget, key, matrices) -> list[Plot]:
    """The matrices side by side on one colour scale (diverging when some entry is < 0)."""
    arrays = {_display(name, report): np.asarray(m, dtype=float) for name, m in matrices.items()}
    lo = min(float(np.nanmin(a)) for a in arrays.values())
    hi = max(float(np.nanmax(a)) for a in arrays.values())
    if lo < 0:
        bound = max(-lo, hi)
        cmap, lo, hi = "RdBu_r", -bound, bound
    else:
        cmap, lo = "viridis", 0.0
    rows, cols = next(iter(arrays.values())).shape
    width = min(4.0, 0.9 + 0.45 * cols)
    fig = figure_cls(
        figsize=(width * len(arrays) + 1.2, min(8.0, 1.4 + 0.4 * rows)), layout="constrained"
    )
    axes = fig.subplots(1, len(arrays), squeeze=False)[0]
    xlabel, ylabel = _MATRIX_AXES.get(key, ("column", "row"))
    for ax, (name, a) in zip(axes, arrays.items(), strict=True):
        image = ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        if a.size <= ANNOTATE_CELLS:
            for (i, j), v in np.ndenumerate(a):
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if (v - lo) < 0.5 * (hi - lo) else "black",
                )
        ax.set_xticks(range(a.shape[1]))
    axes[0].set_ylabel(ylabel)
    fig.colorbar(image, ax=list(axes), shrink=0.9)
    fig.suptitle(f"{claim_key(report)}: {key} (first seed)")
    return [Plot(key, f"{key} matrices: ground truth and both models (first seed)", fig)]


PLOTTERS: dict[str, Callable[..., list[Plot]]] = {
    "trajectories": _distance_curves,
    "learning_curve": _learning_curve,
    "correlation_curves": _correlation_curves,
    "attention": _heatmaps,
    "values": _heatmaps,
    "curves": _metric_curves,
}


# --------------------------------------------------------------------------- scaling figures

#: Slopes standing in for ±∞ when a predicted range is one-sided (clipped by the axes).
_STEEP = 1e3


def _scaling_plot(figure_cls, report: dict[str, Any], budget: str, fit: ScalingFit) -> Plot:
    from matplotlib.ticker import NullLocator

    ev = fit.check["evidence"]
    x, y, stat = _floats(ev["x"]), np.atleast_2d(_floats_2d(ev["y"])), _floats(ev["stat"])
    fig = figure_cls(figsize=(7.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    for j in range(y.shape[1]):
        ax.scatter(
            x,
            y[:, j],
            s=18,
            facecolors="none",
            edgecolors="tab:gray",
            alpha=0.7,
            label="per seed" if j == 0 else None,
        )
    ax.scatter(
        x,
        stat,
        s=60,
        marker="D",
        color="tab:blue",
        zorder=3,
        label=f"{ev.get('statistic', 'statistic')} per point",
    )
    data = np.concatenate([y[np.isfinite(y) & (y > 0)], stat[np.isfinite(stat)]])
    ylim = (data.min() / 1.6, data.max() * 1.6)
    u = np.log(x)
    pad = 0.08 * (u.max() - u.min())
    grid = np.linspace(u.min() - pad, u.max() + pad, 200)
    u0 = u.mean()
    v0 = float(ev["intercept"]) + fit.slope * u0

    clip = (math.log(ylim[0]) - 1.0, math.log(ylim[1]) + 1.0)

    def wedge(s0: float, s1: float) -> tuple[np.ndarray, np.ndarray]:
        """Between the lines of slopes s0 and s1 through the centre (u0, v0), within the axes."""
        a, b = v0 + s0 * (grid - u0), v0 + s1 * (grid - u0)
        return np.exp(np.clip(np.minimum(a, b), *clip)), np.exp(np.clip(np.maximum(a, b), *clip))

    lo, hi = max(fit.predicted[0], -_STEEP), min(fit.predicted[1], _STEEP)
    ax.fill_between(
        np.exp(grid),
        *wedge(lo, hi),
        facecolor="none",
        edgecolor="tab:green",
        hatch="//",
        linewidth=0,
        alpha=0.5,
        label=f"predicted exponent {_range_text(fit.predicted)}",
    )
    level = ev.get("level", 0.95)
    ax.fill_between(
        np.exp(grid),
        *wedge(*fit.ci),
        color="tab:blue",
        alpha=0.2,
        label=f"{level:.0%} CI of the slope [{fit.ci[0]:.3g}, {fit.ci[1]:.3g}]",
    )
    ax.plot(
        np.exp(grid),
        np.exp(v0 + fit.slope * (grid - u0)),
        color="tab:blue",
        label=f"fit: slope {fit.slope:.3g}",
    )
    ax.set_ylim(ylim)
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.xaxis.set_minor_locator(NullLocator())
    _plain_log_ticks(ax.yaxis)
    bound_name = _bound_name(report, ev.get("expr"))
    x_name = _x_name(report, budget, fit, x)
    ax.set_xlabel(x_name)
    ax.set_ylabel(f"{bound_name or 'measured value'} (per seed)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize="small", loc="best")
    status = fit.check["status"]
    ax.set_title(
        f"{claim_key(report)} — {fit.label}: {status}\n{_math_title(bound_name, ev)}",
        color=STATUS_COLOURS.get(status, "black"),
    )
    return Plot(_slug(fit.label), f"scaling check {headline(fit.check)}", fig)


def _floats_2d(rows: list[list]) -> np.ndarray:
    return np.array([_floats(r) for r in rows], dtype=float)


def _range_text(predicted: tuple[float, float]) -> str:
    lo, hi = predicted
    if math.isinf(lo) and math.isinf(hi):
        return "any"
    if math.isinf(hi):
        return f"≥ {lo:.3g}"
    if math.isinf(lo):
        return f"≤ {hi:.3g}"
    return f"in [{lo:.3g}, {hi:.3g}]"


def _bound_name(report: dict[str, Any], expr: str | None) -> str | None:
    """The name under which the claim declares the bound ``expr`` (sympy text)."""
    bounds = report.get("description", {}).get("bounds", {})
    return next((name for name, b in bounds.items() if b.get("sympy") == expr), None)


def _math_title(name: str | None, ev: dict[str, Any]) -> str:
    """``name = $latex$`` when mathtext can parse the bound's LaTeX, else its sympy text."""
    from matplotlib.mathtext import MathTextParser

    prefix = f"{name} = " if name else "bound: "
    latex = ev.get("expr_latex")
    if latex:
        try:
            MathTextParser("path").parse(f"${latex}$")
        except ValueError:
            pass
        else:
            return f"{prefix}${latex}$"
    return prefix + str(ev.get("expr", "?"))


def _x_name(report: dict[str, Any], budget: str, fit: ScalingFit, x: np.ndarray) -> str:
    """The swept variable: the check's ``axis``, else (a version-1 file) the grid parameter
    whose values contain the x values."""
    if fit.axis:
        return fit.axis
    for key, values in _grid(report, budget).items():
        if (
            isinstance(values, list)
            and all(isinstance(v, int | float) for v in values)
            and (set(x.tolist()) <= {float(v) for v in values})
        ):
            return key
    return "x"
