"""Hook specifications: the whole plugin API of scb-verify.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the
specs below. Plugins are found through the ``scb_verify`` entry-point group — the built-in
algorithms and claims are registered exactly that way — and through ``--plugin module.path`` or
the ``SCB_VERIFY_PLUGINS`` environment variable (comma-separated module paths).
Set ``SCB_VERIFY_TRACE_HOOKS=1`` to print every hook call to stderr.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("scb_verify")
hookimpl = pluggy.HookimplMarker("scb_verify")


@hookspec
def register_algorithms():
    """Return a list of learners this plugin provides.

    :return: a list of :class:`scb_verify.learner.Algorithm` instances. Each ``name`` must be
        unique across all plugins; a duplicate is an error naming both plugins.

    Called once per plugin manager, when the registry is built (every CLI command builds one).
    """


@hookspec
def register_claims():
    """Return a list of claims this plugin provides.

    :return: a list of :class:`scb_verify.claim.Claim` instances (one per theorem or
        statement checked). Each ``id`` must be unique across all plugins.

    Called once per plugin manager, when the registry is built.
    """


@hookspec
def register_executors():
    """Return a list of ways to run training jobs.

    :return: a list of :class:`scb_verify.runner.ExecutorFactory`: a ``name`` (chosen with
        ``scb-verify check --executor NAME``) and ``create(jobs)`` returning a
        ``concurrent.futures.Executor`` whose workers can import scb_verify. A distributed
        engine slots in here without any change to claims.

    Called once per plugin manager, when the registry is built.
    """
