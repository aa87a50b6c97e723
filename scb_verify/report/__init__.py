"""Markdown report with PNG figures from a results file (``scb-verify report RESULTS --out DIR``).

``DIR/report.md`` has the verdict table, the verdict matrix of a sweep
(:mod:`~scb_verify.report.matrix`), a forest plot of every scaling check against its
predicted range (:mod:`~scb_verify.report.forest`), then per claim run its statement, bounds
(LaTeX), checks, measurements and figures, and the provenance last; figures go to
``DIR/figures/``. The report reads the typed records of :mod:`scb_verify.records` only.

Figures of artifacts are plugins (:func:`~scb_verify.hookspecs.register_figures`, chosen by
artifact key, never by claim id: :mod:`~scb_verify.report.figures`), the built-in ones in
:mod:`~scb_verify.report.curves`, :mod:`~scb_verify.report.correlation`,
:mod:`~scb_verify.report.heatmaps` and :mod:`~scb_verify.report.cost`; every family of
scaling checks gets its panels (:mod:`~scb_verify.report.scaling`). matplotlib (the ``report``
extra) is imported only when a report is written (:func:`new_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scb_verify.report.plot import FigureMaker, Plot, ReportError, new_figure

__all__ = ["FigureMaker", "Plot", "ReportError", "Written", "new_figure", "write_report"]

#: Resolution of the written figures.
DPI = 110


@dataclass
class Written:
    """What :func:`write_report` wrote."""

    markdown: Path
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_report(results: str | Path, out: str | Path, plugins: Sequence[str] = ()) -> Written:
    """Write ``out/report.md`` and ``out/figures/*.png`` for the results file ``results``;
    ``plugins`` are extra figure plugin modules (``--plugin``). :class:`ReportError` when
    matplotlib is missing or a figure plugin cannot be loaded — before anything is written."""
    from scb_verify.report import markdown
    from scb_verify.report.figures import claim_plots, figure_makers
    from scb_verify.report.forest import summary_forest
    from scb_verify.report.matrix import verdict_matrix
    from scb_verify.schema import load_results

    data = load_results(results)
    new_figure(1, 1)  # matplotlib is there, or ReportError before anything is written
    makers = figure_makers(plugins)
    out = Path(out)
    figdir = out / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    written = Written(out / "report.md")

    def save(name: str, plot: Plot) -> markdown.Link:
        path = figdir / f"{name}.png"
        plot.figure.savefig(path, dpi=DPI)
        written.figures.append(path)
        return markdown.Link(plot.stem, plot.caption, path.relative_to(out).as_posix())

    sections = [markdown.header(data, Path(results)), markdown.verdict_table(data.claims)]
    matrix = verdict_matrix(data.claims)
    if matrix is not None:
        sections.append(markdown.figure_section("Verdict matrix", save(matrix.stem, matrix)))
    summary = summary_forest(data.claims)
    if summary is not None:
        sections.append(markdown.scaling_summary(save(summary.stem, summary)))
    for run in data.claims:
        plots, notes = claim_plots(run, data.budget, makers)
        links = [save(f"{markdown.slug(run.key)}-{plot.stem}", plot) for plot in plots]
        written.notes += [f"{run.key}: {n}" for n in notes]
        sections.append(markdown.claim_section(run, links, notes))
    sections.append(markdown.provenance(data))
    written.markdown.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return written
