"""Plugin discovery and lookup (pluggy).

:func:`plugin_manager` builds a fresh manager on every call — nothing is loaded at import time —
registering the built-in modules of :data:`DEFAULT_PLUGINS`, then every module of the
``scb_verify`` entry-point group (third-party plugins), then the extra modules named by the
caller or by ``SCB_VERIFY_PLUGINS`` (the loading policy of :mod:`scb_verify.pluginmanager`).
:func:`load_registry` collects what those plugins register, remembering which plugin registered
what.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from scb_verify import __version__
from scb_verify.algorithm import Algorithm
from scb_verify.claim import Claim, Grid
from scb_verify.hookspecs import ExecutorFactory
from scb_verify.pluginmanager import (
    AUTOLOAD_OFF_ENV,
    ENTRY_POINT_GROUP,
    PLUGINS_ENV,
    TRACE_ENV,
    PluginError,
    new_manager,
    per_plugin,
)

__all__ = [
    "AUTOLOAD_OFF_ENV",
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PLUGINS_ENV",
    "TRACE_ENV",
    "PluginError",
    "Registry",
    "did_you_mean",
    "load_registry",
    "plugin_manager",
    "plugin_source",
]

#: The built-in plugins, registered by module name before any entry point (as pytest's
#: ``default_plugins`` and datasette's ``DEFAULT_PLUGINS``): a new built-in is a line here, not
#: a reinstall. Third-party plugins keep the ``scb_verify`` entry-point group.
DEFAULT_PLUGINS = (
    "scb_verify.plugins.pppd",
    "scb_verify.plugins.sgd",
    "scb_verify.plugins.population",
    "scb_verify.plugins.softmax",
    "scb_verify.plugins.null",
    "scb_verify.executors",
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


def plugin_manager(extra_modules: Sequence[str] = ()) -> pluggy.PluginManager:
    """A new plugin manager with the built-ins, the entry-point plugins and ``extra_modules``
    registered (:func:`scb_verify.pluginmanager.new_manager`)."""
    return new_manager(DEFAULT_PLUGINS, extra_modules)


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
        """The algorithm registered as ``name``; a KeyError suggests the closest name and lists
        the available ones."""
        return self.algorithms[_lookup("algorithm", name, self.algorithms)]

    def claim(self, claim_id: str):
        """The claim registered as ``claim_id`` (``c4`` finds ``C4`` when no other claim
        differs from it only in case); a KeyError suggests the closest id and lists them all."""
        return self.claims[_lookup("claim", claim_id, self.claims)]


def _lookup(kind: str, name: str, table: dict[str, Any]) -> str:
    """The key of ``table`` that ``name`` means: itself, or its only case-insensitive match;
    else a KeyError saying so, with "did you mean" and the available keys."""
    if name in table:
        return name
    folded = [k for k in table if k.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise KeyError(f"unknown {kind} {name!r}; {did_you_mean(name, table)}")


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """``"did you mean 'check'? available: a, b"`` (no suggestion when nothing is close)."""
    close = difflib.get_close_matches(name.casefold(), [c.casefold() for c in choices], n=1)
    by_folded = {c.casefold(): c for c in choices}
    hint = f"did you mean {by_folded[close[0]]!r}? " if close else ""
    return f"{hint}available: {', '.join(sorted(choices))}"


def load_registry(extra_modules: Sequence[str] = ()) -> Registry:
    """Build a plugin manager and collect algorithms and claims, rejecting duplicate names."""
    pm = plugin_manager(extra_modules)
    reg = Registry(pm)
    for hook, table, key, kind in (
        ("register_algorithms", reg.algorithms, "name", Algorithm),
        ("register_claims", reg.claims, "id", Claim),
        ("register_executors", reg.executors, "name", ExecutorFactory),
    ):
        for plugin, items in per_plugin(pm, hook):
            source = plugin_source(pm, plugin)
            if isinstance(items, BaseException):
                raise PluginError(f"{source}: {hook} raised {type(items).__name__}: {items}")
            if not isinstance(items, list | tuple):
                raise PluginError(f"{source}: {hook} returned {items!r}, not a list")
            for item in items:
                if not isinstance(item, kind):
                    raise PluginError(f"{source}: {hook} returned {item!r}, not a {kind.__name__}")
                if isinstance(item, Claim):
                    _check_claim(source, item)
                name = getattr(item, key)
                if name in table:
                    raise PluginError(
                        f"{hook.removeprefix('register_')[:-1]} {name!r} is registered twice: by "
                        f"{reg.sources[(hook, name)]} and by {source}"
                    )
                table[name] = item
                reg.sources[(hook, name)] = source
    return reg


#: What every claim must set (:class:`scb_verify.claim.Claim`); ``paper`` is optional.
CLAIM_ATTRIBUTES = ("id", "title", "statement", "control")


def _check_claim(source: str, claim: Claim) -> None:
    """PluginError, naming the plugin and the attribute, unless ``claim`` sets every required
    attribute as a non-empty string and every budget of its grids maps to a :class:`Grid`."""
    for name in CLAIM_ATTRIBUTES:
        value = getattr(claim, name, None)
        if not isinstance(value, str) or not value.strip():
            what = "is missing" if value is None else f"is {value!r}, not a non-empty string"
            raise PluginError(
                f"{source}: claim {getattr(claim, 'id', type(claim).__name__)!r}: {name} {what}"
            )
    for budget, grid in claim.grids.items():
        if not isinstance(grid, Grid):
            raise PluginError(
                f"{source}: claim {claim.id} grid {budget!r} is {type(grid).__name__}, not a "
                "Grid (declare a Grid subclass and build the grids with its budgets())"
            )
