"""Matrices side by side (built-in figure plugin, artifacts ``attention`` and ``values``).

Format: ``{name: matrix}`` (rows of numbers), every matrix the same shape. The names ``Qstar``
and ``P`` are the ground truth, ``model`` the claim's algorithm; any other name is shown as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from scb_verify.hookspecs import hookimpl
from scb_verify.records import ClaimRun
from scb_verify.report.plot import FigureMaker, Plot, new_figure
from scb_verify.report.style import text_colour

#: Display names of matrix entries.
MATRIX_NAMES = {"Qstar": "ground truth Q*", "P": "ground truth P"}
#: Per artifact: (x label, y label, colourbar label).
MATRIX_AXES = {
    "attention": ("token k", "position t", "attention weight"),
    "values": ("current token j", "next token i", "value entry"),
}
#: Heatmaps with at most this many cells print their values.
ANNOTATE_CELLS = 64


def heatmaps(
    artifact: str, run: ClaimRun, matrices: Mapping[str, Sequence[Sequence[float]]]
) -> list[Plot]:
    """The matrices side by side on one colour scale (diverging around 0 when some entry is
    negative), small ones with their values printed in black or white by cell luminance, and a
    labelled colourbar."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    arrays = {
        f"model ({run.algorithm})" if name == "model" else MATRIX_NAMES.get(name, name): np.asarray(
            m, dtype=float
        )
        for name, m in matrices.items()
    }
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"the matrices must be 2-D and of one shape, got {sorted(shapes)}")
    lo = min(float(np.nanmin(a)) for a in arrays.values())
    hi = max(float(np.nanmax(a)) for a in arrays.values())
    if lo < 0:
        bound = max(-lo, hi)
        cmap, norm = colormaps["RdBu_r"], Normalize(-bound, bound)
    else:
        cmap, norm = colormaps["viridis"], Normalize(0.0, hi or 1.0)
    rows, cols = next(iter(shapes))
    width = min(4.0, 0.9 + 0.45 * cols)
    fig = new_figure(width * len(arrays) + 1.4, min(8.0, 1.6 + 0.4 * rows))
    axes = fig.subplots(1, len(arrays), squeeze=False, sharey=True)[0]
    xlabel, ylabel, value_label = MATRIX_AXES.get(artifact, ("column", "row", "entry"))
    for ax, (name, a) in zip(axes, arrays.items(), strict=True):
        image = ax.imshow(a, cmap=cmap, norm=norm, aspect="auto")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_xticks(range(cols))
        ax.set_yticks(range(rows))
        if a.size <= ANNOTATE_CELLS:
            for (i, j), v in np.ndenumerate(a):
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_colour(cmap(norm(v))),
                )
    axes[0].set_ylabel(ylabel)
    fig.colorbar(image, ax=list(axes), shrink=0.9, label=value_label)
    fig.suptitle(f"{run.key}: {artifact} matrices (first seed)")
    return [
        Plot(artifact, f"{artifact} matrices side by side on one colour scale (first seed)", fig)
    ]


def _maker(artifact: str) -> FigureMaker:
    def draw(run: ClaimRun, budget: str, matrices: Mapping[str, Sequence[Sequence[float]]]):
        return heatmaps(artifact, run, matrices)

    return FigureMaker(artifact, draw, f"{artifact} matrices as heatmaps")


@hookimpl
def register_figures() -> list[FigureMaker]:
    return [_maker("attention"), _maker("values")]
