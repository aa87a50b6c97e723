"""Tests of the verdict type and the check library (docs/reference.md §7) on data with a known
truth.

Every tolerance and every "this must hold" is derived in a comment from the noise level and
the sample size; where a verdict is only probable, the probability is stated.
"""

import dataclasses
import json
import math
from itertools import permutations
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import linregress, ttest_1samp

from scb_verify import stats
from scb_verify.checks import (
    MAX_CENSORED_SHARE,
    _interval_verdict,
    bound_check,
    fit_loglog_slope,
    local_exponent,
    ordering_check,
    power_vs_exponential,
    scaling_check,
    threshold_check,
)
from scb_verify.verdict import CheckResult, Range, Status, combine

T = sp.Symbol("T", positive=True)
C = sp.Symbol("C", positive=True)
N = sp.Symbol("N", positive=True)


def power_data(x: np.ndarray, exponent: float, sigma: float, n_seeds: int, seed: int):
    """y[i, s] = 3·x_i^exponent·exp(σ·Z), Z ~ N(0, 1): a power law with lognormal noise."""
    rng = np.random.default_rng(seed)
    noise = np.exp(sigma * rng.standard_normal((x.size, n_seeds)))
    return 3.0 * x[:, None] ** exponent * noise


def slope_se(x: np.ndarray, sigma: float, n_seeds: int) -> float:
    """Standard error of the log–log OLS slope of per-point mean logs: (σ/√n)/‖u − ū‖."""
    u = np.log(x)
    return sigma / math.sqrt(n_seeds) / float(np.linalg.norm(u - u.mean()))


def assert_strict_json(result: CheckResult) -> dict:
    payload = result.to_dict()
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    return payload


# ----------------------------------------------------------------------------- verdict


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Status.INCONCLUSIVE),
        (["holds"], Status.HOLDS),
        (["holds", "holds"], Status.HOLDS),
        (["holds", "inconclusive"], Status.INCONCLUSIVE),
        (["inconclusive", "violated", "holds"], Status.VIOLATED),
        (["violated", "error"], Status.ERROR),
        (["error", "holds"], Status.ERROR),
        # unreached: between violated and inconclusive (docs/reference.md §7.6)
        (["unreached"], Status.UNREACHED),
        (["holds", "unreached"], Status.UNREACHED),
        (["inconclusive", "unreached", "holds"], Status.UNREACHED),
        (["unreached", "violated"], Status.VIOLATED),  # a measured violation still decides
        (["unreached", "error"], Status.ERROR),
    ],
)
def test_combine_rules(statuses, expected):
    results = [CheckResult("k", Status(s), "", {}) for s in statuses]
    assert combine(results) is expected


