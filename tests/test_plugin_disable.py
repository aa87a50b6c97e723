"""Disabling a plugin by name (pytest's ``-p no:NAME``): ``--disable-plugin NAME``,
``--plugin no:NAME`` and ``SCB_VERIFY_DISABLE_PLUGINS=a,b`` leave a built-in or a ``--plugin``
module unloaded; a name that is no plugin's is a usage error. The entry-point case, with the
example plugin installed: tests/test_example_plugin.py."""

from __future__ import annotations

import pytest

from scb_verify.pluginmanager import DISABLE_ENV
from scb_verify.registry import load_registry

#: A plugin module registering one claim.
PLUGIN = """
from scb_verify.claim import Claim, ClaimOutcome
from scb_verify.hookspecs import hookimpl


class Extra(Claim):
    id = "X9"
    title = "an extra claim"
    statement = "none"
    control = "none"

    def measure(self, ctx):
        return ClaimOutcome(checks=[])


@hookimpl
def register_claims():
    return [Extra()]
"""

C8 = "scb_verify.claims.c8_softmax"


def listed(cli, *args: str) -> set[str]:
    code, out, err = cli(*args, "claims")
    assert code == 0, err
    return {line.split()[0] for line in out.splitlines() if line[:1].strip()}


@pytest.mark.parametrize("disable", [("--disable-plugin", C8), ("--plugin", f"no:{C8}")])
def test_a_built_in_can_be_disabled(cli, disable):
    assert "C8" in listed(cli)
    assert listed(cli, *disable) == listed(cli) - {"C8"}


def test_a_plugin_module_can_be_disabled(cli, plugin_module, monkeypatch):
    mod = plugin_module(PLUGIN)
    assert "X9" in listed(cli, "--plugin", mod)
    assert "X9" not in listed(cli, "--plugin", mod, "--disable-plugin", mod)
    monkeypatch.setenv(DISABLE_ENV, f"{mod}, {C8}")
    assert {"X9", "C8"}.isdisjoint(listed(cli, "--plugin", mod))
    assert {"X9", "C8"}.isdisjoint(load_registry([mod]).claims)  # as workers load it


def test_a_name_that_is_no_plugin_is_a_usage_error(cli):
    code, _, err = cli("--disable-plugin", "scb_verify.claims.c9", "claims")
    assert code == 2
    assert "cannot disable plugin 'scb_verify.claims.c9': no plugin has that name" in err
