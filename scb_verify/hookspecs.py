"""Hook specifications: the whole plugin API of scb-verify.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the
specs below. The built-in algorithms, claims and executor are such modules, registered from
:data:`scb_verify.registry.DEFAULT_PLUGINS`; third-party plugins are found through the
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
        engine slots in here without any change to claims.

    Called once per plugin manager, when the registry is built.
    """
