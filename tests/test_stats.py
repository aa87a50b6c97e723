"""Measured coverage of the intervals and level of the tests in scb_verify.stats (docs/reference.md
§7), on synthetic data with a known answer, at the seed counts the claims' budgets use.

Each row simulates REPETITIONS independent experiments at once (vectorized, a fixed generator
per row, so the suite is deterministic). A nominal 95% interval must cover the truth in at least
MIN_COVERAGE of them: with true coverage 0.95 the observed share has sd √(0.95·0.05/2000) ≈
0.0049, so 0.93 is 4 sd below — a method that really covers 95% never fails it, one that covers
91% (the percentile bootstrap at 12 seeds) fails it with certainty. Where the method is exact for
the noise (normal on the scale it analyses) the share must also stay ≤ MAX_COVERAGE: an interval
much wider than nominal would make the checks needlessly inconclusive. A test at level α must
reject a true null in at most α + MAX_EXCESS of the repetitions (4 sd at α = 0.05).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scb_verify.claims.c1_realizability import Realizability
from scb_verify.claims.c2_bigram import Bigram
from scb_verify.claims.c3_stage1 import StageOne
from scb_verify.claims.c4_stage2 import StageTwo
from scb_verify.claims.c5_transfer import Transfer
from scb_verify.claims.c6_concentration import Concentration
from scb_verify.claims.c7_vs_sgd import VersusSGD
from scb_verify.claims.c8_softmax import SoftmaxTransformer
from scipy import stats as scipy_stats

from scb_verify import stats

REPETITIONS = 2000
LEVEL = 0.95
MIN_COVERAGE = 0.93
MAX_COVERAGE = 0.97
ALPHA = 0.05
MAX_EXCESS = 0.02
BUDGETS = ("smoke", "ci", "full")


def _seed_counts(claims, count=lambda grid: grid.seeds) -> list[int]:
    return sorted({count(claim.grid(b)) for claim in claims for b in BUDGETS})


#: Seeds per grid point of every slope check (C2–C6), per threshold check (C1: sizes × seeds;
#: C2, C8), per ordering test (C7).
SLOPE_SEEDS = _seed_counts([Bigram(), StageOne(), StageTwo(), Transfer(), Concentration()])
MEAN_SEEDS = sorted(
    {
        *_seed_counts([Realizability()], lambda g: len(g.sizes) * g.seeds),
        *_seed_counts([Bigram(), SoftmaxTransformer()]),
    }
)
ORDERING_SEEDS = _seed_counts([VersusSGD()])
X_GRID = np.array([32.0, 64.0, 128.0, 256.0, 512.0])
TRUE_SLOPE = 0.7


def _noise(kind: str, rng: np.random.Generator, shape) -> np.ndarray:
    """Positive multiplicative noise: lognormal (σ = 1, heavy-tailed), normal (1 + 0.15·Z,
    positive to 6.7 sd), exponential (the waiting time of a rare event: skewed on the log
    scale)."""
    if kind == "lognormal":
        return np.exp(rng.standard_normal(shape))
    if kind == "normal":
        return 1.0 + 0.15 * rng.standard_normal(shape)
    return rng.exponential(size=shape)


def _covered(low, high, truth, row: str) -> float:
    """Share of repetitions whose interval contains ``truth``, printed as a row of the coverage
    table (``pytest -s tests/test_stats.py`` shows them)."""
    share = float(np.mean((low <= truth) & (truth <= high)))
    print(f"coverage | {row} | {share:.3f}")
    return share


def test_the_seed_counts_come_from_the_claims():
    assert 3 in SLOPE_SEEDS and 64 in SLOPE_SEEDS  # C3 smoke, C4 ci
    assert min(MEAN_SEEDS) >= 2 and ORDERING_SEEDS


@pytest.mark.parametrize("n", MEAN_SEEDS)
def test_t_interval_of_a_mean_covers_for_normal_data(n):
    z = 2.0 + 0.5 * np.random.default_rng(n).standard_normal((REPETITIONS, n))
    _, low, high = stats.mean_interval(z, LEVEL)
    assert MIN_COVERAGE <= _covered(low, high, 2.0, f"t, mean | normal | {n}") <= MAX_COVERAGE


@pytest.mark.parametrize("n", MEAN_SEEDS)
def test_log_scale_interval_covers_the_geometric_mean_of_lognormal_data(n):
    # Lognormal(0, σ = 1): geometric mean (= median) 1; the raw-mean t interval of the same
    # data covers its mean e^{1/2} in only ≈ 85% at 3–12 values (measured alongside).
    values = np.exp(np.random.default_rng(100 + n).standard_normal((REPETITIONS, n)))
    _, low, high = stats.geometric_mean_interval(values, LEVEL)
    row = f"t on log scale, geometric mean | lognormal | {n}"
    assert MIN_COVERAGE <= _covered(low, high, 1.0, row) <= MAX_COVERAGE
    _, low, high = stats.mean_interval(values, LEVEL)
    raw = _covered(low, high, math.exp(0.5), f"(not used) t, raw mean | lognormal | {n}")
    if n <= 12:
        assert raw < MIN_COVERAGE


@pytest.mark.parametrize("kind", ["lognormal", "normal", "exponential"])
@pytest.mark.parametrize("n", SLOPE_SEEDS)
def test_paired_slope_interval_covers_the_true_exponent(kind, n):
    # y_ij = 3·x_i^b·e^{u_j}·ε_ij: a seed effect u_j shared across x (the paired design), noise
    # ε i.i.d. and independent of x, so E log y is linear in log x with slope exactly b.
    rng = np.random.default_rng(200 + n)
    shared = np.exp(0.5 * rng.standard_normal((REPETITIONS, 1, n)))
    y = 3.0 * X_GRID[:, None] ** TRUE_SLOPE * shared * _noise(kind, rng, (REPETITIONS, 5, n))
    _, low, high = stats.paired_slope_interval(np.log(X_GRID), np.log(y), LEVEL)
    coverage = _covered(low, high, TRUE_SLOPE, f"paired t, slope | {kind} | {n}")
    assert coverage >= MIN_COVERAGE
    if kind == "lognormal":
        assert coverage <= MAX_COVERAGE


@pytest.mark.parametrize("kind", ["lognormal", "normal", "exponential"])
@pytest.mark.parametrize("n", SLOPE_SEEDS)
def test_independent_slope_interval_covers_the_true_exponent(kind, n):
    # Welch's interval is conservative with few values per point (≈ 0.97 at 3): no upper bound.
    rng = np.random.default_rng(300 + n)
    log_y = np.log(3.0 * X_GRID[:, None] ** TRUE_SLOPE * _noise(kind, rng, (REPETITIONS, 5, n)))
    _, low, high = stats.independent_slope_interval(
        np.log(X_GRID), log_y.mean(-1), log_y.var(-1, ddof=1), np.full((REPETITIONS, 5), n), LEVEL
    )
    assert _covered(low, high, TRUE_SLOPE, f"Welch t, slope | {kind} | {n}") >= MIN_COVERAGE


def test_independent_slope_from_ragged_samples_equals_the_array_form():
    rng = np.random.default_rng(4)
    samples = [rng.standard_normal(k) for k in (3, 5, 4, 7, 3)]
    ragged = stats.independent_slope_from_samples(np.log(X_GRID), samples, LEVEL)
    means = np.array([s.mean() for s in samples])
    variances = np.array([s.var(ddof=1) for s in samples])
    counts = np.array([s.size for s in samples])
    dense = stats.independent_slope_interval(np.log(X_GRID), means, variances, counts, LEVEL)
    assert ragged == pytest.approx([float(v) for v in dense], rel=1e-12)


def test_a_quantity_constant_in_x_has_slope_exactly_zero_when_paired():
    # Seeds differ from each other, but each is the same at every x: every per-seed slope is 0.
    y = np.tile(np.random.default_rng(5).lognormal(size=(1, 6)), (5, 1))
    assert stats.paired_slope_interval(np.log(X_GRID), np.log(y), LEVEL) == (0.0, 0.0, 0.0)
    log_y = np.log(y)
    _, low, high = stats.independent_slope_interval(
        np.log(X_GRID), log_y.mean(1), log_y.var(1, ddof=1), np.full(5, 6), LEVEL
    )
    assert low < -0.3 and high > 0.3  # ignoring the pairing: the seed spread blurs the slope


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("n", ORDERING_SEEDS)
def test_permutation_tests_keep_their_level_under_the_null(paired, n):
    # A and B from the same lognormal distribution (paired: each pair shares a seed effect):
    # "A better" must be significant at α in at most α + MAX_EXCESS of the repetitions.
    rng = np.random.default_rng(400 + n)
    shared = rng.standard_normal((REPETITIONS, n)) if paired else 0.0
    a = shared + rng.standard_normal((REPETITIONS, n))
    b = shared + rng.standard_normal((REPETITIONS, n))
    # 199 Monte Carlo draws where the relabellings are more (the level holds for any count).
    result = stats.permutation_p_values(
        a, b, smaller_is_better=True, paired=paired, n_resamples=199, seed=n
    )
    assert result.p.shape == (REPETITIONS,)
    for p, side in ((result.p, "A better"), (result.p_reverse, "B better")):
        level = float(np.mean(p < ALPHA))
        print(
            f"level | {'paired ' if paired else ''}permutation, {side} | null | {n} | {level:.3f}"
        )
        assert level <= ALPHA + MAX_EXCESS


def test_permutation_test_has_power_against_a_clear_shift():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((REPETITIONS, 16)), 1.5 + rng.standard_normal((REPETITIONS, 16))
    result = stats.permutation_p_values(
        a, b, smaller_is_better=True, paired=True, n_resamples=199, seed=0
    )
    # The shift is 1.5·√16/√2 ≈ 4.2 sd of the mean difference: rejected almost always.
    assert np.mean(result.p < ALPHA) > 0.95


def test_exact_sign_flip_p_value_by_enumeration():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.5, 2.0, 3.7, 4.1])
    d = b - a
    signs = 1.0 - 2.0 * ((np.arange(16)[:, None] >> np.arange(4)) & 1)
    expected = np.mean(signs @ d / 4 >= d.mean() - 1e-12)
    result = stats.permutation_p_values(
        a, b, smaller_is_better=True, paired=True, n_resamples=10_000, seed=0
    )
    assert result.exact and result.n_null == 16 and result.p == pytest.approx(expected)


@pytest.mark.parametrize("n", ORDERING_SEEDS)
def test_sign_test_keeps_its_level_on_skewed_differences_where_sign_flips_do_not(n):
    # C7's per-seed log ratios are skewed. Left-skewed differences: d = −(X − c), X lognormal
    # (σ = 1). With median 0 (c = 1) the exact sign test rejects at most α in either
    # direction; with mean 0 (c = e^{1/2}) the sign-flip test of the mean — whose null assumes
    # a law symmetric about 0 — rejects far more than α (measured 0.19 at 16 seeds, 2,000
    # repetitions; printed with -s).
    rng = np.random.default_rng(300 + n)
    x = rng.lognormal(0.0, 1.0, (REPETITIONS, n))
    median0, mean0 = -(x - 1.0), -(x - math.exp(0.5))
    sign = stats.sign_test_p_values(-median0, smaller_is_better=True)
    for p in (sign.p, sign.p_reverse):
        rate = float(np.mean(p < ALPHA))
        print(f"level | sign test, median 0 | left-skewed lognormal | {n} | {rate:.3f}")
        assert rate <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / REPETITIONS)
    flip = stats.permutation_p_values(
        np.zeros_like(mean0), mean0, smaller_is_better=True, paired=True, n_resamples=2000, seed=1
    )
    rate = float(np.mean(flip.p < ALPHA))
    print(f"level | (not used) sign flips, mean 0 | left-skewed lognormal | {n} | {rate:.3f}")
    if n >= 16:
        assert rate > 2 * ALPHA


def test_sign_test_p_values_by_enumeration():
    # 5 of 6 nonzero differences favour A (one zero dropped): p = P(Bin(6, ½) ≥ 5) = 7/64.
    d = np.array([-1.0, -2.0, -0.5, -3.0, 0.0, 4.0, -0.1])  # a − b, smaller is better
    result = stats.sign_test_p_values(d, smaller_is_better=True)
    assert float(result.p) == pytest.approx(7 / 64)
    assert float(result.p_reverse) == pytest.approx(63 / 64)
    assert result.min_p == pytest.approx(1 / 64)


@pytest.mark.parametrize(("n", "level"), [(100, 0.999), (20, 0.95)])
def test_clopper_pearson_covers_at_least_its_level_for_every_p(n, level):
    # Exact coverage Σ_k pmf(k)·1[p ∈ CI(k)] over a grid of p: the Clopper–Pearson guarantee.
    intervals = np.array([stats.binomial_interval(k, n, level) for k in range(n + 1)])
    for p in np.linspace(0.001, 0.999, 37):
        inside = (intervals[:, 0] <= p) & (p <= intervals[:, 1])
        assert scipy_stats.binom.pmf(np.arange(n + 1), n, p) @ inside >= level - 1e-12


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [(5, 10, (0.18709, 0.81291)), (0, 10, (0.0, 0.30850)), (10, 10, (0.69150, 1.0))],
)
def test_clopper_pearson_matches_reference_values(k, n, expected):
    # Reference: the beta-quantile form, e.g. lower = Beta(k, n − k + 1).ppf(0.025).
    assert stats.binomial_interval(k, n, 0.95) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("right", "left", "expected"),
    [
        ([[0, 0], [0, 0], [0, 1]], None, "down"),  # right-censored at the largest x
        ([[1, 0], [0, 0], [0, 0]], None, "up"),  # at the smallest x
        ([[1, 0], [0, 0], [0, 1]], None, "both"),
        ([[0, 0], [1, 1], [0, 0]], None, "none"),  # the middle point has weight 0
        (None, [[0, 0], [0, 0], [0, 1]], "up"),  # left-censored at the largest x
    ],
)
def test_censoring_bias_direction(right, left, expected):
    zeros = np.zeros((3, 2), dtype=bool)
    r = zeros if right is None else np.array(right, dtype=bool)
    l_ = zeros if left is None else np.array(left, dtype=bool)
    weights = stats.slope_weights(np.log([1.0, 2.0, 4.0]))
    assert stats.censoring_bias(weights, r, l_) == expected


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 2 values"):
        stats.mean_interval(np.ones(1), LEVEL)
    with pytest.raises(ValueError, match="values > 0"):
        stats.geometric_mean_interval(np.array([1.0, 0.0]), LEVEL)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        stats.binomial_interval(3, 2, LEVEL)
