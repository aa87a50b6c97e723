"""``scb-verify diff``: verdict changes, regressions, moved exponents, bad input."""

from __future__ import annotations

import json

import pytest
from synthetic_results import claim, failing, passing, scaling, write

from scb_verify.diff import compare
from scb_verify.records import Results
from scb_verify.schema import load_results


def test_identical_files_exit_0(cli, tmp_path):
    reports = [claim("C1", [passing()]), claim("C3", [scaling(1.0)])]
    old = write(tmp_path / "old.json", *reports)
    new = write(tmp_path / "new.json", *reports)
    code, out, _ = cli("diff", old, new)
    assert code == 0
    assert "no change" in out


def test_holds_to_violated_is_a_regression(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C1", [passing()]), claim("C2", [passing()]))
    new = write(tmp_path / "new.json", claim("C1", [passing()]), claim("C2", [failing()]))
    code, out, _ = cli("diff", old, new)
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith("C2"))
    assert "verdict" in row and "holds" in row and "violated" in row and "REGRESSION" in row
    assert not any(line.startswith("C1") for line in out.splitlines())


def test_missing_claim_is_a_regression_added_one_is_not(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C1", [passing()]), claim("C2", [passing()]))
    new = write(tmp_path / "new.json", claim("C1", [passing()]), claim("C9", [passing()]))
    code, out, _ = cli("diff", old, new)
    assert code == 1
    lines = out.splitlines()
    assert "REGRESSION" in next(line for line in lines if line.startswith("C2"))
    assert "REGRESSION" not in next(line for line in lines if line.startswith("C9"))


@pytest.mark.parametrize(
    ("before", "after", "control", "regression"),
    [
        (passing(), failing(), False, True),
        (passing(), scaling(0.0, predicted=(0.0, 1.0)), False, True),  # holds → inconclusive
        (scaling(0.0, predicted=(0.0, 1.0)), passing(), False, False),  # inconclusive → holds
        (failing(), passing(), False, True),  # a baseline finding gone (xfail strict)
        (failing(), passing(), True, True),  # a control that stops being violated
        (passing(), failing(), True, True),  # a control's baseline finding gone
    ],
)
def test_regression_rule(before, after, control, regression):
    def doc(check):
        return Results(claims=[claim("C1", [check], control=control)], controls=control)

    (change,) = [c for c in compare(doc(before), doc(after)) if c.kind == "verdict"]
    assert change.regression is regression


def test_errored_claim_is_a_regression(tmp_path):
    old = load_results(write(tmp_path / "old.json", claim("C1", [passing()])))
    new = load_results(write(tmp_path / "new.json", claim("C1", [], error="Traceback…")))
    assert [(c.old, c.new, c.regression) for c in compare(old, new)] == [("holds", "error", True)]
    # diff --json keeps numbers and verdicts as data


def test_moved_exponent_fails(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C3", [scaling(1.0)]))
    new = write(tmp_path / "new.json", claim("C3", [scaling(2.0)]))
    code, out, _ = cli("diff", old, new)
    assert code == 1  # both hold, but the exponent moved beyond its interval
    row = next(line for line in out.splitlines() if "slope" in line)
    assert row.startswith("C3") and "REGRESSION" in row
    assert "1 change(s), 1 regression(s), 0 expected finding(s)" in out


def test_exponent_within_intervals_is_not_reported(tmp_path):
    old = load_results(write(tmp_path / "old.json", claim("C3", [scaling(1.0, seed=0)])))
    new = load_results(write(tmp_path / "new.json", claim("C3", [scaling(1.0, seed=1)])))
    assert compare(old, new) == []


def test_controls_against_claims_is_bad_input(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C1", [failing()], control=True), control=True)
    new = write(tmp_path / "new.json", claim("C1", [passing()]))
    code, _, err = cli("diff", old, new)
    assert code == 2
    assert "negative controls" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        (json.dumps({"schema": "something/else"}), "not an scb-verify results file"),
        (
            json.dumps({"schema": "scb-verify/results", "schema_version": 99, "claims": []}),
            "schema version 99",
        ),
        (
            json.dumps({"schema": "scb-verify/results", "schema_version": 1, "claims": [{}]}),
            "claims[0].id is missing",
        ),
    ],
)
def test_bad_input_exit_2(cli, tmp_path, content, message):
    good = write(tmp_path / "good.json", claim("C1", [passing()]))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    for args in ((bad, good), (good, bad)):
        code, _, err = cli("diff", *args)
        assert code == 2
        assert message in err and str(bad) in err
        assert len(err.strip().splitlines()) == 1
