"""The estimators behind every verdict: intervals and tests on scipy.stats (docs/reference.md §7).

One function per method; each works along the last axis of its arrays, so a check calls it on
one sample and the coverage tests (``tests/test_stats.py``) call it on thousands of simulated
samples at once. The methods, and why each is the one used:

- **Student t interval of a mean** (:func:`mean_interval`): x̄ ± t_{n−1, 1−α/2}·s/√n. Exact for
  normal data at any n ≥ 2; the percentile bootstrap it replaces covers 75% at 3 seeds and 91% at
  12 (nominal 95%), because it ignores that s underestimates σ with few seeds.
- **t interval on the log scale** (:func:`geometric_mean_interval`): exp of the t interval of
  mean(log v), an interval for the geometric mean (the median of a lognormal). For positive,
  heavy-tailed quantities — sample counts, distances — where a t interval of the raw mean
  under-covers (84% at 3 seeds for lognormal data) and one outlier dominates the mean.
- **Log–log slope, paired by seed** (:func:`paired_slope_interval`): when every grid point is
  measured on the same seeds (same task and data stream at every x), the OLS slope of the
  per-point mean of log y is the mean of the per-seed slopes b_j = Σ_i c_i log y_ij, c_i =
  (u_i − ū)/Σ(u − ū)², u = log x. The per-seed slopes are i.i.d., so the t interval of their mean
  is exact under normal log-noise, and whatever a seed shares across x (its task, its stream)
  cancels inside b_j. A quantity exactly constant in x gives [0, 0]; resampling the grid
  points independently instead gives a wide interval around 0.
- **Log–log slope of independent grid points** (:func:`independent_slope_interval`): when each
  point has its own seeds (its own data, or a different subset of seeds), the slope Σ c_i m_i of
  the per-point means m_i of log y has variance Σ c_i² s_i²/n_i; the interval is Welch's, t with
  the Welch–Satterthwaite degrees of freedom.
- **Permutation tests** (:func:`permutation_p_values`): a difference of means against its
  ``scipy.stats.permutation_test`` null distribution, sign flips of paired differences or
  relabellings of two independent samples; exact when the relabellings number at most
  ``n_resamples``, else Monte Carlo with p = (1 + #{t* ≥ t})/(n_resamples + 1). Valid at
  level α under exchangeability, any n.
- **Sign test** (:func:`sign_test_p_values`): for paired differences, the number of positive
  ones against Binomial(n, ½) (zeros dropped): exact, of level ≤ α for *any* continuous law
  whose median is 0. Used where the per-seed differences are skewed (C7's log distance ratios):
  the sign-flip test's null assumes a law symmetric about 0, and on left-skewed differences of
  mean 0 it rejected 18% of the time at nominal 5% (``tests/test_stats.py`` measures both).
  It tests the median, not the mean: "more than half the seeds favour A".
- **The noise of a slope, and of a difference of two slopes** (:func:`slope_noise`,
  :func:`difference_noise`, :func:`mean_noise`, :func:`lower_bound`): the standard error and
  degrees of freedom behind the two slope intervals, recomputed from the values a check stored,
  so that the regression gate (docs/reference.md §7.8) can judge the move of an exponent
  between two runs by the interval of the difference — paired (the mean of per-seed
  differences of per-seed slopes, when both runs used the same seeds) or Welch's (se² = se₀² +
  se₁², Welch–Satterthwaite df, :func:`satterthwaite`).
- **Clopper–Pearson interval** (:func:`binomial_interval`): ``scipy.stats.binomtest``'s exact
  interval for a binomial proportion; coverage ≥ level for every p.

The bootstrap (``scipy.stats.bootstrap``) is not used: at the seed counts the budgets use (3 seeds
at smoke) no resampling interval reaches its nominal level — a resample of 3 values takes at
most 10 distinct means. Measured for the mean of normal data (2,000 repetitions, nominal 95%):
percentile 0.75 / 0.86 / 0.90 / 0.93 and BCa 0.72 / 0.85 / 0.90 / 0.92 at 3 / 6 / 12 / 24
values. The t-based intervals above are exact under normal noise and are measured in the suite
(``tests/test_stats.py``) to cover within binomial error of 95% for lognormal,
normal-multiplicative and exponential noise at every seed count the claims use.

**Censoring** (:func:`censoring_bias`): an observation known only as a bound (a run that never
reached its target within the budget costs at least the budget: right-censored) enters the
estimates at the bound. A slope is linear in the log values with weights c_i, so such an entry
biases the slope in a known direction: down where it is right-censored and c_i > 0 (the true
value, higher, would raise the slope), up where c_i < 0, and the reverse for left-censored
entries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

#: Method names, as the checks record them in their evidence.
T_MEAN = "Student t interval of the mean"
T_LOG_MEAN = "Student t interval of the mean of log values (geometric mean)"
PAIRED_SLOPE = "Student t interval of the mean per-seed log-log OLS slope (paired by seed)"
INDEPENDENT_SLOPE = (
    "Welch t interval of the log-log OLS slope of per-point mean log values (independent points)"
)
CLOPPER_PEARSON = "Clopper-Pearson exact interval (scipy.stats.binomtest)"

Bias = Literal["none", "down", "up", "both"]


def _t_half_width(sd_of_estimate: np.ndarray, df: np.ndarray, level: float) -> np.ndarray:
    """t_{df, (1+level)/2}·se; 0 where se = 0 (the df of a zero-variance sample is undefined).
    The quantile is ``scipy.special.stdtrit``, the function ``scipy.stats.t.ppf`` evaluates,
    imported here: ``diff`` reads intervals without loading scipy.stats (0.5 s)."""
    from scipy.special import stdtrit

    q = stdtrit(np.where(sd_of_estimate > 0, df, 1.0), 0.5 + level / 2.0)
    return np.where(sd_of_estimate > 0, q * sd_of_estimate, 0.0)


def mean_interval(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high) of the Student t interval x̄ ± t_{n−1}·s/√n along the last axis
    (n ≥ 2 values; s with ddof 1). A sample without spread gives [x̄, x̄]."""
    v = np.asarray(values, dtype=float)
    n = v.shape[-1]
    if n < 2:
        raise ValueError(f"a t interval needs at least 2 values, got {n}")
    mean = v.mean(axis=-1)
    # Spread about the first value: exactly 0 for identical values (no rounding from the mean).
    se = (v - v[..., :1]).std(axis=-1, ddof=1) / math.sqrt(n)
    half = _t_half_width(se, np.asarray(n - 1.0), level)
    return mean, mean - half, mean + half


