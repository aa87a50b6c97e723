"""Plugins: built-ins through the entry-point group, extra modules through --plugin and
SCB_VERIFY_PLUGINS, duplicate and malformed registrations rejected with the sources named."""

import json
import shutil
import subprocess
from importlib.metadata import entry_points, version

import pytest
from conftest import BUILTIN_ALGORITHMS

from scb_verify.registry import PLUGINS_ENV, TRACE_ENV, PluginError, load_registry

#: A plugin that registers one do-nothing algorithm; ``{name}`` is its registered name.
STILL_PLUGIN = """
from scb_verify.hookspecs import hookimpl
from scb_verify.learner import Algorithm


class Still(Algorithm):
    name = "{name}"
    summary = "keeps its initialization (test plugin)"
    defaults = {{"speed": 0.0}}

    def init_state(self, V, A, spec, settings, pop):
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


def test_builtins_are_registered_through_the_entry_point_group(registry):
    ours = [ep for ep in entry_points(group="scb_verify") if ep.dist.name == "scb-verify"]
    assert {"pppd", "sgd", "softmax", "population"} <= {ep.name for ep in ours}
    tag = f"(scb-verify {version('scb-verify')})"
    for ep in ours:
        assert registry.pm.get_plugin(ep.name) is ep.load()
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
