"""Which figures a claim gets: the figure registry and the choice per claim run.

Figures of artifacts come from plugins (:func:`~scb_verify.hookspecs.register_figures`): the
built-in figure modules of :data:`DEFAULT_FIGURES`, then the entry-point plugins and the
``--plugin`` modules, loaded by a light plugin manager (:func:`figure_manager`) that never
imports the built-in algorithms or claims — the report starts neither torch nor numba. A claim
gets the figure registered for each of its artifact keys, and one figure per family of its
fitted scaling checks (:mod:`scb_verify.report.scaling`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pluggy

from scb_verify.pluginmanager import PluginError, new_manager, per_plugin
from scb_verify.records import ClaimRun
from scb_verify.report.plot import FigureMaker, Plot, ReportError
from scb_verify.report.scaling import scaling_plots
from scb_verify.verdict import Status

#: The built-in figure plugins, registered by module name before any entry point.
DEFAULT_FIGURES = (
    "scb_verify.report.curves",
    "scb_verify.report.correlation",
    "scb_verify.report.heatmaps",
    "scb_verify.report.cost",
)


def figure_manager(extra_modules: Sequence[str] = ()) -> pluggy.PluginManager:
    """A plugin manager with the hook specifications, the built-in figures, the entry-point
    plugins (unless ``SCB_VERIFY_DISABLE_PLUGIN_AUTOLOAD`` is set) and ``extra_modules``."""
    try:
        return new_manager(DEFAULT_FIGURES, extra_modules)
    except PluginError as e:
        raise ReportError(str(e)) from e


def figure_makers(extra_modules: Sequence[str] = ()) -> dict[str, FigureMaker]:
    """Artifact key → the figure that draws it, from every plugin; :class:`ReportError` for a
    hook that returns something else than FigureMakers or a key two plugins draw."""
    pm = figure_manager(extra_modules)
    makers: dict[str, FigureMaker] = {}
    owners: dict[str, str] = {}
    for plugin, returned in per_plugin(pm, "register_figures"):
        name = pm.get_name(plugin)
        if isinstance(returned, BaseException):
            raise ReportError(
                f"plugin {name}: register_figures raised {type(returned).__name__}: {returned}"
            )
        if not isinstance(returned, list | tuple):
            raise ReportError(f"plugin {name}: register_figures returned {returned!r}, not a list")
        for maker in returned:
            if not isinstance(maker, FigureMaker):
                raise ReportError(
                    f"plugin {name}: register_figures returned {maker!r}, not a FigureMaker"
                )
            if maker.artifact in makers:
                raise ReportError(
                    f"artifact {maker.artifact!r} has two figures: by {owners[maker.artifact]} "
                    f"and by {name}"
                )
            makers[maker.artifact] = maker
            owners[maker.artifact] = name
    return makers


def claim_plots(
    run: ClaimRun, budget: str, makers: Mapping[str, FigureMaker]
) -> tuple[list[Plot], list[str]]:
    """The figures of one claim run and notes on what could not be drawn."""
    plots: list[Plot] = []
    notes: list[str] = []
    for key, artifact in run.artifacts.items():
        maker = makers.get(key)
        if maker is None:
            notes.append(f"artifact `{key}` is not drawn (no figure for that format)")
        elif not artifact:
            notes.append(f"artifact `{key}` is empty: figure skipped")
        else:
            try:
                plots += maker.draw(run, budget, artifact)
            except (KeyError, TypeError, ValueError, IndexError) as e:
                notes.append(
                    f"artifact `{key}` is malformed ({type(e).__name__}: {e}): figure skipped"
                )
    scaling, scaling_notes = scaling_plots(run)
    plots += scaling
    notes += scaling_notes
    if run.status is Status.ERROR and not plots:
        notes.append("no figures: the claim errored")
    return plots, notes
