"""Figures of metrics against samples (built-in figure plugin): one panel per metric, one line
per run, the median over seeds with its interquartile band.

Artifact formats (a curve is ``{samples, metric…, quartiles?}`` as
:func:`scb_verify.claimkit.median_curves` writes it, ``quartiles`` being ``{metric: [first
quartile…, third quartile…]}``):

- ``trajectories``: ``{label: curve}`` with ``dist_V`` and ``dist_A`` — distance to the ground
  truth of V and of A; the curve labelled with the claim's algorithm is drawn black and thick,
  every other run in its own colour;
- ``learning_curve``: one curve — every metric it has;
- ``curves``: ``{label: curve}`` — every metric of the first curve; the label ``model`` is the
  claim's algorithm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scb_verify.hookspecs import hookimpl
from scb_verify.records import ClaimRun
from scb_verify.report.plot import FigureMaker, Plot, new_figure
from scb_verify.report.style import BAND, floats, plain_log_ticks, qualitative
from scb_verify.runs import HIGHER_IS_BETTER

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Axis names of the metrics (docs/reference.md §4).
METRIC_NAMES = {
    "dist_V": "‖V − P‖_F",
    "dist_A": "‖A − Q*‖_F",
    "correlation": "correlation ρ(A)",
    "excess_risk": "excess risk L − σ²/2",
    "support_recovery": "support recovery",
}
#: A lower-is-better curve above this multiple of the largest starting value is off scale.
OFF_SCALE = 10.0

Curve = Mapping[str, Any]


def metrics_of(curve: Curve) -> list[str]:
    """The metrics a curve records: its lists of values beside ``samples`` (a curve's other
    fields — ``quartiles``, a batch, a parameter — are not lists)."""
    return [key for key, values in curve.items() if key != "samples" and isinstance(values, list)]


def lead_styles(labels: Iterable[str], lead: str | None) -> dict[str, dict[str, Any]]:
    """The lead run black and thick; every other run its own colour of a qualitative palette,
    so neighbouring labels (learning rates of a sweep) are told apart."""
    labels = list(labels)
    others = [label for label in labels if label != lead]
    styles = {
        label: {"color": c} for label, c in zip(others, qualitative(len(others)), strict=True)
    }
    if lead in labels:
        styles[lead] = {"color": "black", "linewidth": 2.6, "zorder": 3}
    return styles


def setup_text(run: ClaimRun, budget: str) -> str:
    """``"median over 16 seeds, batch 32"``: the seeds of the run and the claim's batch at
    ``budget`` when its grid has one."""
    parts = [f"median over {len(run.seeds)} seeds" if run.seeds else "median over seeds"]
    batch = run.grid(budget).get("batch")
    if isinstance(batch, int):
        parts.append(f"batch {batch}")
    return ", ".join(parts)


def curve_figure(
    curves: Mapping[str, Curve],
    metrics: Sequence[str],
    *,
    styles: Mapping[str, Mapping[str, Any]],
    title: str,
    marks: Mapping[str, float] | None = None,
    levels: Mapping[str, tuple[float, str]] | None = None,
    size: tuple[float, float] | None = None,
) -> Figure:
    """One panel per metric, one line per curve against samples (log x when the samples span
    two decades or more; log y when the values span one, unless the metric is a score in
    [0, 1]), with the curve's interquartile band over seeds where it has one; ``marks`` put a ×
    on a curve at a sample count, ``levels`` a dotted line per metric. A lower-is-better curve
    that blows up is cut off at :data:`OFF_SCALE` × the largest start, ends in ▲ and says so
    in the legend, so one diverging run does not flatten the others."""
    fig = new_figure(*(size or (5.2 * len(metrics) + 1.6, 4.4)))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    xs = {label: floats(c["samples"]) for label, c in curves.items()}
    positive = np.concatenate([x[x > 0] for x in xs.values()])
    log_x = positive.size > 0 and positive.max() / positive.min() >= 100
    for ax, metric in zip(axes, metrics, strict=True):
        ys = {label: floats(c[metric]) for label, c in curves.items()}
        top = _off_scale_top(metric, ys)
        off = {label: top is not None and bool(np.any(y > top)) for label, y in ys.items()}
        if top is not None:
            ys = {label: np.where(y > top, np.nan, y) for label, y in ys.items()}
        for label, y in ys.items():
            style = {"linewidth": 1.6, **styles.get(label, {})}
            x = xs[label]
            keep = np.isfinite(y) & (x > 0 if log_x else np.isfinite(x))
            band = (curves[label].get("quartiles") or {}).get(metric)
            if band is not None:
                lo, hi = floats(band[0]), floats(band[1])
                if top is not None:
                    hi = np.minimum(hi, top)
                inside = keep & np.isfinite(lo) & np.isfinite(hi)
                ax.fill_between(
                    x[inside],
                    lo[inside],
                    hi[inside],
                    alpha=0.15,
                    linewidth=0,
                    color=style.get("color"),
                )
            clipped = {"marker": "^", "markersize": 8, "markevery": [int(keep.sum()) - 1]}
            ax.plot(
                x[keep],
                y[keep],
                label=label + (" (leaves the scale)" if off[label] else ""),
                **{**style, **(clipped if off[label] and keep.any() else {})},
            )
            if marks and label in marks and keep.any() and (marks[label] > 0 or not log_x):
                ax.plot(
                    [marks[label]],
                    [np.interp(marks[label], x[keep], y[keep])],
                    marker="x",
                    markersize=9,
                    markeredgewidth=2,
                    color=style.get("color"),
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
            plain_log_ticks(ax.xaxis)
        finite = np.concatenate([y[np.isfinite(y)] for y in ys.values()])
        bounded = HIGHER_IS_BETTER.get(metric, False)  # a score in [0, 1] stays linear
        if not bounded and finite.size and finite.min() > 0 and finite.max() / finite.min() >= 10:
            ax.set_yscale("log")
            plain_log_ticks(ax.yaxis)
        ax.set_xlabel("samples" + (" (log scale)" if log_x else ""))
        ax.set_ylabel(METRIC_NAMES.get(metric, metric))
        ax.grid(True, which="major", alpha=0.3)
    axes[-1].legend(fontsize="small", loc="best")
    fig.suptitle(title)
    return fig


def _off_scale_top(metric: str, ys: Mapping[str, np.ndarray]) -> float | None:
    """For a lower-is-better metric some curve of which exceeds OFF_SCALE × the largest
    starting value: that limit, else None."""
    if HIGHER_IS_BETTER.get(metric, True):
        return None
    starts = [y[np.isfinite(y)][0] for y in ys.values() if np.isfinite(y).any()]
    if not starts or max(starts) <= 0:
        return None
    top = OFF_SCALE * max(starts)
    worst = max(float(np.nanmax(y)) for y in ys.values() if np.isfinite(y).any())
    return top if worst > top else None


def distance(run: ClaimRun, budget: str, curves: Mapping[str, Curve]) -> list[Plot]:
    """Distance to the ground truth (P, Q*) of V and of A against samples: the claim's
    algorithm against every other run it stored."""
    lead = run.algorithm if run.algorithm in curves else None
    fig = curve_figure(
        curves,
        ["dist_V", "dist_A"],
        styles=lead_styles(curves, lead),
        title=f"{run.key}: distance to the ground truth ({setup_text(run, budget)})",
    )
    who = f"{lead} (black) and each other run" if lead else "each run"
    return [
        Plot(
            "distance",
            f"distance to (P, Q*) of V and of A against samples, {who}: median with its {BAND}",
            fig,
        )
    ]


def learning_curve(run: ClaimRun, budget: str, curve: Curve) -> list[Plot]:
    """Every metric of one run against samples."""
    name = run.algorithm or "run"
    fig = curve_figure(
        {name: curve},
        metrics_of(curve),
        styles=lead_styles([name], name),
        title=f"{run.key}: learning curve ({setup_text(run, budget)})",
    )
    return [Plot("learning-curve", f"learning curve: median with its {BAND}", fig)]


def curve_levels(curves: Mapping[str, Curve]) -> dict[str, tuple[float, str]]:
    """The reference levels the curves state: a curve's optional ``levels`` field, ``{metric:
    [value, text]}`` (e.g. the tolerance a claim's check allows, in the metric's units), drawn
    as a dotted line on that metric's panel; the first curve stating a metric's level wins."""
    out: dict[str, tuple[float, str]] = {}
    for curve in curves.values():
        for metric, (value, text) in (curve.get("levels") or {}).items():
            out.setdefault(metric, (float(value), str(text)))
    return out


def metric_curves(run: ClaimRun, budget: str, curves: Mapping[str, Curve]) -> list[Plot]:
    """Every metric of the runs against samples, the claim's model (label ``model``) black;
    the levels the curves state (:func:`curve_levels`) as dotted lines."""
    names = {label: f"model ({run.algorithm})" if label == "model" else label for label in curves}
    metrics = metrics_of(next(iter(curves.values())))
    levels = curve_levels(curves)
    fig = curve_figure(
        {names[k]: v for k, v in curves.items()},
        metrics,
        styles=lead_styles(names.values(), names.get("model")),
        title=f"{run.key}: {', '.join(METRIC_NAMES.get(m, m) for m in metrics)} "
        f"({setup_text(run, budget)})",
        levels=levels,
    )
    caption = f"each run against samples: median with its {BAND}"
    if levels:
        caption += "; dotted: " + "; ".join(text for _, text in levels.values())
    return [Plot("curves", caption, fig)]


@hookimpl
def register_figures() -> list[FigureMaker]:
    return [
        FigureMaker("trajectories", distance, "distance to the ground truth against samples"),
        FigureMaker("learning_curve", learning_curve, "one run's metrics against samples"),
        FigureMaker("curves", metric_curves, "several runs' metrics against samples"),
    ]
