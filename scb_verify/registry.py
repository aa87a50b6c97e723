"""Plugin discovery and lookup (pluggy).

:func:`plugin_manager` builds a fresh manager on every call — nothing is loaded at import time —
registers the built-in modules of :data:`DEFAULT_PLUGINS`, then every module of the
``scb_verify`` entry-point group (third-party plugins), then the extra modules named by the
caller or by ``SCB_VERIFY_PLUGINS``. :func:`load_registry` collects
what those plugins register, remembering which plugin registered what.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from scb_verify import __version__, hookspecs
from scb_verify.algorithm import Algorithm
from scb_verify.claim import Claim, Grid
from scb_verify.hookspecs import ExecutorFactory

ENTRY_POINT_GROUP = "scb_verify"
PLUGINS_ENV = "SCB_VERIFY_PLUGINS"
TRACE_ENV = "SCB_VERIFY_TRACE_HOOKS"
#: The built-in plugins, registered by module name before any entry point (as pytest's
#: ``default_plugins`` and datasette's ``DEFAULT_PLUGINS``): a new built-in is a line here, not
#: a reinstall. Third-party plugins keep the ``scb_verify`` entry-point group.
DEFAULT_PLUGINS = (
    "scb_verify.plugins.pppd",
    "scb_verify.plugins.sgd",
    "scb_verify.plugins.population",
    "scb_verify.plugins.softmax",
    "scb_verify.plugins.null",
    "scb_verify.runner",
    "scb_verify.ray_executor",
    "scb_verify.device_executor",
    "scb_verify.claims.c1_realizability",
    "scb_verify.claims.c2_bigram",
    "scb_verify.claims.c3_stage1",
    "scb_verify.claims.c4_stage2",
    "scb_verify.claims.c5_transfer",
    "scb_verify.claims.c6_concentration",
    "scb_verify.claims.c7_vs_sgd",
    "scb_verify.claims.c8_softmax",
)


class PluginError(RuntimeError):
    """A plugin could not be loaded, or two plugins registered the same name."""


def plugin_manager(extra_modules: Sequence[str] = ()) -> pluggy.PluginManager:
    """A new plugin manager with the built-ins, the entry-point plugins and ``extra_modules``
    registered."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_ENV):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    # An install from before DEFAULT_PLUGINS still lists the built-ins as entry points: skip them.
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None and ep.dist.name == "scb-verify":
            pm.set_blocked(ep.name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    env = [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
    for name in [*extra_modules, *env]:
        if pm.get_plugin(name) is not None:
            continue
        try:
            module = importlib.import_module(name)
        except (Exception, SystemExit) as e:  # a plugin's import error is reported, not raised
            raise PluginError(f"cannot import plugin module {name!r}: {e}") from e
        pm.register(module, name=name)
    return pm


def plugin_source(pm: pluggy.PluginManager, plugin: object) -> str:
    """Human-readable origin of a registered plugin."""
    name = pm.get_name(plugin)
    if name in DEFAULT_PLUGINS:
        return f"built-in {name.rsplit('.', 1)[-1]} (scb-verify {__version__})"
    for p, dist in pm.list_plugin_distinfo():
        if p is plugin:
            kind = "built-in" if dist.project_name == "scb-verify" else "entry point"
            return f"{kind} {name} ({dist.project_name} {dist.version})"
    return f"module {name}"


@dataclass
class Registry:
    """Everything the plugins registered: name → object, and name → source."""

    pm: pluggy.PluginManager
    algorithms: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    executors: dict[str, Any] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)

    def algorithm(self, name: str):
        """The algorithm registered as ``name``; a KeyError lists the available ones."""
        if name not in self.algorithms:
            raise KeyError(
                f"unknown algorithm {name!r}; available: {', '.join(sorted(self.algorithms))}"
            )
        return self.algorithms[name]

    def claim(self, claim_id: str):
        """The claim registered as ``claim_id``; a KeyError lists the available ones."""
        if claim_id not in self.claims:
            raise KeyError(
                f"unknown claim {claim_id!r}; available: {', '.join(sorted(self.claims))}"
            )
        return self.claims[claim_id]


def load_registry(extra_modules: Sequence[str] = ()) -> Registry:
    """Build a plugin manager and collect algorithms and claims, rejecting duplicate names."""
    pm = plugin_manager(extra_modules)
    reg = Registry(pm)
    for hook, table, key, kind in (
        ("register_algorithms", reg.algorithms, "name", Algorithm),
        ("register_claims", reg.claims, "id", Claim),
        ("register_executors", reg.executors, "name", ExecutorFactory),
    ):
        for plugin, items in _per_plugin(pm, hook):
            source = plugin_source(pm, plugin)
            if isinstance(items, BaseException):
                raise PluginError(f"{source}: {hook} raised {type(items).__name__}: {items}")
            if not isinstance(items, list | tuple):
                raise PluginError(f"{source}: {hook} returned {items!r}, not a list")
            for item in items:
                if not isinstance(item, kind):
                    raise PluginError(f"{source}: {hook} returned {item!r}, not a {kind.__name__}")
                if isinstance(item, Claim):
                    _check_grids(source, item)
                name = getattr(item, key)
                if name in table:
                    raise PluginError(
                        f"{hook.removeprefix('register_')[:-1]} {name!r} is registered twice: by "
                        f"{reg.sources[(hook, name)]} and by {source}"
                    )
                table[name] = item
                reg.sources[(hook, name)] = source
    return reg


def _check_grids(source: str, claim: Claim) -> None:
    """PluginError unless every budget of ``claim.grids`` maps to a :class:`Grid`."""
    for budget, grid in claim.grids.items():
        if not isinstance(grid, Grid):
            raise PluginError(
                f"{source}: claim {claim.id} grid {budget!r} is {type(grid).__name__}, not a "
                "Grid (declare a Grid subclass and build the grids with its budgets())"
            )


def _per_plugin(pm: pluggy.PluginManager, hook: str):
    """Call ``hook`` on each plugin separately (through pluggy, so tracing sees it); yields
    (plugin, what it returned — ``[]`` for None — or the exception it raised)."""
    plugins = pm.get_plugins()
    for impl in getattr(pm.hook, hook).get_hookimpls():
        others = [p for p in plugins if p is not impl.plugin]
        try:
            returned = pm.subset_hook_caller(hook, remove_plugins=others)()
        except Exception as e:
            yield impl.plugin, e
            continue
        for items in returned:
            yield impl.plugin, [] if items is None else items