def test_check_result_normalizes_evidence_to_strict_json():
    result = CheckResult(
        "k",
        "holds",
        "s",
        {
            "a": np.float32(1.5),
            "b": np.arange(3),
            "c": (np.nan, np.inf, 2.0),
            "d": {"e": np.bool_(True), "f": Status.VIOLATED},
        },
    )
    assert result.status is Status.HOLDS
    assert result.to_dict() == {
        "label": "",
        "kind": "k",
        "quantity": "",
        "axis": None,
        "predicted": None,
        "status": "holds",
        "summary": "s",
        "evidence": {
            "a": 1.5,
            "b": [0, 1, 2],
            "c": [None, None, 2.0],
            "d": {"e": True, "f": "violated"},
        },
        "nonfinite": {"/evidence/c/0": "nan", "/evidence/c/1": "inf"},
    }
    assert_strict_json(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = Status.ERROR  # type: ignore[misc]


def test_check_result_rejects_what_json_cannot_hold():
    with pytest.raises(TypeError, match="evidence/x has type object"):
        CheckResult("k", Status.HOLDS, "", {"x": object()})
    with pytest.raises(TypeError, match="JSON keys must be str"):
        CheckResult("k", Status.HOLDS, "", {"x": {1: 2}})
    with pytest.raises(ValueError):
        CheckResult("k", "fine", "", {})


# ----------------------------------------------------------------------------- exponents


def test_local_exponent_of_power_times_log():
    # d log(C T² log T) / d log T = 2 + 1/log T; at T = e it is 3.
    exponent = local_exponent(C * T**2 * sp.log(T), T)
    assert sp.simplify(exponent - (2 + 1 / sp.log(T))) == 0
    assert local_exponent(C * T**2 * sp.log(T), T, at={T: math.e}) == pytest.approx(3.0, abs=1e-12)
    assert local_exponent(C * T**2 * sp.log(T), T, at={T: 100.0}) == pytest.approx(
        2 + 1 / math.log(100.0), abs=1e-12
    )


def test_local_exponent_of_power_law_is_its_exponent():
    f = C * N**3 * T ** sp.Rational(3, 2) / sp.sqrt(sp.log(N))
    assert local_exponent(f, T) == sp.Rational(3, 2)
    assert local_exponent(f, sp.Symbol("Q")) == 0  # f does not depend on Q


def test_local_exponent_of_exponential_is_not_constant():
    # d log(C e^{T/10}) / d log T = T/10: grows with T, so no power law fits.
    exponent = local_exponent(C * sp.exp(T / 10), T)
    assert sp.simplify(exponent - T / 10) == 0
    values = [local_exponent(C * sp.exp(T / 10), T, at={T: t}) for t in (10.0, 100.0)]
    assert values == pytest.approx([1.0, 10.0], abs=1e-12)


def test_local_exponent_reports_missing_symbols_and_singular_points():
    with pytest.raises(ValueError, match="symbols without a value: N"):
        local_exponent(T * sp.log(N * T), T, at={T: 2.0})
    with pytest.raises(ValueError, match="not a finite real"):
        local_exponent(sp.log(T), T, at={T: 1.0})  # 1/log(1) is infinite


def test_fit_loglog_slope_recovers_exact_power_law_and_names_bad_entries():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    slope, intercept = fit_loglog_slope(x, 5.0 * x**-0.75)
    assert slope == pytest.approx(-0.75, abs=1e-12)
    assert intercept == pytest.approx(math.log(5.0), abs=1e-12)
    with pytest.raises(ValueError, match=r"x\[2\] = -4.0 is not positive"):
        fit_loglog_slope([1.0, 2.0, -4.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"y\[1\] = nan is not finite"):
        fit_loglog_slope([1.0, 2.0, 4.0], [1.0, np.nan, 3.0])
    with pytest.raises(ValueError, match="same length"):
        fit_loglog_slope([1.0, 2.0], [1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- scaling

X_GRID = np.geomspace(10.0, 1000.0, 5)


@pytest.mark.parametrize("design", ["paired", "independent"])
@pytest.mark.parametrize(
    ("predicted", "expected"),
    [((1.2, 1.8), Status.HOLDS), ((1.2, math.inf), Status.HOLDS), ((-0.2, 0.2), Status.VIOLATED)],
)
def test_scaling_check_verdict_for_clear_cases(predicted, expected, design):
    # Truth 1.5, σ = 0.1, 8 seeds: slope SE ≈ 0.012, so the 95% CI half-width is ≈ 0.03. The
    # nearest boundary is 0.3 (≥ 25 SE) from the truth: any other verdict is a > 20-sigma event.
    sigma, n_seeds = 0.1, 8
    assert 20 * slope_se(X_GRID, sigma, n_seeds) < 0.3
    y = power_data(X_GRID, 1.5, sigma, n_seeds, seed=1)
    result = scaling_check(X_GRID, y, predicted, design=design)
    assert result.status is expected
    assert result.evidence["slope"] == pytest.approx(1.5, abs=10 * slope_se(X_GRID, sigma, 8))


def test_scaling_check_records_evidence_and_matches_scipy():
    y = power_data(X_GRID, 1.5, 0.1, 4, seed=2)
    bound = C * T ** sp.Rational(3, 2)
    result = scaling_check(X_GRID, y, (1.0, math.inf), design="paired", expr=bound, axis="T")
    ev = assert_strict_json(result)["evidence"]
    assert ev["x"] == pytest.approx(list(X_GRID))
    np.testing.assert_allclose(np.array(ev["y"]), y, rtol=1e-15)
    assert ev["stat"] == pytest.approx(list(np.exp(np.log(y).mean(axis=1))))
    assert result.predicted == Range(1.0, math.inf)
    assert (ev["n_seeds"], ev["level"], ev["design"]) == ([4] * 5, 0.95, "paired")
    assert ev["method"] == stats.PAIRED_SLOPE
    assert ev["censored"] == {
        "right": [0] * 5,
        "left": [0] * 5,
        "share": [0.0] * 5,
        "bias": "none",
    }
    assert ev["expr"] == "C*T**(3/2)" and "T^{\\frac{3}{2}}" in ev["expr_latex"]
    assert result.summary.startswith(f"slope {ev['slope']:.3g} [{ev['ci'][0]:.3g}, ")
    assert result.summary.endswith(": holds")
    # Reference: each seed's own OLS slope (scipy.stats.linregress), then the t interval of
    # their mean (scipy.stats.ttest_1samp).
    per_seed = [linregress(np.log(X_GRID), np.log(y[:, j])).slope for j in range(4)]
    ci = ttest_1samp(per_seed, 0.0).confidence_interval(0.95)
    assert ev["slope"] == pytest.approx(np.mean(per_seed), abs=1e-12)
    assert ev["ci"] == pytest.approx([ci.low, ci.high], abs=1e-12)


@pytest.mark.parametrize("design", ["paired", "independent"])
@pytest.mark.parametrize("predicted", [(1.5, math.inf), (-math.inf, 1.5)])
def test_scaling_check_is_inconclusive_when_noise_hides_a_boundary_at_the_truth(predicted, design):
    # Huge noise (factors e^{-1}, 1, e^{+1}) and 3 seeds, permuted per point, so each point's
    # mean log is exactly on the truth: the slope estimate is 1.5 (up to rounding) and the
    # interval, centred on it with a positive half-width (the seeds differ), contains 1.5
    # strictly inside.
    rng = np.random.default_rng(3)
    factors = rng.permuted(np.tile(np.exp([-1.0, 0.0, 1.0]), (X_GRID.size, 1)), axis=1)
    y = 3.0 * X_GRID[:, None] ** 1.5 * factors
    result = scaling_check(X_GRID, y, predicted, design=design)
    assert result.status is Status.INCONCLUSIVE
    low, high = result.evidence["ci"]
    assert low < 1.5 < high
    assert result.evidence["slope"] == pytest.approx(1.5, abs=1e-12)


def test_paired_design_sees_a_quantity_constant_in_x_where_independent_cannot():
    # Each seed's value is the same at every x (a cost that does not depend on x), seeds differ
    # by a factor up to e^2: per-seed slopes are exactly 0, so the paired interval is [0, 0] —
    # against "exponent > 0" (open) that is violated, against [0, ∞) it holds. Treating the
    # points as independent ignores the pairing: the seed spread makes a wide interval around 0.
    y = np.tile(np.random.default_rng(5).lognormal(size=(1, 6)), (5, 1))
    strict = Range(0.0, math.inf, lo_closed=False)
    paired = scaling_check(X_GRID, y, strict, design="paired")
    assert paired.evidence["ci"] == [0.0, 0.0] and paired.status is Status.VIOLATED
    assert scaling_check(X_GRID, y, (0.0, math.inf), design="paired").status is Status.HOLDS
    independent = scaling_check(X_GRID, y, strict, design="independent")
    assert independent.status is Status.INCONCLUSIVE
    assert independent.evidence["ci"][0] < -0.1 < 0.1 < independent.evidence["ci"][1]


@pytest.mark.parametrize(
    ("ci", "predicted", "expected"),
    [
        ((0.1, 0.5), Range(0.0, math.inf, lo_closed=False), Status.HOLDS),
        ((0.0, 0.5), Range(0.0, math.inf, lo_closed=False), Status.INCONCLUSIVE),  # touches
        ((0.0, 0.5), Range(0.0, math.inf), Status.HOLDS),
        ((-0.5, 0.0), Range(0.0, math.inf, lo_closed=False), Status.VIOLATED),
        ((-0.5, 0.0), Range(0.0, math.inf), Status.INCONCLUSIVE),
        ((0.0, 0.0), Range(0.0, math.inf, lo_closed=False), Status.VIOLATED),
        ((0.2, 1.0), Range(-math.inf, 1.0, hi_closed=False), Status.INCONCLUSIVE),
        ((1.0, 2.0), Range(-math.inf, 1.0, hi_closed=False), Status.VIOLATED),
        ((1.0, 2.0), Range(-math.inf, 1.0), Status.INCONCLUSIVE),
    ],
)
def test_an_interval_touching_an_open_end_never_holds(ci, predicted, expected):
    assert _interval_verdict(ci, predicted)[0] is expected


def _censored_data(n_censored: int):
    """Slope 1.5, σ = 0.05, 8 seeds (half-width ≈ 0.02); the top point's first seeds held at
    a bound 20% below their value (right-censored: the true value is larger)."""
    y = power_data(X_GRID, 1.5, 0.05, 8, seed=21)
    mask = np.zeros(y.shape, dtype=bool)
    mask[-1, :n_censored] = True
    y[mask] *= 0.8
    return y, mask


def test_censored_entries_bias_the_slope_in_a_known_direction():
    # Right-censored at the largest x: the slope can only be larger than estimated ("down").
    # A verdict resting on the lower end (slope > 1) survives; one resting on the upper end
    # (slope ≤ 2) does not — the censored values could be arbitrarily large.
    y, mask = _censored_data(1)
    lower = scaling_check(X_GRID, y, (1.0, math.inf), design="paired", right_censored=mask)
    assert lower.status is Status.HOLDS and lower.evidence["censored"]["bias"] == "down"
    upper = scaling_check(X_GRID, y, (-math.inf, 2.0), design="paired", right_censored=mask)
    assert upper.status is Status.INCONCLUSIVE
    assert "bias the slope down" in upper.evidence["reason"]
    assert scaling_check(X_GRID, y, (-math.inf, 2.0), design="paired").status is Status.HOLDS
    # The same entries as upper bounds (left-censored) bias it up: the roles swap.
    left = scaling_check(X_GRID, y, (1.0, math.inf), design="paired", left_censored=mask)
    assert left.status is Status.INCONCLUSIVE and left.evidence["censored"]["bias"] == "up"


def test_a_verdict_on_the_end_censoring_cannot_move_stands_at_any_share():
    # 3 of 8 seeds, then all 8, censored at the top point (lower bounds): the slope through
    # them is ≥ 1 already, so "slope > 1" holds and "slope ≤ 1" is violated (the true slope
    # is only larger), while "slope ≤ 2" rests on the end the censoring moves: inconclusive.
    for n in (3, 8):
        y, mask = _censored_data(n)
        kw = {"design": "paired", "right_censored": mask}
        assert scaling_check(X_GRID, y, (1.0, math.inf), **kw).status is Status.HOLDS
        violated = scaling_check(X_GRID, y, (-math.inf, 1.0), **kw)
        assert violated.status is Status.VIOLATED
        assert violated.evidence["censored"]["right"] == [0, 0, 0, 0, n]
        upper = scaling_check(X_GRID, y, (-math.inf, 2.0), **kw)
        assert upper.status is Status.INCONCLUSIVE and "rests on the high" in upper.summary
        assert_strict_json(upper)
    assert MAX_CENSORED_SHARE == 0.25  # the reach check's share, no longer the slope's


@pytest.mark.parametrize("design", ["paired", "independent"])
def test_level_of_the_censored_violation_rule(design):
    """The rule's level, measured: true slope exactly at the limit w = 1/ln 32 of C4's
    log-growth range, lognormal noise (σ = 0.5 per entry, a shared per-seed offset), 16 seeds
    on T = 32 … 512, every entry above a budget held there as right-censored (about half the
    seeds at the largest T). A false "violated" needs the interval through those lower bounds
    to lie above w; the one-sided nominal level is 2.5%. Measured 0.0% (paired) and 0.0%
    (independent) over 400 repetitions; asserted ≤ 2.5% + 3 binomial standard errors."""
    rng = np.random.default_rng(7)
    x = np.array([32.0, 64.0, 128.0, 256.0, 512.0])
    w = 1 / math.log(32)
    limit = Range(-math.inf, w)
    false, reps = 0, 400
    for _ in range(reps):
        log_y = (
            np.log(1e4)
            + w * np.log(x)[:, None]
            + 0.3 * rng.standard_normal(16)[None, :]
            + 0.5 * rng.standard_normal((5, 16))
        )
        y = np.exp(log_y)
        budget = np.exp(np.log(1e4) + w * np.log(512))
        mask = y > budget
        y = np.minimum(y, budget)
        result = scaling_check(x, y, limit, design=design, right_censored=mask)
        false += result.status is Status.VIOLATED
    assert false / reps <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / reps)


def test_censored_growth_is_caught():
    # Cost ∝ T (slope 1) with half the seeds at the largest two T censored at the budget: the
    # lower bounds' slope already exceeds C4's limit, so the check is violated, not inconclusive.
    rng = np.random.default_rng(3)
    x = np.array([32.0, 64.0, 128.0, 256.0, 512.0])
    y = 100 * x[:, None] * np.exp(0.5 * rng.standard_normal((5, 16)))
    budget = float(np.median(y[-2]))
    mask = y > budget
    y = np.minimum(y, budget)
    result = scaling_check(
        x, y, Range(-math.inf, 1 / math.log(32)), design="paired", right_censored=mask
    )
    assert mask[-1].mean() > 0.5 and result.status is Status.VIOLATED


def test_independent_design_takes_ragged_points():
    y = power_data(X_GRID, -0.5, 0.1, 8, seed=5)
    rows = [row[: 3 + i] for i, row in enumerate(y)]  # 3..7 seeds per point
    result = scaling_check(X_GRID, rows, (-0.7, -0.3), design="independent")
    assert result.status is Status.HOLDS
    assert result.evidence["n_seeds"] == [3, 4, 5, 6, 7]
    assert result.evidence["method"] == stats.INDEPENDENT_SLOPE
    with pytest.raises(ValueError, match="must be 2-D"):
        scaling_check(X_GRID, rows, (-0.7, -0.3), design="paired")


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(exponent=st.floats(-2.0, 2.0), seed=st.integers(0, 2**32 - 1))
def test_scaling_slope_recovers_exponent_under_tiny_noise(exponent, seed):
    # σ = 0.01, 5 seeds on x ∈ [1, 100]: slope SE ≈ 0.001, so 0.05 is ≈ 50 SE.
    x = np.geomspace(1.0, 100.0, 5)
    assert 30 * slope_se(x, 0.01, 5) < 0.05
    result = scaling_check(x, power_data(x, exponent, 0.01, 5, seed), (-5.0, 5.0), design="paired")
    assert abs(result.evidence["slope"] - exponent) <= 0.05
    assert result.status is Status.HOLDS


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        ([1.0, 2.0], [[1.0, 1.0], [2.0, 2.0]], {}, "at least 3 grid points"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0]] * 4, {}, r"one row per grid point \(3\), got 4"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], {}, "must be 2-D"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0], [0.0, 1.0], [3.0, 3.0]], {}, r"y\[1\]\[0\] = 0.0"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0], [np.nan, 1.0], [3.0, 3.0]], {}, r"y\[1\]\[0\] = nan"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0]] * 3, {"level": 1.0}, r"open interval \(0, 1\)"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0]] * 3, {"predicted": (2.0, 1.0)}, "lo <= hi"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0]] * 3, {"design": "both"}, "design must be"),
        ([1.0, 2.0, 3.0], [[1.0, 1.0]] * 3, {"right_censored": [[1, 0]] * 3}, "boolean masks"),
        ([2.0, 2.0, 2.0], [[1.0, 1.0]] * 3, {}, "two distinct values"),
        ([], [[]], {}, "x is empty"),
    ],
)
def test_scaling_check_rejects_bad_input(x, y, kwargs, message):
    kwargs = {"predicted": (0.0, 1.0), "design": "paired", **kwargs}
    with pytest.raises(ValueError, match=message):
        scaling_check(x, y, **kwargs)


