"""``scb-verify diff``: verdict changes, regressions, moved exponents, bad input."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as scipy_stats
from synthetic_results import GRID_T, claim, failing, passing, scaling, write

from scb_verify.checks import scaling_check
from scb_verify.diff import compare
from scb_verify.records import Results
from scb_verify.schema import load_results
from scb_verify.verdict import Range


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


def test_the_gate_says_beside_a_verdict_that_its_algorithm_read_the_ground_truth(cli, tmp_path):
    honest = claim("C2", [passing()])
    cheated = replace(claim("C2", [failing()]), truth_readers=["population"])
    old = write(tmp_path / "old.json", honest)
    new = write(tmp_path / "new.json", cheated)
    code, out, _ = cli("diff", old, new)
    assert code == 1
    verdict, read = [line for line in out.splitlines() if line.startswith("C2")]
    assert "verdict (read the ground truth: population)" in verdict and "REGRESSION" in verdict
    assert "read truth" in read and "population" in read and "REGRESSION" not in read
    (change,) = [c for c in compare(load_results(old), load_results(new)) if c.kind == "read truth"]
    assert (change.old, change.new, change.regression) == (None, "population", False)


def test_errored_claim_is_a_regression(tmp_path):
    old = load_results(write(tmp_path / "old.json", claim("C1", [passing()])))
    new = load_results(write(tmp_path / "new.json", claim("C1", [], error="Traceback…")))
    assert [(c.old, c.new, c.regression) for c in compare(old, new)] == [("holds", "error", True)]
    # diff --json keeps numbers and verdicts as data


def exact(slope: float, half_width: float, *, predicted, seeds=None, shift=0.0, n: int = 8):
    """A paired scaling check whose slope and 95% interval are exactly ``slope`` ±
    ``half_width``: seed j's own slope is slope + s·z_j, the z_j standardized (mean 0, sd 1),
    s chosen so that t_{n−1}·s/√n is the half width; ``shift`` adds to every seed's slope
    without entering the interval's centre (it moves the fit, as a changed algorithm does on
    the same tasks); ``seeds`` are recorded."""
    z = np.random.default_rng(0).standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    spread = half_width * math.sqrt(n) / scipy_stats.t.ppf(0.975, n - 1)
    per_seed = slope + spread * z + shift
    log_y = np.log(100.0) + np.outer(np.log(GRID_T), per_seed)
    return scaling_check(
        GRID_T, np.exp(log_y), predicted, design="paired", label="rate", seeds=seeds
    )


C2_RANGE = Range(hi=-0.1)


def changes_of(before, after, **kw):
    return compare(
        Results(claims=[claim("C2", [before])]), Results(claims=[claim("C2", [after])]), **kw
    )


def test_an_exponent_moving_toward_violating_fails(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C3", [scaling(2.0)]))
    new = write(tmp_path / "new.json", claim("C3", [scaling(1.0)]))
    code, out, _ = cli("diff", old, new)
    assert code == 1  # both hold, but the exponent moved toward its predicted end 0
    row = next(line for line in out.splitlines() if "slope" in line)
    assert row.startswith("C3") and "toward violating" in row and "REGRESSION" in row
    assert "1 change(s), 1 regression(s), 0 expected finding(s)" in out


def test_an_exponent_moving_away_is_an_improvement_not_a_failure(cli, tmp_path):
    # The issue's case: C2's rate from −0.538 to −0.66, faster, far inside (−∞, −0.1].
    old = write(tmp_path / "old.json", claim("C2", [exact(-0.538, 0.03, predicted=C2_RANGE)]))
    new = write(tmp_path / "new.json", claim("C2", [exact(-0.66, 0.03, predicted=C2_RANGE)]))
    code, out, _ = cli("diff", old, new)
    assert code == 0
    row = next(line for line in out.splitlines() if "slope" in line)
    assert "away from violating" in row and row.rstrip().endswith("improvement")
    assert "0 regression(s), 0 expected finding(s), 1 improvement(s)" in out


def test_overlapping_intervals_are_noise_not_a_change():
    # The case: −0.66 [−0.765, −0.556] → −0.538 [−0.714, −0.363] toward the bound.
    # Each slope lies outside the other's interval (the old rule failed it); the difference,
    # +0.122, has a standard error of about 0.09 (Welch) and is within the noise.
    before = exact(-0.66, 0.1045, predicted=C2_RANGE)
    after = exact(-0.5385, 0.1755, predicted=C2_RANGE)
    lo, hi = before.evidence["ci"]
    assert not lo <= after.evidence["slope"] <= hi
    assert changes_of(before, after) == []


def test_the_same_seeds_pair_the_per_seed_slopes():
    # Seeds that differ a lot from each other (interval ±0.2) and a change that moves every
    # seed's slope by +0.05: Welch's difference cannot see it, the paired one can.
    seeds = range(8)
    before = exact(-0.5, 0.2, predicted=C2_RANGE, seeds=seeds)
    after = exact(-0.5, 0.2, predicted=C2_RANGE, seeds=seeds, shift=0.05)
    (change,) = changes_of(before, after)
    assert (change.kind, change.regression, change.move.method) == ("slope", True, "paired")
    assert change.move.difference == pytest.approx(0.05)
    unpaired = exact(-0.5, 0.2, predicted=C2_RANGE, shift=0.05)  # seeds not recorded
    assert changes_of(before, unpaired) == []


def test_the_tolerance_is_a_margin_beyond_the_noise(cli, tmp_path):
    before, after = exact(-0.6, 0.03, predicted=C2_RANGE), exact(-0.4, 0.03, predicted=C2_RANGE)
    (change,) = changes_of(before, after)
    assert change.regression and 0.1 < change.move.bound < 0.2
    assert changes_of(before, after, tolerance=change.move.bound) == []
    old = write(tmp_path / "old.json", claim("C2", [before]))
    new = write(tmp_path / "new.json", claim("C2", [after]))
    assert cli("diff", old, new, "--tolerance", "0.1")[0] == 1
    assert cli("diff", old, new, "--tolerance", "0.2")[0] == 0
    code, _, err = cli("diff", old, new, "--tolerance", "-1")
    assert code == 2 and "expected a number >= 0" in err


def test_censored_fits_are_compared_by_verdict_only():
    # The C5: violated in both runs, its slopes fitted on fully censored cells (every
    # seed at the budget: "0 [0, 0]") moved. An expected finding, nothing else.
    def censored(budget_growth: float):
        y = np.outer(np.array(GRID_T, float) ** budget_growth, np.ones(8))
        return scaling_check(
            GRID_T, y, C2_RANGE, design="paired", right_censored=np.ones_like(y, dtype=bool)
        )

    before, after = censored(0.0), censored(0.5)
    assert before.evidence["ci"] != after.evidence["ci"]
    changes = compare(
        Results(claims=[claim("C5", [before, failing()])]),
        Results(claims=[claim("C5", [after, failing()])]),
    )
    assert [(c.kind, c.regression, c.expected) for c in changes] == [
        ("expected finding", False, True)
    ]


def test_files_without_the_fitted_values_compare_intervals(tmp_path):
    # A version-1 file records slope and interval only: a move counts when the intervals are
    # disjoint (by more than the tolerance), toward violating as before.
    def without_values(check):
        run = claim("C2", [check])
        record = run.checks[0]
        evidence = {k: v for k, v in record.evidence.items() if k not in ("design", "y")}
        return Results(claims=[replace(run, checks=[replace(record, evidence=evidence)])])

    old = without_values(exact(-0.66, 0.1045, predicted=C2_RANGE))
    assert compare(old, without_values(exact(-0.5385, 0.1755, predicted=C2_RANGE))) == []
    (change,) = compare(old, without_values(exact(-0.3, 0.1, predicted=C2_RANGE)))
    assert change.regression and change.move.method == "intervals"
    assert change.move.bound == pytest.approx(-0.4 - (-0.66 + 0.1045))


def test_diff_json_keeps_the_move_as_numbers(cli, tmp_path):
    old = write(tmp_path / "old.json", claim("C2", [exact(-0.6, 0.03, predicted=C2_RANGE)]))
    new = write(tmp_path / "new.json", claim("C2", [exact(-0.4, 0.03, predicted=C2_RANGE)]))
    code, out, _ = cli("diff", old, new, "--json", "-")
    assert code == 1
    (change,) = json.loads(out)["changes"]
    assert change["old"]["slope"] == pytest.approx(-0.6)
    assert change["move"]["difference"] == pytest.approx(0.2)
    assert change["move"]["method"] == "welch" and change["move"]["confidence"] == 0.95


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


def test_a_paired_check_records_its_seeds_for_the_gate():
    y = np.exp(np.random.default_rng(0).standard_normal((len(GRID_T), 3)))
    check = scaling_check(GRID_T, y, C2_RANGE, design="paired", seeds=[7, 3, 5])
    assert check.evidence["seeds"] == [7, 3, 5]
    assert claim("C2", [check]).checks[0].fit.seeds == (7, 3, 5)
    for design, seeds in (("paired", [1, 2]), ("independent", [1, 2, 3])):
        with pytest.raises(ValueError, match="seeds name the 3 columns of a paired design"):
            scaling_check(GRID_T, y, C2_RANGE, design=design, seeds=seeds)
