"""``scb-verify plugins``: every algorithm, claim and executor, and who registered it."""

from __future__ import annotations

import argparse

HELP = "list plugins, where they come from and what they register"
DESCRIPTION = f"""{HELP}.

The built-ins come from scb_verify.registry.DEFAULT_PLUGINS, third-party plugins from the
'scb_verify' entry-point group (SCB_VERIFY_DISABLE_PLUGIN_AUTOLOAD=1 loads none of them) and
from --plugin / SCB_VERIFY_PLUGINS.

example:
  scb-verify plugins
  scb-verify --plugin my_lab.adam plugins"""

#: Hook → what its objects are called in the listing.
KINDS = {
    "register_algorithms": "algorithm",
    "register_claims": "claim",
    "register_executors": "executor",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plugins`` takes no arguments of its own."""


def run(args: argparse.Namespace) -> int:
    from scb_verify.registry import load_registry
    from scb_verify.text import format_table

    reg = load_registry(args.plugin)
    tables = {
        "register_algorithms": reg.algorithms,
        "register_claims": reg.claims,
        "register_executors": reg.executors,
    }
    rows = [("kind", "name", "source", "summary")]
    for (hook, name), source in sorted(reg.sources.items()):
        obj = tables[hook][name]
        rows.append((KINDS[hook], name, source, getattr(obj, "summary", getattr(obj, "title", ""))))
    print(format_table(rows))
    return 0
