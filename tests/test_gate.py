"""The baseline gate: ``check --baseline`` and ``diff`` treat a finding (violated or unreached)
recorded in the baseline as an expected finding, fail on every move for the worse — for a claim
on holds > inconclusive > unreached > violated > error; for a control violated and unreached are
both good — and on a baseline finding that no longer shows (like ``xfail(strict=True)``), and
do not count claims skipped on purpose (a claim that trains nothing, or one about a particular
model, under ``--algorithm``) as missing; the baseline shipped with the package is the
default; ``diff --json`` for machines. Exponents: tests/test_diff.py and
tests/test_gate_level.py."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from synthetic_results import claim, failing, passing, scaling, write

from scb_verify import session
from scb_verify.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATED
from scb_verify.diff import claim_changes, compare, rank
from scb_verify.records import Results
from scb_verify.runner import plan
from scb_verify.schema import load_results
from scb_verify.session import Configuration
from scb_verify.verdict import CheckResult, Status

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


def test_a_violation_now_unreached_is_still_an_expected_finding(gate):
    code, out = gate(XA="holds", XB="unreached")
    assert code == EXIT_OK, out
    row = next(line for line in out.splitlines() if line.startswith("XB") and "verdict" in line)
    assert "violated" in row and "unreached" in row and "still a finding" in row
    assert "expected" in row and "REGRESSION" not in row


def test_a_claim_that_held_and_is_now_unreached_fails(gate):
    code, out = gate(XA="unreached", XB="violated")
    assert code == EXIT_VIOLATED
    row = next(line for line in out.splitlines() if line.startswith("XA") and "verdict" in line)
    assert "holds" in row and "unreached" in row and "REGRESSION" in row


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


def test_the_scale_of_verdicts():
    # docs/reference.md §7.8: for a claim holds > inconclusive > unreached > violated > error;
    # for a control violated and unreached both good, then inconclusive, holds, error.
    claim_order = [Status.HOLDS, Status.INCONCLUSIVE, Status.UNREACHED, Status.VIOLATED]
    ranks = [rank(s, False) for s in [*claim_order, Status.ERROR]]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == 5
    assert rank(Status.VIOLATED, True) == rank(Status.UNREACHED, True)
    control_order = [Status.UNREACHED, Status.INCONCLUSIVE, Status.HOLDS, Status.ERROR]
    ranks = [rank(s, True) for s in control_order]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == 4


def _fixed(status: str, control: bool = False):
    return claim("C1", [CheckResult("reach", status, status, {})], control=control)


@pytest.mark.parametrize(
    ("old", "new", "control", "regression", "expected", "note"),
    [
        ("holds", "unreached", False, True, False, ""),
        ("inconclusive", "unreached", False, True, False, ""),
        ("unreached", "violated", False, True, False, ""),  # a move for the worse
        ("violated", "unreached", False, False, True, "still a finding"),
        ("unreached", "unreached", False, False, True, ""),  # kind "expected finding"
        ("unreached", "inconclusive", False, False, False, ""),
        ("unreached", "holds", False, True, False, "baseline finding gone"),  # xfail strict
        ("unreached", "error", False, True, False, ""),
        ("violated", "unreached", True, False, False, ""),  # both good for a control
        ("unreached", "violated", True, False, False, ""),
        ("unreached", "inconclusive", True, True, False, ""),
        ("unreached", "holds", True, True, False, ""),
        ("holds", "unreached", True, True, False, "baseline finding gone"),  # as holds → violated
    ],
)
def test_unreached_on_the_gates_scale(old, new, control, regression, expected, note):
    (change,) = claim_changes(_fixed(old, control), _fixed(new, control))
    assert (change.old, change.new) == (Status(old), Status(new))
    assert (change.regression, change.expected, change.note) == (regression, expected, note)
    assert change.kind == ("expected finding" if old == new else "verdict")


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


# ------------------------------------------------------------------ the shipped baseline


def test_baseline_without_a_file_is_the_one_shipped_for_the_budget(cli, plugin_module):
    mod = plugin_module(PLUGIN)
    code, out, err = cli("--plugin", mod, "check", "XA", "--budget", "ci", "-q", "--baseline")
    assert code == EXIT_OK, err
    assert "baseline: 1 change(s), 0 regression(s)" in out  # XA is not in it: added
    code, _, err = cli("--plugin", mod, "check", "XA", "-q", "--baseline")
    assert code == EXIT_USAGE
    assert "no baseline is shipped for budget 'smoke' (shipped: ci)" in err


def test_a_baseline_tolerance_needs_a_baseline(cli):
    code, _, err = cli("check", "C1", "--baseline-tolerance", "0.1")
    assert code == EXIT_USAGE and "--baseline-tolerance needs --baseline" in err


# ------------------------------------------------------- claims about one particular model


def test_a_claim_about_one_model_is_skipped_under_another_algorithm(registry):
    claims = [registry.claims[c] for c in ("C1", "C2", "C8")]
    assert session.skipped(claims, "sgd") == {
        "C1": "C1 trains nothing: not run with --algorithm sgd",
        "C8": "C8 is a claim about the softmax model: not run with --algorithm sgd",
    }
    assert session.skipped(claims, "softmax") == {
        "C1": "C1 trains nothing: not run with --algorithm softmax"
    }
    planned = plan(claims, budget="ci", configurations=[Configuration("sgd")])
    assert [p.claim.id for p in planned] == ["C2"]
    assert [c.describe()["substitutable"] for c in claims] == [True, True, False]


def test_the_gate_counts_it_as_skipped_on_purpose_not_missing(registry):
    shipped, _ = session.load_baseline(session.SHIPPED, "ci")
    c2 = replace(shipped.by_key()["C2"], algorithm="sgd")
    new = Results(claims=[c2], budget="ci", algorithm="sgd")
    claims = [registry.claims[c] for c in ("C2", "C8")]
    changes = session.gate(shipped, claims, new, algorithm="sgd")
    assert [(c.claim, c.kind, c.regression) for c in changes] == [
        ("C2", "algorithm", False),
        ("C8", "skipped", False),
    ]
    # diff of two files reads it from the baseline's record of the claim
    old = Results(claims=[claim("C8", [passing()], algorithm="softmax")])
    old.claims[0].description["substitutable"] = False
    (change,) = compare(old, Results(claims=[], algorithm="sgd"))
    assert (change.kind, change.regression) == ("skipped", False)
    assert "a claim about the softmax model" in change.note
