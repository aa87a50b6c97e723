"""The verdict matrix of a sweep (``check`` with several ``--algorithm`` configurations or
``--family`` values; docs/reference.md §7): claims × configurations, one panel per instance
family (stacked, on one column axis), each cell coloured by the run's verdict and printing its
decisive statistic — the fitted exponent with its interval of the first scaling check whose
verdict is the run's, else just the verdict. A claim that trains nothing ran once per family and
fills its row. Drawn above the per-claim figures, with a legend of the verdicts it shows; a
results file of one configuration and one family has no matrix."""

from __future__ import annotations

from collections.abc import Sequence

from scb_verify.family import family_label
from scb_verify.records import ClaimRun, claim_order
from scb_verify.report.plot import Plot, new_figure
from scb_verify.report.style import STATUS_COLOUR_NAMES, STATUS_COLOURS, text_colour
from scb_verify.verdict import Status


def decisive(run: ClaimRun) -> str:
    """The cell text of a run: its verdict, and the fit of the first scaling check whose verdict
    is the run's (one that decided it; a reach check that held says nothing about the statement)
    — ``0.12 [0.01, 0.23]``."""
    check = next((c for c in run.checks if c.status is run.status and c.fit is not None), None)
    if check is None:
        return run.status.value
    fit = check.fit
    return f"{run.status.value}\n{fit.slope:.2g} [{fit.ci[0]:.2g}, {fit.ci[1]:.2g}]"


def axes_of(runs: Sequence[ClaimRun]) -> tuple[list[str], list[str], list[str]]:
    """(claim ids, configuration labels, family labels) in the order the runs give them."""
    ids = sorted({r.id for r in runs}, key=claim_order)
    configs = list(dict.fromkeys(r.configuration for r in runs if not _independent(r)))
    families = list(dict.fromkeys(family_label(r.family) for r in runs))
    return ids, configs, families


def verdict_matrix(runs: Sequence[ClaimRun]) -> Plot | None:
    """The matrix figure, or None when the runs are of one configuration and one family."""
    ids, configs, families = axes_of(runs)
    if len(configs) < 2 and len(families) < 2:
        return None
    configs = configs or [""]
    cells = {(r.id, r.configuration, family_label(r.family)): r for r in runs}
    for r in filter(_independent, runs):  # the same run in every configuration's column
        cells.update({(r.id, c, family_label(r.family)): r for c in configs})
    fig = new_figure(1.6 + 1.9 * len(configs), 1.2 + (0.7 + 0.55 * len(ids)) * len(families))
    axes = fig.subplots(len(families), 1, squeeze=False, sharex=True)[:, 0]
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    for ax, family in zip(axes, families, strict=True):
        for i, claim_id in enumerate(ids):
            for j, config in enumerate(configs):
                run = cells.get((claim_id, config, family))
                colour = to_rgba(STATUS_COLOURS[run.status.value]) if run else (1, 1, 1, 1)
                ax.add_patch(_cell(j, i, colour))
                text = decisive(run) if run else "not run"
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color=text_colour(colour) if run else "grey")  # fmt: skip
        ax.set_xlim(-0.5, len(configs) - 0.5)
        ax.set_ylim(len(ids) - 0.5, -0.5)
        ax.set_xticks(range(len(configs)), [c or "as run" for c in configs], rotation=20,
                      ha="right", fontsize=8)  # fmt: skip
        ax.set_yticks(range(len(ids)), ids)
        ax.set_title(f"family: {family or 'default'}", fontsize=9)
    fig.suptitle("Verdict matrix: claims × configurations (cell: verdict, decisive statistic)")
    shown = [s for s in Status if any(r.status is s for r in runs)]
    fig.legend(
        handles=[Patch(color=STATUS_COLOURS[s], label=s.value) for s in shown],
        loc="outside lower center",
        ncols=len(shown),
        frameon=False,
    )
    colours = ", ".join(f"{STATUS_COLOUR_NAMES[s]} {s.value}" for s in Status)
    caption = (
        f"Each cell is one claim run, coloured by its verdict ({colours}; white: not run; "
        "unreached: the target was not reached within the budget), with the fitted exponent and "
        "its 95% interval when a scaling check decided the verdict."
    )
    return Plot("verdict-matrix", caption, fig)


def _independent(run: ClaimRun) -> bool:
    """A run of a claim that trains nothing: the same in every configuration of a sweep."""
    return run.algorithm is None and not run.configuration


def _cell(x: float, y: float, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="white", lw=2)