# ----------------------------------------------------------------------------- power vs exp


def _misfit_margin(u_fit: np.ndarray, signal: np.ndarray, noise: np.ndarray) -> float:
    """‖(I − H)s‖ − 2‖ε‖ for the line fit on regressor u: if > 0, the true model wins.

    The true model's RSS is ‖(I − H')ε‖² ≤ ‖ε‖²; the wrong model's is ‖(I − H)(s + ε)‖² ≥
    (‖(I − H)s‖ − ‖ε‖)², with s the noise-free log y. So ‖(I − H)s‖ > 2‖ε‖ forces the verdict.
    """
    design = np.column_stack([np.ones_like(u_fit), u_fit])
    residual = signal - design @ np.linalg.lstsq(design, signal, rcond=None)[0]
    return float(np.linalg.norm(residual) - 2 * np.linalg.norm(noise))


def test_power_vs_exponential_picks_the_generating_law():
    rng = np.random.default_rng(6)
    noise = 0.05 * rng.standard_normal(8)
    x = np.geomspace(1.0, 1000.0, 8)
    log_power = math.log(3.0) + 1.5 * np.log(x)
    assert _misfit_margin(x, log_power, noise) > 0
    fit = power_vs_exponential(x, np.exp(log_power + noise))
    assert fit["better"] == "power"
    assert fit["power"]["exponent"] == pytest.approx(1.5, abs=0.05)

    x = np.linspace(1.0, 20.0, 8)
    log_exp = math.log(2.0) + 0.3 * x
    assert _misfit_margin(np.log(x), log_exp, noise) > 0
    fit = power_vs_exponential(x, np.exp(log_exp + noise))
    assert fit["better"] == "exponential"
    assert fit["exponential"]["rate"] == pytest.approx(0.3, abs=0.02)


