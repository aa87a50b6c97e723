"""Commands that read or describe, and do not train, start neither torch nor numba: each runs
in a fresh interpreter and the modules it loaded are listed at exit."""

from __future__ import annotations

import subprocess
import sys

import pytest
from synthetic_results import claim, passing, scaling, write

pytestmark = pytest.mark.slow

PROBE = """
import atexit, sys
from scb_verify.cli import main

def loaded():
    heavy = sorted(m for m in ("torch", "numba") if m in sys.modules)
    print("HEAVY:" + ",".join(heavy), file=sys.stderr)

atexit.register(loaded)
try:
    code = main(sys.argv[1:])
except SystemExit as e:  # --version and --help exit through argparse
    code = e.code
sys.exit(code)
"""


def heavy_modules(*args: str) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("HEAVY:"))
    return proc.returncode, [m for m in line.removeprefix("HEAVY:").split(",") if m]


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("check", "--help"), ("chek",)])
def test_version_help_and_usage_errors_are_light(args):
    code, heavy = heavy_modules(*args)
    assert code in (0, 2) and heavy == []


def test_diff_and_report_are_light(tmp_path):
    pytest.importorskip("matplotlib")
    old = write(tmp_path / "old.json", claim("C1", [passing()]), claim("C3", [scaling(1.0)]))
    new = write(tmp_path / "new.json", claim("C1", [passing()]), claim("C3", [scaling(1.0)]))
    assert heavy_modules("diff", old, new) == (0, [])
    assert heavy_modules("report", new, "--out", tmp_path / "rep") == (0, [])


def test_a_mistyped_command_suggests_the_right_one(cli):
    code, _, err = cli("chek")
    assert code == 2 and "did you mean 'check'?" in err


def test_claim_ids_match_case_insensitively_and_suggest(cli):
    code, out, err = cli("claims", "--explain", "c4")
    assert code == 0 and out.startswith("C4"), err
    code, _, err = cli("claims", "--explain", "C44")
    assert code == 2 and "did you mean 'C4'?" in err
    code, _, err = cli("check", "--algorithm", "PPD", "C2")
    assert code == 2 and "did you mean 'pppd'?" in err
