"""Claims C1, C3, C4, C5 at the smoke budget: each reaches a verdict (not error), each negative
control comes out violated, and a learner that does not learn (``null``) turns the stage and
transfer claims to violated. Plus the measurement rule they share (:mod:`scb_verify.batch_rule`)
on a synthetic learner-free cell."""

from __future__ import annotations

import math

import pytest

from scb_verify.batch_rule import BATCH_GRID, CONTROL_MAX_BATCH, batch_grid, censoring_check
from scb_verify.bounds import STAGE2, log_growth_range
from scb_verify.registry import load_registry
from scb_verify.runner import SerialExecutor, run_claims
from scb_verify.verdict import Status

IDS = ("C1", "C3", "C4", "C5")


def _run(ids=IDS, **kwargs) -> dict:
    claims = [load_registry().claim(i) for i in ids]
    reports = run_claims(claims, budget="smoke", executor=SerialExecutor(), **kwargs)
    return {r.id: r for r in reports}


@pytest.fixture(scope="module")
def verdicts():
    return _run()


@pytest.mark.parametrize("claim_id", IDS)
def test_each_claim_reaches_a_verdict_at_smoke(verdicts, claim_id):
    report = verdicts[claim_id]
    assert report.status is not Status.ERROR, report.error
    assert report.checks, "a verdict needs at least one check"
    if claim_id != "C1":
        assert report.runs > 0 and report.samples > 0


def test_realizability_holds(verdicts):
    assert verdicts["C1"].status is Status.HOLDS


def test_every_control_is_violated():
    controls = _run(control=True)
    assert {i: r.status for i, r in controls.items()} == dict.fromkeys(IDS, Status.VIOLATED)


def test_null_learner_violates_the_learning_claims():
    reports = _run(("C3", "C5"), learner="null")
    assert {i: r.status for i, r in reports.items()} == {
        "C3": Status.VIOLATED,
        "C5": Status.VIOLATED,
    }


def test_log_growth_limit_comes_from_the_bound():
    lo, hi = log_growth_range(STAGE2, 32)
    assert lo == -math.inf
    assert hi == pytest.approx(1 / math.log(32))


def test_batch_grid_caps():
    assert batch_grid(256) == (32, 64, 128, 256)
    assert max(batch_grid(BATCH_GRID[-1], control=True)) == CONTROL_MAX_BATCH
    with pytest.raises(ValueError, match="at least"):
        batch_grid(16)


def test_censoring_check_outcomes():
    from scb_verify.batch_rule import CellOutcome

    def cell(batches):
        return CellOutcome(batches, [1.0 if b else math.nan for b in batches], {}, [])

    assert censoring_check({1: cell([32, 64, None])}, "x").status is Status.HOLDS
    assert censoring_check({1: cell([None, None, 32])}, "x").status is Status.VIOLATED
    mixed = {1: cell([32, 32, 32]), 2: cell([None, None, None])}
    assert censoring_check(mixed, "x").status is Status.INCONCLUSIVE