def test_power_vs_exponential_tie_and_bad_input():
    # Constant data: both fits are exact with slope 0, so neither is better.
    assert power_vs_exponential([1.0, 2.0, 3.0], [4.0, 4.0, 4.0])["better"] == "tie"
    with pytest.raises(ValueError, match="at least 3 points"):
        power_vs_exponential([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"y_stat\[0\] = -1.0 is not positive"):
        power_vs_exponential([1.0, 2.0, 3.0], [-1.0, 2.0, 3.0])


# ----------------------------------------------------------------------------- bound

X_BOUND = np.geomspace(10.0, 1e4, 6)
CALIBRATE = np.array([True, True, True, False, False, False])


def test_bound_check_holds_for_data_proportional_to_a_tight_bound():
    # measured = 2·f·lognormal(0.1), 10 seeds, f = x·log x. C is the largest calibration
    # upper CI end / f, so a held-out median exceeds C·f only if its noise beats every
    # calibration point's by a CI half-width: a simulation of this design (3 + 3 points,
    # 10 seeds, 400 repetitions) gave holds 96.5%, inconclusive 3.5%, violated 0%.
    f_expr = sp.Symbol("x", positive=True) * sp.log(sp.Symbol("x", positive=True))
    f = X_BOUND * np.log(X_BOUND)
    rng = np.random.default_rng(7)
    measured = 2.0 * f[:, None] * np.exp(0.1 * rng.standard_normal((6, 10)))
    labels = [f"x={x:g}" for x in X_BOUND]
    result = bound_check(measured, f, CALIBRATE, labels=labels, expr=f_expr)
    assert result.status is Status.HOLDS
    ev = assert_strict_json(result)["evidence"]
    assert ev["expr"] == "x*log(x)"
    assert [p["verdict"] for p in ev["points"]] == ["calibration"] * 3 + ["holds"] * 3
    assert all(p["ratio"] <= 1.0 for p in ev["points"])
    # C ≈ 2·exp(max of 3 log-median noises + CI half-width): log-median sd ≈ 0.04, half-width
    # ≈ 0.08, so C ∈ (2, 2·e^0.25) unless all three noises are < −2 sd or one is > 4 sd.
    assert 2.0 < ev["C"] < 2.0 * math.exp(0.25)


def test_bound_check_holds_for_a_loose_bound():
    # measured ∝ √x under f = x: C ≥ m_0/f_0 (first point), so a held-out ratio m_j/(C·f_j) is
    # ≤ (x_j/x_0)^(-1/2)·e^(noise_j − noise_0) ≤ 10^(-0.9)·e^0.3 ≈ 0.17 unless the difference
    # of two log-median noises (sd ≈ 0.056) exceeds 5 sd.
    rng = np.random.default_rng(8)
    measured = np.sqrt(X_BOUND)[:, None] * np.exp(0.1 * rng.standard_normal((6, 10)))
    result = bound_check(measured, X_BOUND, CALIBRATE)
    assert result.status is Status.HOLDS
    assert max(p["ratio"] for p in result.evidence["points"][3:]) < 10**-0.9 * math.exp(0.3)


def test_bound_check_is_violated_when_data_outgrow_the_bound():
    # measured ∝ x² under f = x: from the last calibration point to the first held-out one x
    # grows 10^0.6 ≈ 4×, so does measured/f (log 4 ≈ 1.4 ≫ log-median sd 0.04 + half-widths).
    rng = np.random.default_rng(9)
    measured = X_BOUND[:, None] ** 2 * np.exp(0.1 * rng.standard_normal((6, 10)))
    result = bound_check(measured, X_BOUND, CALIBRATE)
    assert result.status is Status.VIOLATED
    points = result.evidence["points"]
    assert [p["verdict"] for p in points[3:]] == ["violated"] * 3
    assert all(p["ratio_ci"][0] > 1.0 for p in points[3:])
    assert result.summary.endswith(": violated")


def test_bound_check_inconclusive_with_missing_runs():
    measured = np.outer(X_BOUND, np.ones(4))
    measured[4, 1:] = np.nan
    result = bound_check(measured, X_BOUND, CALIBRATE, labels=[str(i) for i in range(6)])
    assert result.status is Status.INCONCLUSIVE
    assert result.evidence["reason"].startswith("4 has 1 finite value(s) of 4")


@pytest.mark.parametrize(
    ("calibrate", "bound", "kwargs", "message"),
    [
        ([True] * 6, X_BOUND, {}, "at least one True"),
        ([False] * 6, X_BOUND, {}, "at least one True"),
        ([1, 1, 1, 0, 0, 0], X_BOUND, {}, "bool array"),
        (CALIBRATE, X_BOUND[:5], {}, "bound_values must have length n_points = 6"),
        (CALIBRATE, -X_BOUND, {}, r"bound_values\[0\] = -10.0 is not positive"),
        (CALIBRATE, X_BOUND, {"labels": ["a"]}, "labels must have length"),
        (CALIBRATE, X_BOUND, {"level": 0.0}, r"open interval \(0, 1\)"),
    ],
)
def test_bound_check_rejects_bad_input(calibrate, bound, kwargs, message):
    with pytest.raises(ValueError, match=message):
        bound_check(np.ones((6, 3)), bound, np.asarray(calibrate), **kwargs)


# ----------------------------------------------------------------------------- ordering


def separated_samples(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A ≈ 1 and B ≈ 2 with sd 0.1: completely separated (checked by the caller)."""
    rng = np.random.default_rng(seed)
    return 1.0 + 0.1 * rng.standard_normal(n), 2.0 + 0.1 * rng.standard_normal(n)


def test_ordering_check_holds_and_violated_with_exact_p_values():
    # With A < B completely, the observed labelling is the unique most extreme of the
    # C(16, 8) = 12870 relabellings: the exact p-value is 1/12870, the reverse one is 1.
    a, b = separated_samples(8, seed=10)
    assert a.max() < b.min()
    result = ordering_check(a, b, labels=("pppd", "sgd"))
    assert result.status is Status.HOLDS
    ev = assert_strict_json(result)["evidence"]
    assert ev["exact"] and ev["n_resamples"] == math.comb(16, 8)
    assert ev["p_value"] == pytest.approx(1 / 12870) and ev["p_value_reverse"] == 1.0
    assert result.summary.startswith("pppd mean")

    reverse = ordering_check(b, a)
    assert reverse.status is Status.VIOLATED
    assert reverse.evidence["p_value_reverse"] == pytest.approx(1 / 12870)
    assert ordering_check(b, a, smaller_is_better=False).status is Status.HOLDS


def test_ordering_check_inconclusive_for_identical_samples():
    # B is a reordering of A: t = 0, and swapping the two groups maps t* to −t*, so at least
    # half of the relabellings have t* ≥ 0 and half have t* ≤ 0: both p-values are ≥ 1/2.
    a = np.random.default_rng(11).standard_normal(8)
    result = ordering_check(a, a[::-1])
    assert result.status is Status.INCONCLUSIVE
    assert result.evidence["p_value"] >= 0.5 and result.evidence["p_value_reverse"] >= 0.5


def test_ordering_check_reports_min_achievable_p_for_two_seeds_each():
    # 2 vs 2 seeds: C(4, 2) = 6 relabellings, so p ≥ 1/6 > 0.05 even for perfect separation.
    result = ordering_check([1.0, 1.1], [5.0, 5.1])
    assert result.status is Status.INCONCLUSIVE
    assert result.evidence["min_achievable_p"] == pytest.approx(1 / 6)
    assert result.evidence["p_value"] == pytest.approx(1 / 6)
    assert "min achievable p = 0.167 >= alpha" in result.summary


def test_ordering_check_paired_sign_flips():
    # Shared per-seed offsets (sd 10) swamp a 0.1 gap between unpaired means (null sd of the
    # difference ≈ 10·√(2/10) ≈ 4.5, so p ≈ 0.5), but every paired difference is +0.1 ± 0.001:
    # with 10 pairs the only sign pattern as extreme is the observed one, p = 1/2^10.
    rng = np.random.default_rng(12)
    offsets = 10.0 * rng.standard_normal(10)
    a = offsets
    b = offsets + 0.1 + 0.001 * rng.standard_normal(10)
    assert ordering_check(a, b).status is Status.INCONCLUSIVE
    result = ordering_check(a, b, paired=True)
    assert result.status is Status.HOLDS
    assert result.evidence["exact"] and result.evidence["p_value"] == pytest.approx(1 / 1024)
    with pytest.raises(ValueError, match="equal lengths"):
        ordering_check(a, b[:9], paired=True)


@pytest.mark.parametrize(("scale", "shift"), [(1e-12, 0.0), (1e6, 0.0), (1.0, 1e6), (-1.0, 0.0)])
def test_ordering_p_values_are_invariant_under_affine_maps(scale, shift):
    # The test statistic transforms as t → scale·t, so relabelling ranks (and ties) are kept;
    # a negative scale swaps "smaller is better" for "larger is better". The tie tolerance is
    # relative to the data's magnitude, so tiny, huge or offset data give the same p-values.
    a, b = separated_samples(4, seed=17)
    a[0] = b[0]  # a tie across groups
    reference = ordering_check(a, b).evidence
    result = ordering_check(scale * a + shift, scale * b + shift, smaller_is_better=scale > 0)
    assert result.evidence["p_value"] == pytest.approx(reference["p_value"])
    assert result.evidence["p_value_reverse"] == pytest.approx(reference["p_value_reverse"])


def test_ordering_check_monte_carlo_when_relabellings_are_many():
    # C(60, 30) ≈ 1.2e17 > n_perm: Monte Carlo. A random relabelling matches the unique most
    # extreme one with probability 1/C(60, 30), so p = (1 + 0)/(n_perm + 1) but for ~1e-13.
    a, b = separated_samples(30, seed=13)
    assert a.max() < b.min()
    for paired in (False, True):
        result = ordering_check(a, b, n_perm=2000, paired=paired)
        assert result.status is Status.HOLDS and not result.evidence["exact"]
        assert result.evidence["p_value"] == pytest.approx(1 / 2001)
        assert result.evidence["min_achievable_p"] == pytest.approx(1 / 2001)


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(
    a=st.lists(st.integers(-5, 5).map(float), min_size=2, max_size=4),
    b=st.lists(st.integers(-5, 5).map(float), min_size=2, max_size=3),
)
def test_ordering_exact_p_values_match_brute_force(a, b):
    # Independent reference: all (|A| + |B|)! orderings of the pooled values (each split into
    # groups appears |A|!·|B|! times, so the fractions equal those over relabellings). Small
    # integers make ties frequent, which exercises the "as extreme up to rounding" rule.
    pooled, n_a = a + b, len(a)
    observed = np.mean(b) - np.mean(a)
    stats = [sum(p[n_a:]) / len(b) - sum(p[:n_a]) / n_a for p in permutations(pooled)]
    expected_p = np.mean([t >= observed - 1e-9 for t in stats])
    expected_reverse = np.mean([t <= observed + 1e-9 for t in stats])
    result = ordering_check(a, b, alpha=0.5)
    assert result.evidence["p_value"] == pytest.approx(expected_p)
    assert result.evidence["p_value_reverse"] == pytest.approx(expected_reverse)
    assert expected_p + expected_reverse >= 1.0  # so both orderings can never be declared


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.6}, r"alpha must lie in \(0, 0.5\]"),
        ({"n_perm": 0}, "n_perm must be a positive integer"),
        ({"better": [1.0, np.nan]}, r"better\[1\] = nan is not finite"),
        ({"worse": []}, "worse is empty"),
        ({"worse": [3.0]}, "at least 2 values, got 2 and 1"),
    ],
)
def test_ordering_check_rejects_bad_input(kwargs, message):
    kwargs = {"better": [1.0, 2.0], "worse": [3.0, 4.0], **kwargs}
    with pytest.raises(ValueError, match=message):
        ordering_check(kwargs.pop("better"), kwargs.pop("worse"), **kwargs)


# ----------------------------------------------------------------------------- threshold


@pytest.mark.parametrize(
    ("threshold", "direction", "expected"),
    [
        (0.8, ">=", Status.HOLDS),
        (1.0, ">=", Status.VIOLATED),
        (1.0, "<=", Status.HOLDS),
        (0.8, "<=", Status.VIOLATED),
    ],
)
def test_threshold_check_clear_cases(threshold, direction, expected):
    # Mean 0.9, sd 0.01, 10 seeds: SE ≈ 0.0032; both thresholds are 0.1 ≈ 30 SE away.
    values = 0.9 + 0.01 * np.random.default_rng(14).standard_normal(10)
    result = threshold_check(values, threshold, direction=direction)
    assert result.status is expected
    assert_strict_json(result)


def test_threshold_check_inconclusive_at_the_sample_mean():
    # The t interval is centred on the sample mean with a positive half-width, so it
    # straddles a threshold placed there.
    values = 0.9 + 0.01 * np.random.default_rng(15).standard_normal(10)
    for direction in (">=", "<="):
        result = threshold_check(values, float(values.mean()), direction=direction)
        assert result.status is Status.INCONCLUSIVE


@pytest.mark.parametrize("n", [3, 20])
def test_threshold_check_interval_is_the_t_interval(n):
    # Reference: scipy.stats.ttest_1samp's confidence interval, on the values or their logs.
    values = np.exp(np.random.default_rng(16).standard_normal(n))
    linear = threshold_check(values, 10.0, direction="<=")
    ci = ttest_1samp(values, 0.0).confidence_interval(0.95)
    assert linear.evidence["ci"] == pytest.approx([ci.low, ci.high], rel=1e-12)
    assert linear.evidence["method"] == stats.T_MEAN
    log = threshold_check(values, 10.0, direction="<=", scale="log")
    ci = ttest_1samp(np.log(values), 0.0).confidence_interval(0.95)
    assert log.evidence["ci"] == pytest.approx(np.exp([ci.low, ci.high]), rel=1e-12)
    assert log.evidence["estimate"] == pytest.approx(math.exp(np.log(values).mean()))
    assert log.summary.startswith("geometric mean")


@pytest.mark.parametrize(
    ("values", "threshold", "kwargs", "message"),
    [
        ([1.0], 0.0, {}, "at least 2 entries"),
        ([1.0, np.inf], 0.0, {}, r"values\[1\] = inf is not finite"),
        ([1.0, 2.0], math.nan, {}, "threshold must be finite"),
        ([1.0, 2.0], 0.0, {"direction": ">"}, "direction must be"),
        ([1.0, 2.0], 0.0, {"level": 95}, r"open interval \(0, 1\)"),
        ([[1.0, 2.0]], 0.0, {}, "must be 1-D"),
        ([1.0, 2.0], 0.0, {"scale": "ln"}, "scale must be"),
        ([1.0, 0.0], 0.0, {"scale": "log"}, r"values\[1\] = 0.0 is not positive"),
    ],
)
def test_threshold_check_rejects_bad_input(values, threshold, kwargs, message):
    kwargs = {"direction": ">=", **kwargs}
    with pytest.raises(ValueError, match=message):
        threshold_check(values, threshold, **kwargs)


def test_the_plugin_guides_worked_example_runs_and_its_control_fails_for_the_right_reason():
    # The guide's code asserts its own verdicts: the waiting time holds, its control (a wait
    # that ignores x) is violated paired, inconclusive unpaired, and would hold if closed.
    guide = (Path(__file__).parents[1] / "docs" / "plugin-guide.md").read_text()
    start = guide.index("```python", guide.index("A worked example, with a negative"))
    source = guide[start + len("```python") : guide.index("```", start + 3)]
    exec(compile(source, "plugin-guide.md", "exec"), {})
