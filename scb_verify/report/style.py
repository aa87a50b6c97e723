"""The look every figure of the report shares: verdict colours, palettes, plain tick labels,
readable text on coloured cells and the wording of a predicted range."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scb_verify.verdict import Range, Status

if TYPE_CHECKING:
    from matplotlib.axis import Axis

#: Verdict → colour (colour-blind safe: Okabe–Ito green, vermillion, reddish purple, orange).
STATUS_COLOURS = {
    Status.HOLDS: "#009E73",
    Status.VIOLATED: "#D55E00",
    Status.UNREACHED: "#CC79A7",
    Status.INCONCLUSIVE: "#E69F00",
    Status.ERROR: "black",
}
#: The colours of :data:`STATUS_COLOURS` as captions name them.
STATUS_COLOUR_NAMES = {
    Status.HOLDS: "green",
    Status.VIOLATED: "vermillion",
    Status.UNREACHED: "purple",
    Status.INCONCLUSIVE: "orange",
    Status.ERROR: "black",
}
#: Colours of a predicted range drawn as a band of admissible values: its fill and its ends.
PREDICTED_COLOUR = "#56B4E9"
PREDICTED_EDGE = "#1F77B4"
#: Spread drawn around a median over seeds, as the captions name it.
BAND = "interquartile range over seeds"


def qualitative(n: int) -> list[Any]:
    """``n`` colours that neighbours can tell apart (tab10, tab20 beyond ten)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def sequential(n: int) -> list[Any]:
    """``n`` colours in order along viridis (for an ordered parameter such as T)."""
    from matplotlib import colormaps

    return [colormaps["viridis"](v) for v in np.linspace(0.0, 0.85, max(n, 1))][:n]


def plain_number(x: float) -> str:
    """A tick label people read: whole numbers in full with thousands separators (2,097,152),
    others to four significant digits — never ``2.09715e+06``."""
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 1e4 else f"{x:.4g}"


def plain_log_ticks(axis: Axis) -> None:
    """Tick labels of a log axis as plain numbers on the ticks matplotlib's log formatter
    labels (minor ones only on short ranges)."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return plain_number(x) if super().__call__(x, pos) else ""

    axis.set_major_formatter(Plain())
    axis.set_minor_formatter(Plain(labelOnlyBase=False))


def grid_ticks(axis: Axis, values: Sequence[float]) -> None:
    """Ticks at exactly the grid's values, labelled plainly (slanted when they are long enough
    to run into each other), no minor ticks."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    labels = [plain_number(v) for v in values]
    axis.set_major_locator(FixedLocator(list(values)))
    axis.set_major_formatter(FixedFormatter(labels))
    axis.set_minor_locator(NullLocator())
    if max(map(len, labels)) > 5:
        for tick in axis.get_major_ticks():
            tick.label1.set(rotation=30, horizontalalignment="right", rotation_mode="anchor")


def text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba`` (by its relative
    luminance, WCAG)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgba[:3])
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "white"


def range_text(predicted: Range) -> str:
    """A predicted range in words with its open or closed ends: ``< 0``, ``≥ 0.3``,
    ``in [−0.6, −0.4]``, ``any``."""
    lo, hi = predicted.lo, predicted.hi
    if math.isinf(lo) and math.isinf(hi):
        return "any"
    if math.isinf(hi):
        return f"{'≥' if predicted.lo_closed else '>'} {lo:.3g}"
    if math.isinf(lo):
        return f"{'≤' if predicted.hi_closed else '<'} {hi:.3g}"
    return f"in {predicted}"


def floats(values: Sequence[Any]) -> np.ndarray:
    """JSON numbers as a float array, null as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)
