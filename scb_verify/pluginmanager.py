"""How plugin managers are built: the one loading policy shared by the full registry
(:func:`scb_verify.registry.plugin_manager`: algorithms, claims, executors) and the report's
light figure manager (:func:`scb_verify.report.figures.figure_manager`).

A manager registers the hook specifications, then the given built-in modules by name, then every
module of the ``scb_verify`` entry-point group (third-party plugins; none when
:data:`AUTOLOAD_OFF_ENV` is set), then the extra modules named by the caller (``--plugin``) or
by :data:`PLUGINS_ENV`; :func:`per_plugin` calls a hook plugin by plugin. A plugin is disabled
by its name — a built-in's module name, an entry point's name, a module's name — given as
``no:NAME`` among the extra modules (pytest's ``-p no:NAME``; ``--disable-plugin NAME``) or in
:data:`DISABLE_ENV`: it is then not loaded at all. Light: pluggy and
the standard library only, so a manager whose built-ins are light starts neither torch nor
numba.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from importlib import metadata
from typing import Any

import pluggy

from scb_verify import hookspecs

ENTRY_POINT_GROUP = "scb_verify"
PLUGINS_ENV = "SCB_VERIFY_PLUGINS"
TRACE_ENV = "SCB_VERIFY_TRACE_HOOKS"
#: Set (to anything but empty) to load no plugin of the entry-point group: only the built-ins
#: and the modules named by ``--plugin`` / :data:`PLUGINS_ENV` (as pytest's
#: ``PYTEST_DISABLE_PLUGIN_AUTOLOAD``).
AUTOLOAD_OFF_ENV = "SCB_VERIFY_DISABLE_PLUGIN_AUTOLOAD"
#: Plugins not to load, by name, comma-separated (as ``no:NAME`` entries of ``--plugin``).
DISABLE_ENV = "SCB_VERIFY_DISABLE_PLUGINS"
#: The prefix that makes an extra-module entry a plugin to disable (``--plugin no:NAME``).
DISABLED = "no:"


class PluginError(RuntimeError):
    """A plugin could not be loaded, or two plugins registered the same name."""


def _listed(variable: str) -> list[str]:
    """The comma-separated names in the environment variable ``variable``."""
    return [m.strip() for m in os.environ.get(variable, "").split(",") if m.strip()]


def new_manager(builtins: Sequence[str], extra_modules: Sequence[str] = ()) -> pluggy.PluginManager:
    """A new plugin manager with the modules ``builtins``, the entry-point plugins and
    ``extra_modules`` (then :data:`PLUGINS_ENV`'s) registered, less the plugins disabled
    (``no:NAME`` entries, :data:`DISABLE_ENV`); :class:`PluginError` names an extra module that
    cannot be imported, or a disabled name that is no plugin's."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_ENV):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    names = [*extra_modules, *_listed(PLUGINS_ENV)]
    disabled = {n.removeprefix(DISABLED) for n in names if n.startswith(DISABLED)}
    disabled |= set(_listed(DISABLE_ENV))
    modules = [n for n in names if not n.startswith(DISABLED)]
    entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    unknown = disabled - {*builtins, *modules, *(ep.name for ep in entry_points)}
    if unknown:
        raise PluginError(
            f"cannot disable plugin {sorted(unknown)[0]!r}: no plugin has that name (a built-in's "
            "module, an entry point or a --plugin module; scb-verify plugins lists them)"
        )
    for name in disabled:
        pm.set_blocked(name)
    for name in builtins:
        if not pm.is_blocked(name):
            pm.register(importlib.import_module(name), name=name)
    # An install from before DEFAULT_PLUGINS still lists the built-ins as entry points: skip them.
    for ep in entry_points:
        if ep.dist is not None and ep.dist.name == "scb-verify":
            pm.set_blocked(ep.name)
    if not os.environ.get(AUTOLOAD_OFF_ENV):
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name in modules:
        if pm.get_plugin(name) is not None or pm.is_blocked(name):
            continue
        try:
            module = importlib.import_module(name)
        except (Exception, SystemExit) as e:  # a plugin's import error is reported, not raised
            raise PluginError(f"cannot import plugin module {name!r}: {e}") from e
        pm.register(module, name=name)
    return pm


def per_plugin(pm: pluggy.PluginManager, hook: str) -> Iterator[tuple[object, Any]]:
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
