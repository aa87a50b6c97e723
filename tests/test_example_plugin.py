"""The example external plugin (examples/scb-verify-adam): installed offline into a target
folder, found through its entry point, usable as a substitute algorithm, and disabled by name
(``--disable-plugin``, ``--plugin no:NAME``, ``SCB_VERIFY_DISABLE_PLUGINS``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scb_verify.pluginmanager import AUTOLOAD_OFF_ENV, DISABLE_ENV

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "scb-verify-adam"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The example installed with ``pip --target`` (no network, no build isolation) from a copy,
    so the build leaves nothing in the source tree."""
    root = tmp_path_factory.mktemp("adam")
    source = root / "src"
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    target = root / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return target


def scb_verify(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``scb-verify ARGS`` in a fresh interpreter with ``target`` on its path (outside the
    checkout, whose build metadata must not shadow the installed one)."""
    env = {k: v for k, v in os.environ.items() if k != "SCB_VERIFY_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"  # tiny tensors: more torch threads only contend
    return subprocess.run(
        [sys.executable, "-m", "scb_verify.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_entry_point_is_found(installed, tmp_path):
    out = scb_verify(installed, tmp_path, "plugins")
    assert out.returncode == 0, out.stderr
    row = next(
        line for line in out.stdout.splitlines() if line.split()[:2] == ["algorithm", "adam"]
    )
    assert "entry point adam (scb-verify-adam 0.1.0)" in row


def test_substitute_algorithm_reaches_a_verdict(installed, tmp_path):
    results = tmp_path / "adam.json"
    out = scb_verify(
        installed,
        tmp_path,
        "check",
        "C7",
        "--algorithm",
        "adam",
        "--budget",
        "smoke",
        "--jobs",
        "1",
        "--quiet",
        "--json",
        str(results),
    )
    assert out.returncode in (0, 1), out.stderr  # a verdict: holds/inconclusive or violated
    (report,) = json.loads(results.read_text())["claims"]
    assert report["algorithm"] == "adam"
    assert report["status"] in ("holds", "violated", "inconclusive")
    assert report["runs"] > 0


def _lists_adam(out: subprocess.CompletedProcess) -> bool:
    assert out.returncode == 0, out.stderr
    return any(line.split()[:2] == ["algorithm", "adam"] for line in out.stdout.splitlines())


@pytest.mark.parametrize("disable", [("--disable-plugin", "adam"), ("--plugin", "no:adam")])
def test_an_entry_point_plugin_can_be_disabled_by_name(installed, tmp_path, disable):
    assert _lists_adam(scb_verify(installed, tmp_path, "plugins"))
    assert not _lists_adam(scb_verify(installed, tmp_path, *disable, "plugins"))
    out = scb_verify(installed, tmp_path, *disable, "check", "C7", "--algorithm", "adam")
    assert out.returncode == 2 and "unknown algorithm 'adam'" in out.stderr


def test_plugins_are_disabled_from_the_environment(installed, tmp_path, monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "adam")
    assert not _lists_adam(scb_verify(installed, tmp_path, "plugins"))
    # the same module named with --plugin (autoload off) is found, and disabled by its name
    monkeypatch.setenv(AUTOLOAD_OFF_ENV, "1")
    monkeypatch.setenv(DISABLE_ENV, "")
    plugin = ("--plugin", "scb_verify_adam")
    assert _lists_adam(scb_verify(installed, tmp_path, *plugin, "plugins"))
    monkeypatch.setenv(DISABLE_ENV, "scb_verify_adam")
    assert not _lists_adam(scb_verify(installed, tmp_path, *plugin, "plugins"))
