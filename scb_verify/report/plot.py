"""What a figure maker makes (:class:`Plot`) and how a plugin declares one (:class:`FigureMaker`),
with the one way to get a figure (:func:`new_figure`): matplotlib imported only there, when a
report is written — a :class:`matplotlib.figure.Figure` rendered by Agg, no pyplot, no global
backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scb_verify.records import ClaimRun


class ReportError(ValueError):
    """The report cannot be written: matplotlib missing, or a figure plugin that cannot be
    loaded or clashes with another."""


@dataclass
class Plot:
    """One figure of a claim: file stem (unique within the claim), Markdown caption, figure."""

    stem: str
    caption: str
    figure: Figure


@dataclass(frozen=True)
class FigureMaker:
    """A figure for one artifact format (what :func:`~scb_verify.hookspecs.register_figures`
    returns): ``draw(run, budget, artifact)`` draws the claim's ``artifacts[artifact]``."""

    artifact: str
    draw: Callable[[ClaimRun, str, Any], list[Plot]]
    summary: str = ""


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` × ``height`` inches with constrained layout;
    :class:`ReportError` when matplotlib (the ``report`` extra) is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ReportError(
            "scb-verify report needs matplotlib: pip install 'scb-verify[report]'"
        ) from None
    return Figure(figsize=(width, height), layout="constrained")
