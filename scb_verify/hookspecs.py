"""Hook specifications: the whole plugin API of scb-verify.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the
specs below: algorithms, claims and executors for every command, figures for ``report``. The
built-in algorithms, claims and executors are such modules, registered from
:data:`scb_verify.registry.DEFAULT_PLUGINS`, and so are the built-in figures
(:data:`scb_verify.report.figures.DEFAULT_FIGURES`); third-party plugins are found through the
``scb_verify`` entry-point group, ``--plugin module.path`` or the ``SCB_VERIFY_PLUGINS``
environment variable (comma-separated module paths).
Set ``SCB_VERIFY_TRACE_HOOKS=1`` to print every hook call to stderr.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from dataclasses import dataclass

import pluggy

hookspec = pluggy.HookspecMarker("scb_verify")
hookimpl = pluggy.HookimplMarker("scb_verify")


@dataclass(frozen=True)
class ExecutorFactory:
    """A named way to build an executor (what :func:`register_executors` returns):
    ``create(jobs)`` → a ``concurrent.futures.Executor`` with ``jobs`` workers."""

    name: str
    create: Callable[[int], cf.Executor]
    summary: str = ""


@hookspec
def register_algorithms():
    """Return a list of algorithms this plugin provides.

    :return: a list of :class:`scb_verify.algorithm.Algorithm` instances. Each ``name`` must be
        unique across all plugins; a duplicate is an error naming both plugins.

    Called once per plugin manager, when the registry is built (every CLI command builds one).
    """


@hookspec
def register_claims():
    """Return a list of claims this plugin provides.

    :return: a list of :class:`scb_verify.claim.Claim` instances (one per theorem or
        statement checked). Each ``id`` must be unique across all plugins, and each budget of
        its ``grids`` must map to a :class:`scb_verify.claim.Grid` (built with
        ``Grid.budgets``); a duplicate id or an untyped grid is an error naming the plugin.

    A claim that quantifies over an instance class also provides its own **falsifier**, for
    ``scb-verify falsify``: :meth:`~scb_verify.claim.Claim.falsifier` (``algorithm``: the
    registered algorithm to train, the claim's own or the ``falsify --algorithm`` substitute)
    returns a :class:`scb_verify.falsify.engine.Falsifier`, or None (the default) when the
    claim has no instance class. Its contract:

    - ``measurement(instance)`` is the claim's *own* measurement code applied to one JSON
      instance, not a re-implementation: on an instance that describes one of the claim's
      runs (``data_seeds`` naming the claim's seeds) it returns the claim's numbers;
    - ``evaluate(instance, control)`` tests that measurement against the claim's own sympy
      bound (a stochastic bound fails only on a significant excess, recurring on fresh data);
      ``control`` evaluates the deliberately false variant, which a working search must
      falsify;
    - ``instances`` is the class as a hypothesis strategy of JSON dicts, ``statement`` and
      ``parameters`` say it in words;
    - hypothesis (the ``test`` extra) is imported inside ``falsifier``, never at module level:
      loading a claim must not need it. Building blocks: :mod:`scb_verify.falsify.kit`.

    Called once per plugin manager, when the registry is built.
    """


@hookspec
def register_executors():
    """Return a list of ways to run training jobs.

    :return: a list of :class:`ExecutorFactory`: a ``name`` (chosen with
        ``scb-verify check --executor NAME``) and ``create(jobs)`` returning a
        ``concurrent.futures.Executor`` whose workers can import scb_verify. A distributed
        engine slots in here without any change to claims. A job whose process died fails its
        future with :class:`scb_verify.executors.WorkerDied` (its message says how), so the
        claim's error names the death; cancelling a future stops its job (the runner's
        deadlines rely on it).

    Called once per plugin manager, when the registry is built.
    """


@hookspec
def register_figures():
    """Return the figures this plugin draws from claim artifacts, for ``scb-verify report``.

    :return: a list of :class:`scb_verify.report.FigureMaker`, each with ``artifact`` (the key
        of a claim's ``artifacts`` it draws, e.g. ``"trajectories"``) and ``draw(run, budget,
        artifact) -> list[scb_verify.report.Plot]``: ``run`` the
        :class:`~scb_verify.records.ClaimRun` whose artifact it is, ``budget`` the results
        file's budget (``run.grid(budget)`` gives the claim's parameters), ``artifact`` the
        artifact's JSON data as the claim stored it. Each artifact key has one maker across all
        plugins: a second one is an error naming both plugins.

    The contract of ``draw``:

    - it draws whatever claim stored an artifact under that key, so it reads the artifact and
      the typed record only — never a claim id, and never another claim's story;
    - each :class:`~scb_verify.report.Plot` has a ``stem`` (unique within the claim: the file is
      ``figures/<claim>-<stem>.png``), a one-sentence ``caption`` that says what is drawn and
      which band (e.g. "interquartile range over seeds"), and a
      :class:`matplotlib.figure.Figure` from :func:`scb_verify.report.new_figure` — never
      pyplot, never a global backend;
    - an artifact it cannot draw raises ``KeyError``, ``TypeError``, ``ValueError`` or
      ``IndexError``: the report skips the figure with a note naming the artifact and goes on;
      an empty artifact is skipped before ``draw`` is called.

    Called once per report, by a light plugin manager
    (:func:`scb_verify.report.figures.figure_manager`) that registers these specs, the built-in
    figure modules (:data:`scb_verify.report.figures.DEFAULT_FIGURES`), the entry-point plugins
    and the ``--plugin`` modules — never the built-in algorithms or claims. ``scb-verify
    report`` starts neither torch nor numba itself; a third-party plugin module is imported
    there as everywhere, so it keeps torch (and matplotlib: :func:`~scb_verify.report.new_figure`
    imports it when ``draw`` runs) out of its module level to keep the report light.
    """
