"""Claims C2, C6, C7, C8 at the smoke budget: each reaches a verdict, each negative control and
each learning claim with the ``null`` algorithm substituted comes out violated; plus the shared
helpers of :mod:`scb_verify.claimkit` and the exponents the claims derive from their bounds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scb_verify.checks import local_exponent
from scb_verify.claimkit import final_value, median_curves
from scb_verify.executors import SerialExecutor
from scb_verify.registry import load_registry
from scb_verify.runner import run_claims
from scb_verify.runs import Params, RunResult
from scb_verify.verdict import Status

IDS = ("C2", "C6", "C7", "C8")
LEARNING = ("C2", "C7")  # C8 is about the softmax model: --algorithm skips it


def _run(**kwargs) -> dict:
    claims = [load_registry().claim(i) for i in IDS]
    reports = run_claims(claims, budget="smoke", executor=SerialExecutor(), **kwargs)
    return {r.id: r for r in reports}


@pytest.fixture(scope="module")
def verdicts():
    return _run()


@pytest.fixture(scope="module")
def controls():
    return _run(control=True)


@pytest.fixture(scope="module")
def with_null():
    return _run(algorithm="null")


@pytest.mark.parametrize("claim_id", IDS)
def test_claim_reaches_a_verdict_with_evidence(verdicts, claim_id):
    report = verdicts[claim_id]
    assert report.status is not Status.ERROR, report.error
    assert report.checks and all(c.summary for c in report.checks)
    json.dumps(report.to_dict(), allow_nan=False)


@pytest.mark.parametrize("claim_id", IDS)
def test_negative_control_is_violated(controls, claim_id):
    report = controls[claim_id]
    assert report.status is Status.VIOLATED, [c.summary for c in report.checks]


@pytest.mark.parametrize("claim_id", LEARNING)
def test_null_algorithm_violates_learning_claims(with_null, claim_id):
    report = with_null[claim_id]
    assert report.algorithm == "null"
    assert report.status is Status.VIOLATED, [c.summary for c in report.checks]


def test_concentration_trains_nothing_and_holds(verdicts, with_null):
    """C6 is exact sampling math with wide margins at smoke; it is skipped under --algorithm."""
    assert verdicts["C6"].status is Status.HOLDS
    assert verdicts["C6"].runs == 0
    assert "C6" not in with_null


def test_a_claim_about_one_model_is_skipped_under_another_algorithm(with_null):
    """C8 (softmax) is not substitutable: a null algorithm's verdict must not be reported under
    its name; its negative control (``controls``) is what shows it can come out violated."""
    assert load_registry().claim("C8").substitutable is False
    assert "C8" not in with_null and {"C2", "C7"} <= set(with_null)


def test_vs_sgd_reports_every_learning_rate(verdicts):
    report = verdicts["C7"]
    lrs = load_registry().claim("C7").grid("smoke").lr
    assert [row["lr"] for row in report.measurements["sgd"]] == list(lrs)
    assert set(report.artifacts["trajectories"]) == {"pppd", *(f"sgd lr={lr:g}" for lr in lrs)}


def test_softmax_artifacts_are_small_matrices(verdicts):
    grid = load_registry().claim("C8").grid("smoke")
    attention = verdicts["C8"].artifacts["attention"]
    for name in ("Qstar", "linear", "model"):
        assert np.shape(attention[name]) == (grid.T, grid.N)


def test_predicted_exponents_come_from_the_bounds():
    reg = load_registry()
    c2, c6 = reg.claim("C2"), reg.claim("C6")
    bound = c2.bounds["dist_V"]
    n, gamma = ({s.name: s for s in bound.free_symbols}[k] for k in ("n", "gamma"))
    assert local_exponent(bound, n, at={gamma: 0.1}) == pytest.approx(-0.1)
    m, T = ({s.name: s for s in c6.bounds["deviation"].free_symbols}[k] for k in ("m", "T"))
    assert local_exponent(c6.bounds["deviation"], m, at={}) == pytest.approx(-0.5)
    assert local_exponent(c6.bounds["deviation"], T, at={}) == pytest.approx(0.5)


# --------------------------------------------------------------------------- claimkit


def _result(status: str, trajectory: dict, final: dict) -> RunResult:
    return RunResult(
        algorithm="x",
        settings={},
        task={},
        seed=0,
        batch=1,
        status=status,
        samples=1,
        steps=1,
        final=final,
        milestones={},
        trajectory=trajectory,
        params=Params(np.zeros((2, 2)), np.zeros((1, 2))),
        wall_time=0.0,
    )


def test_final_value_scores_a_diverged_run_at_its_worst_recorded_value():
    traj = {
        "samples": [0, 1, 2],
        "dist_V": [1.0, 3.0, math.nan],
        "correlation": [0.2, 0.1, math.nan],
    }
    diverged = _result("diverged", traj, {"dist_V": math.nan, "correlation": math.nan})
    assert final_value(diverged, "dist_V") == 3.0
    assert final_value(diverged, "correlation") == 0.1
    done = _result("completed", traj, {"dist_V": 0.5, "correlation": 0.9})
    assert final_value(done, "dist_V") == 0.5


def test_median_curves_skip_runs_that_stopped():
    long = _result("completed", {"samples": [0, 1, 2], "dist_V": [3.0, 2.0, 1.0]}, {})
    short = _result("diverged", {"samples": [0, 1], "dist_V": [1.0, 4.0]}, {})
    curves = median_curves([long, short], ["dist_V"])
    assert curves == {
        "samples": [0, 1, 2],
        "dist_V": [2.0, 3.0, 1.0],
        "quartiles": {"dist_V": [[1.5, 2.5, 1.0], [2.5, 3.5, 1.0]]},
    }


# --------------------------------------------------------------------------- falsifiers
# Each claim's falsifier measures with the claim's own code: on the claim's own instance it
# gives the numbers the claim recorded.


def test_c2_falsifier_measures_what_c2_measures(verdicts):
    pytest.importorskip("hypothesis")
    claim = load_registry().claim("C2")
    g, m = claim.grid("smoke"), verdicts["C2"].measurements
    falsifier = claim.falsifier(None)
    for b, samples in enumerate(m["samples"]):
        for seed in (0, g.seeds - 1):
            instance = {
                "task": {"N": g.N, "T": g.T, "seed": seed, "concentration": 0.5},
                "samples": int(samples),
                "data_seeds": [seed],
            }
            (measured,) = falsifier.measurement(instance)
            assert measured == pytest.approx(m["dist_V"][b][seed], rel=1e-12)


def test_c6_falsifier_measures_what_c6_measures(verdicts):
    pytest.importorskip("hypothesis")
    from scb_verify.claims.c6_concentration import INSTANCE

    from scb_verify.task import make_task

    claim = load_registry().claim("C6")
    g, m = claim.grid("smoke"), verdicts["C6"].measurements
    task = make_task(g.N, g.T, g.Q, seed=INSTANCE)
    # The claim's first point of the m scan: stream 1, data seeds 1·1000003 + s.
    instance = {
        "task": task.describe(),
        "m": g.m[0],
        "data_seeds": [1_000_003 + s for s in range(g.seeds)],
    }
    norms = claim.falsifier(None).measurement(instance)
    for j, part in enumerate(("V", "A")):
        recorded = m["slopes"][f"{part}_in_m"]["geometric_mean"][0]
        assert float(np.exp(np.log(norms[:, j]).mean())) == pytest.approx(recorded, rel=1e-12)
