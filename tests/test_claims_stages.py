"""Claims C1, C3, C4, C5 at the smoke budget: each reaches a verdict (not error), each negative
control comes out good (C1 violated; C3–C5 unreached: their targets are never reached), and an
algorithm that does not learn (``null``) turns the stage and transfer claims to unreached — not
to violated: nothing was measured against their scaling. Broken algorithms make C4 and C5
violated through their slopes. Plus the measurement rule they share
(:mod:`scb_verify.batch_rule`) on a synthetic algorithm-free cell."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import sympy
from scb_verify.claims import c5_transfer as c5

from scb_verify.batch_rule import (
    BATCH_GRID,
    CONTROL_MAX_BATCH,
    CellOutcome,
    batch_grid,
    censoring_check,
    cost_series,
    local_slopes_over_cells,
    scaling_over_cells,
    stage_milestone,
    stage_milestones,
)
from scb_verify.bounds import STAGE1, STAGE2, T, log_growth_range, predicted_range
from scb_verify.checks import local_exponent
from scb_verify.claimkit import handoff_state, with_grid
from scb_verify.executors import SerialExecutor
from scb_verify.records import EXIT_OK, EXIT_VIOLATED, Results
from scb_verify.registry import load_registry
from scb_verify.runner import run_claims
from scb_verify.verdict import Range, Status

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


def _check(cli, *args: str) -> tuple[int, dict, str]:
    """``scb-verify check ARGS --budget smoke`` end to end: (exit code, claim runs by id, the
    verdict table)."""
    code, out, err = cli("check", *args, "--budget", "smoke", "-q", "--jobs", "1", "--json", "-")
    return code, {r.id: r for r in Results.from_document(json.loads(out)).claims}, err


def test_every_control_comes_out_good(cli):
    # C3–C5's controls are tasks without signal: their targets are never reached.
    code, controls, table = _check(cli, *IDS, "--controls")
    assert code == EXIT_OK, table
    assert {i: r.status for i, r in controls.items()} == {
        "C1": Status.VIOLATED,
        "C3": Status.UNREACHED,
        "C4": Status.UNREACHED,
        "C5": Status.UNREACHED,
    }
    assert all(r.good for r in controls.values()) and "CHECK CANNOT FAIL?" not in table
    for claim_id in ("C3", "C4", "C5"):
        (reach,) = [c for c in controls[claim_id].checks if c.kind == "reach"]
        assert reach.status is Status.UNREACHED and "not reached within the budget" in reach.summary


def test_null_algorithm_leaves_the_learning_claims_unreached_and_fails_the_run(cli):
    # Not violated: nothing was measured against their scaling; not good either (exit 1).
    code, reports, table = _check(cli, "C3", "C5", "--algorithm", "null")
    assert code == EXIT_VIOLATED, table
    assert {i: r.status for i, r in reports.items()} == {
        "C3": Status.UNREACHED,
        "C5": Status.UNREACHED,
    }
    assert not any(r.good for r in reports.values())
    assert any(line.split()[:3] == ["C3", "null", "unreached"] for line in table.splitlines())


def test_stage_claims_record_the_hand_off_state_and_the_cost_decomposition(verdicts):
    # Per-column reading: every resolved hand-off has every column at cos ≥ ρ₁ (none left in
    # stage 1), and every cost is its batch × steps.
    for claim_id in ("C3", "C4"):
        m = verdicts[claim_id].measurements
        assert m["reading"] == "per_column"
        for t in m["T"]:
            h = m["handoff"][str(t)]  # recorded as JSON: integer keys are their decimal text
            for ok, worst, left in zip(
                h["censored"], h["worst_cosine"], h["not_escaped"], strict=True
            ):
                if not ok:
                    assert worst >= m.get("rho1", 0.6) and left == 0
            for b, n, x in zip(h["batch"], h["steps"], h["samples"], strict=True):
                assert b is None or b * n == x
            # ρ(A) ≥ min_k cos: the aggregate level is crossed no later in the same run.
            for agg, x in zip(h["aggregate_samples"], h["samples"], strict=True):
                assert agg is None or agg <= x
    c5 = verdicts["C5"].measurements
    assert set(c5["cost"]) == {"scratch", "finetune"}
    assert c5["warm_start"][str(c5["T"][0])]["worst_cosine"] == pytest.approx([0.5] * 3)


def test_stage_milestones_per_reading():
    per_column = stage_milestones("per_column", 0.6)
    assert [m.name for m in per_column] == ["min_cosine>=0.6", "correlation>=0.6"]
    assert [m.name for m in stage_milestones("aggregate", 0.6)] == ["correlation>=0.6"]
    with pytest.raises(ValueError, match="reading must be one of"):
        stage_milestone("median", 0.6)


def test_handoff_state_of_uniform_and_true_attention():
    from scb_verify.runs import Params
    from scb_verify.task import make_task

    task = make_task(5, 16, 2, seed=0, weights="uniform")
    uniform = handoff_state(Params(task.P, np.full((16, 5), 1 / 16)), task, 0.6)
    assert uniform["not_escaped"] == 5
    assert uniform["off_support_mass"] == pytest.approx(14 / 16)
    assert uniform["worst_cosine"] == pytest.approx(1 / math.sqrt(16 * 0.5))
    truth = handoff_state(Params(task.P, task.Qstar), task, 0.6)
    assert truth["not_escaped"] == 0 and truth["off_support_mass"] == 0.0
    assert truth["worst_cosine"] == pytest.approx(1.0) == truth["correlation"]


# Deliberately broken algorithms (tests/broken_algorithms.py) must be caught by the checks they
# break, under the per-column boundary: a second stage and a finetuning that cost ∝ T, and a
# finetuning that ignores its warm start.
# Smoke's 3 seeds and 3 T leave a slope interval too wide to exclude anything: 8 seeds, T to 256.
BROKEN = ("broken_algorithms",)


def _run_broken(ids, algorithm: str) -> dict:
    claims = [with_grid(load_registry().claim(i), seeds=8, T=(32, 64, 128, 256)) for i in ids]
    reports = run_claims(
        claims, budget="smoke", executor=SerialExecutor(), algorithm=algorithm, plugins=BROKEN
    )
    return {r.id: r for r in reports}


def test_second_stage_growing_with_T_violates_C4_and_C5():
    reports = _run_broken(("C4", "C5"), "pppd-slow-warm")
    for claim_id, report in reports.items():
        scaling = [c for c in report.checks if c.axis == "T" and "vs T" in c.label]
        assert report.status is Status.VIOLATED, [c.summary for c in report.checks]
        assert any(c.status is Status.VIOLATED for c in scaling), claim_id


def test_finetuning_that_ignores_its_warm_start_violates_C5():
    report = _run_broken(("C5",), "pppd-cold")["C5"]
    ratio = report.check("scratch/finetune vs T")
    assert report.status is Status.VIOLATED and ratio.status is Status.VIOLATED


def test_log_growth_limit_comes_from_the_bound():
    # Closed at w = 1/ln 32: a cost growing exactly like C·log T is within the upper bound.
    band = log_growth_range(STAGE2, 32)
    assert (band.lo, band.hi) == (-math.inf, pytest.approx(1 / math.log(32)))
    assert band.hi_closed


def test_predicted_ranges_are_open_where_the_statement_is_strict():
    # C3: ∂log(C·T^κ₁)/∂log T = κ₁, declared positive: (0, ∞), open at 0.
    assert predicted_range(local_exponent(STAGE1, T)) == Range(0.0, math.inf, lo_closed=False)
    # C5: "the ratio grows with T", a strict relation; a non-strict one is closed.
    assert predicted_range(c5.RATIO_GROWS) == Range(0.0, math.inf, lo_closed=False)
    s = sympy.Symbol("s", real=True)
    assert predicted_range(sympy.Le(s, -0.1)) == Range(-math.inf, -0.1)
    assert predicted_range(sympy.Symbol("q", nonnegative=True)) == Range(0.0, math.inf)
    with pytest.raises(ValueError, match="state no sign"):
        predicted_range(local_exponent(c5.RATIO, T))  # κ₁ − 1/log T: sign not fixed
    with pytest.raises(ValueError, match="not one interval"):
        predicted_range(sympy.Gt(s**2, 1))


def test_batch_grid_caps():
    assert batch_grid(256) == (32, 64, 128, 256)
    assert max(batch_grid(BATCH_GRID[-1], control=True)) == CONTROL_MAX_BATCH
    with pytest.raises(ValueError, match="at least"):
        batch_grid(16)


def _cell(batches, seeds=None):
    """A cell outcome without training: resolved seeds cost 100 samples, censored ones sit at
    the budget 1000; the runs only carry their seed (what the cell rule reads)."""
    seeds = range(len(batches)) if seeds is None else seeds
    samples = [100.0 * (1 + i) if b else 1000.0 for i, b in enumerate(batches)]
    runs = [SimpleNamespace(seed=s) for s in seeds]
    return CellOutcome(batches, samples, {}, runs, 1000.0)


def test_censoring_check_outcomes():
    # At most a quarter censored per cell: holds; a censored median in every cell: unreached.
    assert censoring_check({1: _cell([32, 64, 32, None])}, "x").status is Status.HOLDS
    result = censoring_check({1: _cell([32, 64, None])}, "x")  # a third: too many to decide
    assert result.status is Status.INCONCLUSIVE
    assert result.evidence["censored_seeds"] == {"1": 1} and result.evidence["budget"] == 1000.0
    mixed = {1: _cell([32, 32, 32]), 2: _cell([None, None, None])}
    assert censoring_check(mixed, "x").status is Status.INCONCLUSIVE


@pytest.mark.parametrize(
    "cells",
    [
        {1: [None, None, 32]},  # a censored median in the one cell
        {1: [None, None, 32, 64], 2: [None, None, None]},  # half, and all: every median
    ],
)
def test_a_censored_median_in_every_cell_is_unreached_with_its_budget(cells):
    result = censoring_check({k: _cell(b) for k, b in cells.items()}, "x", label="reach")
    assert result.status is Status.UNREACHED
    assert result.summary.startswith(
        "x not reached within the budget (1000 samples) by half the seeds of any cell ("
    )
    assert result.summary.endswith(": unreached")
    assert result.evidence["budget"] == 1000.0
    assert result.evidence["censored_cells"] == [str(k) for k in cells]


def test_cost_series_takes_medians_over_the_seeds_that_reached_the_target():
    # _cell: seed i resolved at its batch costs 100·(i + 1) samples; censored seeds are left out.
    cells = {32: _cell([32, 64, None]), 64: _cell([None, None, None]), 128: _cell([50, 100])}
    series = cost_series(cells)
    assert series == {
        "x": [32, 64, 128],
        "samples": [150.0, None, 150.0],
        "batch": [48.0, None, 75.0],
        "steps": [3.0, None, 2.0],  # round(100/32) and round(200/64); 100/50 and 200/100
        "reached": [2, 0, 2],
        "seeds": [3, 3, 2],
    }
    json.dumps(series)  # an artifact: strict JSON


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
    task = make_task(g.N, t, g.Q, seed=seed, weights=g.weights)
    return {"task": task.describe(), **extra, "data_seeds": [seed]}


def test_c4_falsifier_measures_what_c4_measures(verdicts):
    m = verdicts["C4"].measurements
    t = m["T"][0]
    # measurements are recorded as JSON: integer keys are their decimal text
    phase2 = m["phase2"][str(t)][0]  # the first ε of the grid
    assert phase2["eps"] == m["eps"][0] and phase2["seed"] == m["handoff_seeds"][str(t)]
    seeds, samples, censored = phase2["seed"], phase2["samples"], phase2["censored"]
    compared = 0
    for seed, value, cut in zip(seeds, samples, censored, strict=True):
        if math.isfinite(value):
            measured = _falsifier("C4").measurement(_stage_instance("C4", t, seed))
            assert measured["samples"] == [pytest.approx(value, rel=1e-12)]
            assert measured["censored"] == [cut]
            compared += 1
    assert compared > 0


def test_c5_falsifier_measures_what_c5_measures(verdicts):
    m = verdicts["C5"].measurements
    t = m["T"][0]
    finetune = m["finetune_samples"][str(t)]
    seed = next(s for s, v in enumerate(finetune) if math.isfinite(v))
    instance = _stage_instance("C5", t, seed, perturb_P=0.0)
    measured = _falsifier("C5").measurement(instance)
    assert measured["samples"] == [pytest.approx(finetune[seed], rel=1e-12)]
    assert measured["censored"] == [m["cost"]["finetune"][str(t)]["censored"][seed]]


def test_local_slopes_fall_for_a_polylog_and_stay_for_a_power():
    # Exact curves on T = 32 … 2048, 4 seeds with a per-seed factor (cancels when paired).
    ts = [32, 64, 128, 256, 512, 1024, 2048]
    factor = [1.0, 2.0, 0.5, 3.0]

    def cells(cost):
        runs = [SimpleNamespace(seed=s) for s in range(4)]
        return {t: CellOutcome([32] * 4, [f * cost(t) for f in factor], {}, runs, 1e9) for t in ts}

    power = local_slopes_over_cells(cells(lambda t: t**0.4))
    assert power["low"]["x"] == [32, 64, 128, 256] and power["high"]["x"] == [256, 512, 1024, 2048]
    assert power["low"]["slope"] == pytest.approx(0.4) == power["high"]["slope"]
    assert power["difference"]["estimate"] == pytest.approx(0.0, abs=1e-12)
    polylog = local_slopes_over_cells(cells(lambda t: math.log(t) ** 2))
    assert polylog["high"]["slope"] < polylog["low"]["slope"]  # 2/ln T falls
    assert polylog["difference"]["ci"][1] < 0
    assert local_slopes_over_cells({t: c for t, c in cells(math.log).items() if t < 256}) is None


def test_scaling_over_cells_keeps_censored_seeds_and_picks_the_design():
    # Survivorship: the slow seeds never resolve at the largest T. They stay in the fit at the
    # budget, marked, as lower bounds: the slope can only be larger ("bias down").
    cells = {t: _cell([32] * 4) for t in (32, 64, 128)}
    cells[256] = _cell([32, 32, None, None])
    result = scaling_over_cells(cells, Range(0.0, math.inf, lo_closed=False), axis="T")
    assert result.evidence["design"] == "paired"
    assert result.evidence["censored"]["right"] == [0, 0, 0, 2]
    assert result.evidence["y"][-1][2:] == [1000.0, 1000.0]
    assert result.status is Status.INCONCLUSIVE and "2 censored, bias down" in result.summary
    # Different seeds per cell (C4's hand-off): independent points.
    cells = {t: _cell([32] * 3, seeds=[t, t + 1, t + 2]) for t in (32, 64, 128)}
    assert scaling_over_cells(cells, (0.0, 1.0)).evidence["design"] == "independent"
