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


# --------------------------------------------------------------------------- falsifiers
# Each claim's falsifier measures with the claim's own code: on the claim's own instance (its
# task, its data seed) it gives the number the claim's run recorded.


def _falsifier(claim_id):
    pytest.importorskip("hypothesis")
    return load_registry().claim(claim_id).falsifier(None)


def test_c1_falsifier_measures_what_c1_measures(verdicts):
    from scb_verify.task import make_task

    m = verdicts["C1"].measurements
    falsifier = _falsifier("C1")
    for case, grad, excess in zip(m["cases"], m["gradient_norm"], m["excess_risk"], strict=True):
        task = make_task(case["N"], case["T"], case["Q"], seed=case["seed"])
        instance = {"task": task.describe(), "V": task.P.tolist(), "A": task.Qstar.tolist()}
        parts = falsifier.measurement(instance)
        assert parts["gradient_norm"] == grad and parts["abs_excess_at_truth"] == excess


def _stage_instance(claim_id, t, seed, **extra):
    from scb_verify.task import make_task

    g = load_registry().claim(claim_id).grid("smoke")
    task = make_task(g["N"], t, g["Q"], seed=seed, weights=g["weights"])
    return {"task": task.describe(), **extra, "data_seeds": [seed]}


def test_c4_falsifier_measures_what_c4_measures(verdicts):
    m = verdicts["C4"].measurements
    t, e = m["T"][0], m["eps"][0]
    seeds, samples = m["handoff_seeds"][t], m["samples"][f"T={t} eps={e:g}"]
    compared = 0
    for seed, value in zip(seeds, samples, strict=True):
        if math.isfinite(value):
            (measured,) = _falsifier("C4").measurement(_stage_instance("C4", t, seed))
            assert measured == pytest.approx(value, rel=1e-12)
            compared += 1
    assert compared > 0


def test_c5_falsifier_measures_what_c5_measures(verdicts):
    m = verdicts["C5"].measurements
    t = m["T"][0]
    finetune = m["finetune_samples"][t]
    seed = next(s for s, v in enumerate(finetune) if math.isfinite(v))
    instance = _stage_instance("C5", t, seed, perturb_P=0.0)
    (measured,) = _falsifier("C5").measurement(instance)
    assert measured == pytest.approx(finetune[seed], rel=1e-12)
