"""The baseline gate: ``check --baseline`` and ``diff`` treat a violation recorded in the
baseline as an expected finding, fail on every move for the worse and on a baseline violation
that no longer shows (like ``xfail(strict=True)``), and do not count claims skipped on purpose
as missing; ``diff --json`` for machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic_results import claim, failing, passing, scaling, write

from scb_verify.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATED
from scb_verify.diff import compare
from scb_verify.records import Results
from scb_verify.schema import load_results

#: Claims whose verdict the test sets through the environment (SCB_TEST_<ID>).
PLUGIN = """
import os

from scb_verify.claim import Claim, ClaimOutcome
from scb_verify.hookspecs import hookimpl
from scb_verify.verdict import CheckResult


class Settable(Claim):
    title = "a claim whose verdict the test sets"
    paper = "-"
    statement = "none"
    control = "none"

    def __init__(self, claim_id):
        self.id = claim_id

    def measure(self, ctx):
        status = os.environ.get(f"SCB_TEST_{self.id}", "holds")
        return ClaimOutcome(checks=[CheckResult("threshold", status, status, {})])
        yield


@hookimpl
def register_claims():
    return [Settable("XA"), Settable("XB")]
"""


@pytest.fixture
def gate(cli, plugin_module, monkeypatch, tmp_path):
    """``check(XA=..., XB=...)`` runs both claims with those verdicts against the baseline
    recorded with XA holding and XB violated; returns (exit code, stdout + stderr)."""
    mod = plugin_module(PLUGIN)
    base = tmp_path / "baseline.json"

    def check(*extra, claims=("XA", "XB"), **statuses):
        for claim_id, status in statuses.items():
            monkeypatch.setenv(f"SCB_TEST_{claim_id}", status)
        code, out, err = cli("--plugin", mod, "check", *claims, "-q", "--jobs", "1", *extra)
        return code, out + err

    assert check("--json", base, XA="holds", XB="violated")[0] == EXIT_VIOLATED
    return lambda *extra, **kw: check("--baseline", base, *extra, **kw)


def test_a_violation_in_the_baseline_is_an_expected_finding(gate):
    code, out = gate(XA="holds", XB="violated")
    assert code == EXIT_OK
    row = next(line for line in out.splitlines() if line.startswith("XB") and "expected" in line)
    assert "expected finding" in row and "violated" in row
    assert "baseline: 0 change(s), 0 regression(s), 1 expected finding(s)" in out


@pytest.mark.parametrize(
    ("statuses", "what"),
    [
        ({"XA": "inconclusive", "XB": "violated"}, "verdict"),  # holds → inconclusive
        ({"XA": "holds", "XB": "holds"}, "verdict (baseline finding gone)"),  # xfail strict
    ],
)
def test_a_move_for_the_worse_or_a_finding_gone_fails(gate, statuses, what):
    code, out = gate(**statuses)
    assert code == EXIT_VIOLATED
    assert any(what in line and "REGRESSION" in line for line in out.splitlines()), out


def test_a_violation_that_became_inconclusive_passes_and_is_reported(gate):
    code, out = gate(XA="holds", XB="inconclusive")
    assert code == EXIT_OK
    assert any(line.startswith("XB") and "inconclusive" in line for line in out.splitlines())


def test_a_claim_not_selected_is_not_missing(gate):
    code, out = gate(claims=("XA",), XA="holds")
    assert code == EXIT_OK and "missing" not in out and "XB" not in out


def test_a_baseline_of_another_budget_is_a_usage_error(gate):
    code, out = gate("--budget", "ci", XA="holds")
    assert code == EXIT_USAGE and "recorded at budget 'smoke', this run is at 'ci'" in out


# ------------------------------------------------------------------------------------ diff


@pytest.mark.parametrize(
    ("before", "after", "control", "regression", "expected"),
    [
        (passing(), failing(), False, True, False),
        (scaling(0.0, predicted=(0.0, 1.0)), failing(), False, True, False),  # inconcl. → viol.
        (failing(), failing(), False, False, True),  # a known finding
        (passing(), passing(), True, False, True),  # a control that holds, as recorded
    ],
)
def test_the_gate_rule(before, after, control, regression, expected):
    def doc(check):
        return Results(claims=[claim("C1", [check], control=control)], controls=control)

    (change,) = [c for c in compare(doc(before), doc(after)) if c.kind != "check"]
    assert (change.regression, change.expected) == (regression, expected)


def test_claims_skipped_under_a_substituted_algorithm_are_not_missing(tmp_path):
    old = Results(claims=[claim("C1", [passing()], algorithm=None), claim("C2", [passing()])])
    new = Results(claims=[claim("C2", [passing()], algorithm="adam")], algorithm="adam")
    changes = compare(old, new)
    assert [(c.claim, c.kind, c.regression) for c in changes] == [
        ("C1", "skipped", False),
        ("C2", "algorithm", False),
    ]


def test_diff_json_for_machines(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C1", [passing()]), claim("C7", [failing()]))
    new = write(tmp_path / "new.json", claim("C1", [failing()]), claim("C7", [failing()]))
    code, out, err = cli("diff", old, new, "--json", "-")
    assert code == EXIT_VIOLATED, err
    doc = json.loads(out)
    assert doc["regressions"] == 1 and doc["expected"] == 1
    assert {
        (c["claim"], c["kind"], c["old"], c["new"], c["regression"]) for c in doc["changes"]
    } == {
        ("C1", "verdict", "holds", "violated", True),
        ("C7", "expected finding", "violated", "violated", False),
    }
    assert "REGRESSION" in err  # the table went to stderr


def test_the_shipped_baseline_is_a_complete_ci_run_of_every_claim(registry):
    doc = load_results(Path(__file__).resolve().parents[1] / "baselines" / "ci.json")
    assert doc.budget == "ci" and doc.complete is True and not doc.controls
    assert {c.id for c in doc.claims} == set(registry.claims)