def geometric_mean_interval(
    values: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(geometric mean, low, high): exp of :func:`mean_interval` of log values (all > 0)."""
    v = np.asarray(values, dtype=float)
    if np.any(v <= 0):
        raise ValueError("a log-scale interval needs values > 0")
    return tuple(np.exp(part) for part in mean_interval(np.log(v), level))


def slope_weights(log_x: np.ndarray) -> np.ndarray:
    """c_i = (u_i − ū)/Σ(u − ū)²: the OLS slope of any v on u = log x is Σ c_i v_i."""
    u = np.asarray(log_x, dtype=float)
    centred = u - u.mean()
    return centred / (centred @ centred)


def paired_slope_interval(
    log_x: np.ndarray, log_y: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slope, low, high): log_y has shape (..., points, seeds), column j = seed j at every
    point; the t interval of the mean of the per-seed OLS slopes (module docstring)."""
    return mean_interval(per_seed_slopes(log_x, log_y), level)


def per_seed_slopes(log_x: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """b_j = Σ_i c_i log y_ij: the OLS slope of each seed (log_y of shape (..., points, seeds));
    their mean is the paired slope, their spread its noise."""
    ly = np.asarray(log_y, dtype=float)
    # Differences from the first point: a seed whose values are all equal has slope exactly 0.
    return np.einsum("i,...ij->...j", slope_weights(log_x), ly - ly[..., :1, :])


def satterthwaite(variances: np.ndarray, dfs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(v, df) of a sum of independent variance estimates v_k with df_k degrees of freedom
    (along the last axis): v = Σ v_k, df = v² / Σ v_k²/df_k (Welch–Satterthwaite; 1 where
    v = 0, where a t quantile is never used)."""
    parts = np.asarray(variances, dtype=float)
    var = parts.sum(axis=-1)
    denominator = (parts**2 / np.asarray(dfs, dtype=float)).sum(axis=-1)
    return var, var**2 / np.where(denominator > 0, denominator, 1.0)


def independent_slope_interval(
    log_x: np.ndarray,
    means: np.ndarray,
    variances: np.ndarray,
    counts: np.ndarray,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slope, low, high) for independent grid points: slope = Σ c_i m_i from the per-point
    mean m_i, variance s_i² (ddof 1) and count n_i ≥ 2 of log y (shapes (..., points)); Welch's
    interval, se² = Σ c_i² s_i²/n_i, df = se⁴ / Σ (c_i² s_i²/n_i)²/(n_i − 1)."""
    slope, var, df = _independent_slope_moments(log_x, means, variances, counts)
    half = _t_half_width(np.sqrt(var), df, level)
    return slope, slope - half, slope + half


def _independent_slope_moments(
    log_x: np.ndarray, means: np.ndarray, variances: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slope, its variance, Welch–Satterthwaite df) of :func:`independent_slope_interval`."""
    c = slope_weights(log_x)
    n = np.asarray(counts, dtype=float)
    if np.any(n < 2):
        raise ValueError("every grid point needs at least 2 values for a variance")
    slope = np.asarray(means, dtype=float) @ c
    var, df = satterthwaite(c**2 * np.asarray(variances, dtype=float) / n, n - 1.0)
    return slope, var, df


def _sample_moments(log_samples: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """(means, variances with ddof 1, counts) of one 1-D array per grid point."""
    return (
        np.array([s.mean() for s in log_samples]),
        np.array([(s - s[0]).var(ddof=1) for s in log_samples]),
        np.array([s.size for s in log_samples]),
    )


def independent_slope_from_samples(
    log_x: np.ndarray, log_samples: Sequence[np.ndarray], level: float
) -> tuple[float, float, float]:
    """:func:`independent_slope_interval` from one 1-D array of log values per grid point
    (counts may differ)."""
    return tuple(
        float(v)
        for v in independent_slope_interval(log_x, *_sample_moments(log_samples), level=level)
    )


@dataclass(frozen=True)
class Noise:
    """The noise of an estimate: its standard error ``se`` with ``df`` degrees of freedom, and,
    for the mean of i.i.d. values (a paired slope: the per-seed slopes), those ``values``."""

    se: float
    df: float
    values: np.ndarray | None = None


def mean_noise(values: np.ndarray) -> Noise:
    """The noise of the mean of i.i.d. ``values`` (n ≥ 2): s/√n with n − 1 df, the spread taken
    about the first value as in :func:`mean_interval` (exactly 0 for identical values)."""
    v = np.asarray(values, dtype=float)
    return Noise(float((v - v[0]).std(ddof=1) / math.sqrt(v.size)), float(v.size - 1), v)


def slope_noise(log_x: np.ndarray, log_samples: Sequence[np.ndarray], *, paired: bool) -> Noise:
    """The standard error and degrees of freedom behind the slope intervals above, from the
    same data: paired (the same seeds at every point), :func:`mean_noise` of the per-seed
    slopes (:func:`per_seed_slopes`); independent, Welch's se with the Welch–Satterthwaite df
    (:func:`independent_slope_interval`)."""
    if paired:
        return mean_noise(per_seed_slopes(log_x, np.array(log_samples)))
    _, var, df = _independent_slope_moments(log_x, *_sample_moments(log_samples))
    return Noise(math.sqrt(float(var)), float(df))


def difference_noise(first: Noise, second: Noise) -> Noise:
    """The noise of the difference of two estimates from independent data: se² = se₁² + se₂²,
    Welch–Satterthwaite df (:func:`satterthwaite`)."""
    var, df = satterthwaite(np.array([first.se**2, second.se**2]), np.array([first.df, second.df]))
    return Noise(math.sqrt(float(var)), float(df))


def lower_bound(estimate: float, noise: Noise, confidence: float) -> float:
    """The one-sided lower confidence bound estimate − t_{df, confidence}·se (the estimate
    itself when se = 0)."""
    half = _t_half_width(np.asarray(noise.se), np.asarray(noise.df), 2.0 * confidence - 1.0)
    return estimate - float(half)


def censoring_bias(
    weights: np.ndarray, right_censored: np.ndarray, left_censored: np.ndarray
) -> Bias:
    """Direction in which entries held at their bound bias a slope Σ c_i v_i (weights c of
    shape (points,), masks of shape (points, seeds)): "down" if the true slope can only be
    larger, "up" if only smaller, "both", or "none" (module docstring)."""
    sign = np.sign(np.asarray(weights, dtype=float))[:, None]
    pushes_up = np.any((right_censored & (sign > 0)) | (left_censored & (sign < 0)))
    pushes_down = np.any((right_censored & (sign < 0)) | (left_censored & (sign > 0)))
    # True slope ≥ estimate when every censored entry would raise it: the estimate is biased down.
    return {
        (False, False): "none",
        (True, False): "down",
        (False, True): "up",
        (True, True): "both",
    }[(bool(pushes_up), bool(pushes_down))]


@dataclass(frozen=True)
class PermutationResult:
    """One-sided permutation p-values of a difference of means t (positive = A better):
    ``p`` for "A better", ``p_reverse`` for "B better"; ``exact``: every relabelling counted;
    ``n_null``: size of the null distribution; ``min_p``: the smallest p possible."""

    statistic: np.ndarray
    p: np.ndarray
    p_reverse: np.ndarray
    exact: bool
    n_null: int
    min_p: float
    method: str


def permutation_p_values(
    better: np.ndarray,
    worse: np.ndarray,
    *,
    smaller_is_better: bool,
    paired: bool,
    n_resamples: int,
    seed: int,
) -> PermutationResult:
    """One-sided permutation tests along the last axis of ``better`` (A) and ``worse`` (B); the
    null distribution is ``scipy.stats.permutation_test``'s.

    t = sign·(mean B − mean A), sign = +1 when smaller is better. Paired (equal lengths, pair i =
    seed i): t = mean of sign·(b_i − a_i) over the 2ⁿ sign flips of the pairs. Unpaired: over
    the relabellings of the pooled sample into groups of sizes |A|, |B|. Exact when those number
    ≤ n_resamples (p = #{t* ≥ t}/#all), else Monte Carlo with ``n_resamples`` draws from
    ``seed`` (p = (1 + #{t* ≥ t})/(n_resamples + 1)). Both directions are read off the same
    null distribution. Statistics within 8·n·ε·max|v| of t (rounding of a mean of n values
    of size ≤ max|v|) count as ties — as extreme; scipy's own tolerance is relative to |t| and
    misses ties at t = 0, where every relabelling of tied data computes 0 up to rounding."""
    a, b = np.asarray(better, dtype=float), np.asarray(worse, dtype=float)
    sign = 1.0 if smaller_is_better else -1.0
    if paired:
        data: tuple[np.ndarray, ...] = (sign * (b - a),)
        kind = "samples"
        count = 2 ** a.shape[-1]

        def statistic(d: np.ndarray, axis: int) -> np.ndarray:
            return d.mean(axis=axis)

    else:
        # Centred on the pooled mean (t is shift-invariant): a large common offset would
        # otherwise dominate the rounding.
        centre = np.concatenate([a, b], axis=-1).mean(axis=-1, keepdims=True)
        data, kind = (a - centre, b - centre), "independent"
        count = math.comb(a.shape[-1] + b.shape[-1], a.shape[-1])

        def statistic(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
            return sign * (y.mean(axis=axis) - x.mean(axis=axis))

    from scipy import stats

    result = stats.permutation_test(
        data,
        statistic,
        permutation_type=kind,
        vectorized=True,
        n_resamples=n_resamples,
        alternative="greater",
        axis=-1,
        rng=np.random.default_rng(seed),
    )
    values = np.concatenate(data, axis=-1)
    tol = 8 * values.shape[-1] * np.finfo(float).eps * np.max(np.abs(values), axis=-1)
    null, observed = result.null_distribution, result.statistic
    exact = count <= n_resamples
    extra = 0 if exact else 1
    at_least = np.sum(null >= observed - tol, axis=0)
    at_most = np.sum(null <= observed + tol, axis=0)
    n_null = null.shape[0]
    test = "paired sign-flip" if paired else "permutation"
    how = f"exact, {n_null} relabellings" if exact else f"Monte Carlo, {n_resamples} draws"
    return PermutationResult(
        statistic=observed,
        p=(at_least + extra) / (n_null + extra),
        p_reverse=(at_most + extra) / (n_null + extra),
        exact=exact,
        n_null=n_null,
        min_p=1.0 / (n_null + extra),
        method=f"one-sided {test} test of the difference of means "
        f"(scipy.stats.permutation_test null distribution, {how})",
    )


def sign_test_p_values(differences: np.ndarray, *, smaller_is_better: bool) -> PermutationResult:
    """One-sided exact sign tests of paired differences d_i = a_i − b_i along the last axis
    (A better when d < 0 if ``smaller_is_better``): with s_i = sign·(b_i − a_i) (positive = A
    better), k = #{s_i > 0} of the n nonzero ones; p = P(Binomial(n, ½) ≥ k) for "A better"
    (median of s > 0), p_reverse = P(Binomial(n, ½) ≤ k) for "B better". Exact; the smallest
    p possible is 2⁻ⁿ. ``statistic`` is the median of s."""
    d = np.asarray(differences, dtype=float)
    s = (-1.0 if smaller_is_better else 1.0) * d
    n = np.sum(s != 0, axis=-1)
    k = np.sum(s > 0, axis=-1)
    from scipy import stats

    p = stats.binom.sf(k - 1, n, 0.5)
    p_reverse = stats.binom.cdf(k, n, 0.5)
    n_min = int(np.min(n)) if np.size(n) else 0
    return PermutationResult(
        statistic=np.median(s, axis=-1),
        p=p,
        p_reverse=p_reverse,
        exact=True,
        n_null=2**n_min,
        min_p=0.5**n_min,
        method="one-sided exact sign test of the median of the paired differences "
        "(Binomial(n, 1/2), zeros dropped)",
    )


def binomial_interval(k: int, n: int, level: float) -> tuple[float, float]:
    """Clopper–Pearson interval for a binomial proportion, k successes of n (0 and 1 at the
    edges): ``scipy.stats.binomtest(k, n).proportion_ci(level, method="exact")``."""
    if not (0 <= k <= n and n >= 1 and 0.0 < level < 1.0):
        raise ValueError(f"need 0 <= k <= n, n >= 1, level in (0, 1); got {k}, {n}, {level}")
    from scipy import stats

    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)
