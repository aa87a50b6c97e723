"""A regular install works without the source tree: a wheel built from a copy of the checkout,
installed into a fresh virtualenv (system site packages and those of the test environment, so
torch is not downloaded; the wheel is built in pip's isolated build environment, and installed
with no index), runs ``--version``, ``claims`` and a
smoke claim from a folder outside the checkout, every module of the checkout is imported from
the installed wheel, and the documents and the shipped baselines come with it as package
data."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import venv
from pathlib import Path

import pytest

import scb_verify
from scb_verify import reference
from scb_verify.registry import PLUGINS_ENV
from scb_verify.schema import load_results

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

#: Where each source folder is installed (the layout setup.py declares).
LAYOUT = {
    "scb_verify": "scb_verify",
    "plugins": "scb_verify.plugins",
    "claims": "scb_verify.claims",
    "docs": "scb_verify.docs",
    "baselines": "scb_verify.baselines",
}

#: Build outputs and caches of a working checkout: not part of what a clean clone builds from.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "results",
    "*.egg-info",
    "__pycache__",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
)


def source_modules() -> list[str]:
    """Every module and package of the checkout, by the name it has once installed."""
    names = []
    for folder, package in LAYOUT.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join([package, *parts]))
    return names


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (PLUGINS_ENV, "PYTHONPATH")}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel built from a copy of the checkout installed in it;
    returns its ``bin`` folder."""
    root = tmp_path_factory.mktemp("install")
    shutil.copytree(ROOT, root / "src", ignore=NOT_SOURCE)
    # Without its own pip and setuptools, the venv builds with the base interpreter's (its
    # system site packages), which also provide torch and the other dependencies.
    venv.create(root / "venv", system_site_packages=True, with_pip=False)
    python = root / "venv" / "bin" / "python"
    pip = (python, "-m", "pip", "--disable-pip-version-check", "--quiet")
    # The wheel is built as `pip install` builds the project: in an isolated build environment
    # with the build system pyproject.toml asks for, never with whatever setuptools the base
    # interpreter happens to have (an old one cannot build wheels: "invalid command
    # 'bdist_wheel'"). That environment comes from the package index, as it did for the
    # install the README describes.
    built = run(*pip, "wheel", "--no-deps", "-w", root / "dist", root / "src", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("scb_verify-*.whl")
    # Dependencies installed only in the environment running the tests (a virtualenv of its
    # own) are found through a .pth file: its site packages come after the new venv's.
    own = run(python, "-c", "import site; print(site.getsitepackages()[0])", cwd=root)
    Path(own.stdout.strip(), "test-environment.pth").write_text("\n".join(site.getsitepackages()))
    # The dependencies are those already installed (the commands below import them all).
    done = run(*pip, "install", "--no-deps", "--no-index", wheel, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return python.parent


def test_every_module_comes_from_the_wheel(installed, tmp_path):
    script = (
        "import importlib.util, json, sys\n"
        "print(json.dumps({n: importlib.util.find_spec(n).origin for n in sys.argv[1:]}))\n"
    )
    out = run(installed / "python", "-c", script, *source_modules(), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    site = installed.parent / "lib"
    outside = {n: o for n, o in json.loads(out.stdout).items() if site not in Path(o).parents}
    assert not outside, f"not installed by the wheel: {outside}"


def test_docs_ship_as_package_data(installed, tmp_path):
    script = (
        "import importlib.resources as r\n"
        "print('\\n'.join(p.name for p in r.files('scb_verify.docs').iterdir()))\n"
    )
    out = run(installed / "python", "-c", script, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert {p.name for p in (ROOT / "docs").glob("*.md")} <= set(out.stdout.split())

    explained = run(installed / "scb-verify", "claims", "--explain", "C4", cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert reference.claim_section("C4").text in explained.stdout


def test_the_shipped_baseline_is_package_data(installed, tmp_path):
    script = (
        "from scb_verify.session import SHIPPED, load_baseline, shipped_baselines\n"
        "doc, _ = load_baseline(SHIPPED, 'ci')\n"
        "print(sorted(shipped_baselines().values()), doc.budget, len(doc.claims))\n"
    )
    out = run(installed / "python", "-c", script, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    shipped = load_results(ROOT / "baselines" / "ci.json")
    assert out.stdout.split() == ["['ci.json']", "ci", str(len(shipped.claims))]


def test_version_claims_and_a_smoke_claim(installed, tmp_path, registry):
    version = run(installed / "scb-verify", "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (
        0,
        f"scb-verify {scb_verify.__version__}",
    )

    claims = run(installed / "scb-verify", "claims", cwd=tmp_path)
    assert claims.returncode == 0, claims.stderr
    listed = {line.split()[0] for line in claims.stdout.splitlines() if line[:1].strip()}
    assert listed == set(registry.claims)

    check = run(
        installed / "scb-verify",
        "check",
        "C1",
        "--budget",
        "smoke",
        "--jobs",
        "1",
        "--quiet",
        "--json",
        "c1.json",
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    (report,) = json.loads((tmp_path / "c1.json").read_text())["claims"]
    assert (report["id"], report["status"]) == ("C1", "holds")
