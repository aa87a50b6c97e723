"""Plugins: built-ins from DEFAULT_PLUGINS, third parties through the entry-point group, extra
modules through --plugin and SCB_VERIFY_PLUGINS, duplicate and malformed registrations rejected
with the sources named."""

import importlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import BUILTIN_ALGORITHMS

from scb_verify.registry import (
    DEFAULT_PLUGINS,
    PLUGINS_ENV,
    TRACE_ENV,
    PluginError,
    load_registry,
)

#: A plugin that registers one do-nothing algorithm; ``{name}`` is its registered name.
STILL_PLUGIN = """
from scb_verify.hookspecs import hookimpl
from scb_verify.algorithm import Algorithm


class Still(Algorithm):
    name = "{name}"
    summary = "keeps its initialization (test plugin)"
    defaults = {{"speed": 0.0}}

    def init_state(self, V, A, spec, settings, truth):
        return {{"V": V.clone(), "A": A.clone()}}

    def step(self, state, batch, t, settings):
        pass


@hookimpl
def register_algorithms():
    return [Still()]
"""

BAD_PLUGIN = """
from scb_verify.hookspecs import hookimpl


@hookimpl
def register_algorithms():
    return ["not an algorithm"]
"""


@pytest.fixture(autouse=True)
def no_plugins_from_the_environment(monkeypatch):
    monkeypatch.delenv(PLUGINS_ENV, raising=False)
    monkeypatch.delenv(TRACE_ENV, raising=False)


def test_builtins_are_registered_from_default_plugins(registry):
    for name in DEFAULT_PLUGINS:
        assert registry.pm.get_plugin(name) is importlib.import_module(name)
    # Only once: the project declares no built-in entry point (an older install's are skipped).
    assert len(registry.pm.get_plugins()) == len(set(map(id, registry.pm.get_plugins())))
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "scb_verify" not in pyproject["project"].get("entry-points", {})
    tag = f"(scb-verify {version('scb-verify')})"
    for (hook, name), source in registry.sources.items():
        assert source.startswith("built-in ") and source.endswith(tag), (hook, name, source)
    assert {n for n, s in _algorithm_sources(registry).items() if "built-in" in s} == set(
        BUILTIN_ALGORITHMS
    )
    assert _algorithm_sources(registry)["population"] == f"built-in population {tag}"


def _algorithm_sources(registry) -> dict[str, str]:
    return {name: src for (hook, name), src in registry.sources.items() if "algorithm" in hook}


def test_a_plugin_module_named_on_the_command_line_is_listed_and_trainable(
    plugin_module, cli, tmp_path
):
    mod = plugin_module(STILL_PLUGIN.format(name="still"))
    code, out, err = cli("--plugin", mod, "plugins")
    assert code == 0, err
    row = next(line for line in out.splitlines() if " still " in line)
    assert row.split()[0] == "algorithm" and f"module {mod}" in row and "test plugin" in row
    path = tmp_path / "still.json"
    args = ("--N", 3, "--T", 4, "--Q", 2, "--batch", 8, "--samples", 16, "--quiet", "--json", path)
    code, out, err = cli("--plugin", mod, "train", "--algorithm", "still", *args)
    assert code == 0, err
    doc = json.loads(path.read_text())
    assert doc["algorithm"] == "still" and doc["settings"] == {"speed": 0.0}
    assert doc["trajectory"]["dist_V"][0] == doc["final"]["dist_V"]  # it never moved


def test_a_plugin_module_named_in_the_environment_is_registered(plugin_module, monkeypatch):
    mod = plugin_module(STILL_PLUGIN.format(name="still"))
    monkeypatch.setenv(PLUGINS_ENV, f" {mod} ,")  # blanks and empty items are ignored
    for reg in (load_registry(), load_registry([mod])):  # named twice: registered once
        assert reg.sources[("register_algorithms", "still")] == f"module {mod}"
        assert reg.algorithm("still").name == "still"


def test_the_environment_and_hook_tracing_reach_a_subprocess(plugin_module, monkeypatch):
    """The real console script, with the plugin found through PYTHONPATH (set by the fixture)."""
    mod = plugin_module(STILL_PLUGIN.format(name="still"))
    monkeypatch.setenv(PLUGINS_ENV, mod)
    monkeypatch.setenv(TRACE_ENV, "1")
    proc = subprocess.run(
        [shutil.which("scb-verify"), "plugins"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert f"module {mod}" in proc.stdout and "still" in proc.stdout
    assert "register_algorithms" in proc.stderr


def test_hook_tracing_prints_hook_calls_to_stderr(monkeypatch, capsys):
    load_registry()
    assert "register_algorithms" not in capsys.readouterr().err
    monkeypatch.setenv(TRACE_ENV, "1")
    load_registry()
    err = capsys.readouterr().err
    assert "register_algorithms" in err and "register_claims" in err


def test_two_plugins_registering_one_name_is_an_error_naming_both(plugin_module):
    first, second = (plugin_module(STILL_PLUGIN.format(name="still")) for _ in range(2))
    with pytest.raises(
        PluginError,
        match=f"algorithm 'still' is registered twice: by module {first} and by module {second}",
    ):
        load_registry([first, second])


def test_a_plugin_reusing_a_builtin_name_is_an_error_naming_both(plugin_module):
    mod = plugin_module(STILL_PLUGIN.format(name="pppd"))
    with pytest.raises(
        PluginError,
        match=rf"'pppd' is registered twice: by built-in pppd \(.*\) and by module {mod}",
    ):
        load_registry([mod])


def test_a_plugin_returning_a_non_algorithm_is_an_error(plugin_module, cli):
    mod = plugin_module(BAD_PLUGIN)
    with pytest.raises(
        PluginError, match=f"module {mod}: register_algorithms returned 'not an algorithm', not a"
    ):
        load_registry([mod])
    code, _, err = cli("--plugin", mod, "plugins")
    assert code == 2 and err.count("\n") == 1 and "not an algorithm" in err


def test_a_plugin_that_cannot_be_imported_is_an_error(plugin_module, cli):
    broken = plugin_module("raise RuntimeError('broken on purpose')\n")
    for mod, why in ((broken, "broken on purpose"), ("scb_no_such_plugin", "No module named")):
        with pytest.raises(PluginError, match=f"cannot import plugin module '{mod}': {why}"):
            load_registry([mod])
        code, _, err = cli("--plugin", mod, "plugins")
        assert code == 2 and err.startswith("scb-verify: error: cannot import plugin module")


def test_an_unknown_algorithm_lists_the_available_ones(registry):
    with pytest.raises(KeyError, match="unknown algorithm 'nope'; available: null, population"):
        registry.algorithm("nope")


def test_an_older_install_listing_the_builtins_as_entry_points_still_loads(tmp_path):
    # Metadata of an install from before DEFAULT_PLUGINS: the built-ins as entry points.
    info = tmp_path / "scb_verify-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scb-verify\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(
        "[scb_verify]\npppd = scb_verify.plugins.pppd\nlocal-executor = scb_verify.runner\n"
    )
    code = (
        "from importlib.metadata import entry_points\n"
        "from scb_verify.registry import load_registry\n"
        "assert {e.name for e in entry_points(group='scb_verify')} >= {'pppd', 'local-executor'}\n"
        "reg = load_registry()\n"
        "assert 'pppd' in reg.algorithms and 'local' in reg.executors\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
