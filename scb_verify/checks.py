"""The check library: how measurements reach a verdict (docs/reference.md §7).

Every check is deterministic given its `seed` (numpy `default_rng(seed)`), returns a
`CheckResult` whose evidence is plain JSON, and raises `ValueError` for malformed input. A check
never raises for an unlucky measurement: too little data gives an inconclusive verdict with a
reason. Intervals are percentile-bootstrap intervals, which under-cover with very few seeds;
the seed count is always part of the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import sympy

from scb_verify.verdict import CheckResult, Range, Status

ArrayLike = Sequence[float] | np.ndarray

_STATISTICS: dict[str, Callable[..., np.ndarray]] = {"median": np.median, "mean": np.mean}
# Elements per chunk of permutation draws, to bound memory for large samples.
_CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------- validation


def _as_array(name: str, values: Any, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(values).__name__}: {exc}") from exc
    if array.ndim != ndim:
        shape = "(n,)" if ndim == 1 else "(n_points, n_seeds)"
        raise ValueError(f"{name} must be {ndim}-D with shape {shape}, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty; it needs at least one value")
    return array


def _require_finite(name: str, array: np.ndarray) -> None:
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        raise ValueError(f"{name}{list(index)} = {array[index]} is not finite; all must be")


def _require_positive(name: str, array: np.ndarray) -> None:
    """Finite entries must be > 0 (non-finite ones are checked elsewhere or allowed)."""
    bad = np.argwhere(np.isfinite(array) & (array <= 0))
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name}{list(index)} = {array[index]} is not positive; a log needs values > 0"
        )


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in the open interval (0, 1), got {level}")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _expr_evidence(expr: sympy.Expr | None) -> dict[str, str]:
    if expr is None:
        return {}
    return {"expr": str(expr), "expr_latex": sympy.latex(expr)}


# ----------------------------------------------------------------------------- statistics


def _bootstrap(
    values: np.ndarray, statistic: Callable[..., np.ndarray], n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """`n_boot` bootstrap replicates of `statistic` over the 1-D sample `values`."""
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    return statistic(values[idx], axis=1)


def _percentile_ci(draws: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    return float(low), float(high)


def _ols(u: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line v ≈ a + b·u: returns (b, a, residual sum of squares)."""
    du = u - u.mean()
    slope = float(du @ (v - v.mean()) / (du @ du))
    intercept = float(v.mean() - slope * u.mean())
    rss = float(np.sum((v - intercept - slope * u) ** 2))
    return slope, intercept, rss


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _fmt_range(low: float, high: float) -> str:
    if math.isinf(low) and math.isinf(high):
        return "any value"
    if math.isinf(low):
        return f"<= {_fmt(high)}"
    if math.isinf(high):
        return f">= {_fmt(low)}"
    return f"[{_fmt(low)}, {_fmt(high)}]"


def _interval_verdict(ci: tuple[float, float], low: float, high: float) -> Status:
    """holds if ci ⊂ [low, high]; violated if ci ∩ [low, high] = ∅; else inconclusive."""
    if low <= ci[0] and ci[1] <= high:
        return Status.HOLDS
    if ci[1] < low or ci[0] > high:
        return Status.VIOLATED
    return Status.INCONCLUSIVE


# ----------------------------------------------------------------------------- exponents


def local_exponent(
    expr: sympy.Expr, var: sympy.Symbol, at: Mapping[sympy.Symbol, float] | None = None
) -> sympy.Expr | float:
    """Local exponent ∂ log f / ∂ log x = x·f'(x)/f(x) of `expr` in `var`, simplified
    (docs/reference.md §7). For f = x^a·log(x)^b it is a + b/log x. With `at`, every free symbol is
    substituted and a float is returned (ValueError if a symbol is left or the value is not a
    finite real number)."""
    if not isinstance(var, sympy.Symbol):
        raise ValueError(f"var must be a sympy Symbol, got {type(var).__name__}")
    exponent = sympy.simplify(var * sympy.diff(expr, var) / expr)
    if at is None:
        return exponent
    value = exponent.subs(at)
    if value.free_symbols:
        missing = ", ".join(sorted(str(s) for s in value.free_symbols))
        raise ValueError(f"`at` leaves symbols without a value: {missing}")
    number = complex(value.evalf())
    if number.imag != 0.0 or not math.isfinite(number.real):
        raise ValueError(f"local exponent of {expr} at {dict(at)} is {value}, not a finite real")
    return number.real


def fit_loglog_slope(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Least-squares fit log y = intercept + slope·log x; returns (slope, intercept).
    Requires 1-D x, y of equal length ≥ 2, finite and > 0, with at least two distinct x."""
    xs, ys = _as_array("x", x, 1), _as_array("y", y, 1)
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    for name, array in (("x", xs), ("y", ys)):
        _require_finite(name, array)
        _require_positive(name, array)
    if np.unique(xs).size < 2:
        raise ValueError("x needs at least two distinct values to fit a slope")
    slope, intercept, _ = _ols(np.log(xs), np.log(ys))
    return slope, intercept


def power_vs_exponential(x: ArrayLike, y_stat: ArrayLike) -> dict[str, Any]:
    """Compare a power law log y = a + b·log x with an exponential log y = a + c·x (claim C3).

    Both are two-parameter least-squares lines for the same response log y, so their residual
    sums of squares compare directly (equal parameter counts: no complexity penalty needed).
    `better` is "power", "exponential", or "tie" when the RSS agree to 1e-12 relative.
    Requires ≥ 3 points (two points fit both models exactly), x and y finite and > 0.
    """
    xs, ys = _as_array("x", x, 1), _as_array("y_stat", y_stat, 1)
    if xs.shape != ys.shape:
        raise ValueError(f"x and y_stat must have the same length, got {xs.size} and {ys.size}")
    if xs.size < 3:
        raise ValueError(f"need at least 3 points to compare two 2-parameter fits, got {xs.size}")
    for name, array in (("x", xs), ("y_stat", ys)):
        _require_finite(name, array)
        _require_positive(name, array)
    if np.unique(xs).size < 2:
        raise ValueError("x needs at least two distinct values")
    log_y = np.log(ys)
    b, a_pow, rss_pow = _ols(np.log(xs), log_y)
    c, a_exp, rss_exp = _ols(xs, log_y)
    if abs(rss_pow - rss_exp) <= 1e-12 * (1.0 + rss_pow + rss_exp):
        better = "tie"
    else:
        better = "power" if rss_pow < rss_exp else "exponential"
    return {
        "power": {"exponent": b, "log_prefactor": a_pow, "rss": rss_pow},
        "exponential": {"rate": c, "log_prefactor": a_exp, "rss": rss_exp},
        "better": better,
    }


# ----------------------------------------------------------------------------- checks


def scaling_check(
    x: ArrayLike,
    y: ArrayLike,
    predicted: tuple[float, float],
    *,
    expr: sympy.Expr | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    statistic: Literal["median", "mean"] = "median",
    label: str = "",
    axis: str | None = None,
) -> CheckResult:
    """Scaling check (docs/reference.md §7): is the log–log slope of y in x inside `predicted`?

    y has shape (len(x), n_seeds); non-finite entries (NaN: failed or unreached run) are
    dropped, finite ones must be > 0. Per grid point s_i = statistic over seeds; slope = OLS
    slope of log s_i on log x_i. CI: percentile bootstrap at `level`, resampling seeds
    independently within each grid point. With [lo, hi] = predicted (closed; ±inf for one
    side): holds if CI ⊂ [lo, hi]; violated if CI ∩ [lo, hi] = ∅; inconclusive if it
    straddles a boundary, or if some grid point has fewer than 2 finite values. `label` names
    the check within its claim, `axis` the swept variable x; the result's `predicted` is the
    closed :class:`~scb_verify.verdict.Range` [lo, hi].
    """
    xs, ys = _as_array("x", x, 1), _as_array("y", y, 2)
    if xs.size < 3:
        raise ValueError(f"a scaling check needs at least 3 grid points, got {xs.size}")
    if ys.shape[0] != xs.size:
        raise ValueError(f"y must have shape (len(x), n_seeds) = ({xs.size}, n), got {ys.shape}")
    _require_finite("x", xs)
    _require_positive("x", xs)
    if np.unique(xs).size < 2:
        raise ValueError("x needs at least two distinct values to fit a slope")
    _require_positive("y", ys)
    bounds = np.asarray(predicted, dtype=float)
    if bounds.shape != (2,) or np.isnan(bounds).any() or bounds[0] > bounds[1]:
        raise ValueError(f"predicted must be (lo, hi), lo <= hi, ±inf allowed; got {predicted!r}")
    low, high = float(bounds[0]), float(bounds[1])
    _check_level(level)
    _check_count("n_boot", n_boot)
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(_STATISTICS)}, got {statistic!r}")
    stat = _STATISTICS[statistic]
    fields = {"label": label, "axis": axis, "predicted": Range(low, high)}

    samples = [row[np.isfinite(row)] for row in ys]
    n_finite = [s.size for s in samples]
    evidence: dict[str, Any] = {
        "x": xs,
        "y": ys,
        "n_seeds": ys.shape[1],
        "n_finite": n_finite,
        "statistic": statistic,
        "predicted": [low, high],
        "level": level,
        "n_boot": n_boot,
        "seed": seed,
        **_expr_evidence(expr),
    }
    short = [i for i, n in enumerate(n_finite) if n < 2]
    if short:
        i = short[0]
        reason = (
            f"grid point x={_fmt(xs[i])} has {n_finite[i]} finite value(s) of {ys.shape[1]}; "
            "a bootstrap needs at least 2"
        )
        evidence["reason"] = reason
        return CheckResult(
            "scaling", Status.INCONCLUSIVE, f"{reason}: inconclusive", evidence, **fields
        )

    rng = np.random.default_rng(seed)
    point_stat = np.array([stat(s) for s in samples])
    log_x = np.log(xs)
    slope, intercept, _ = _ols(log_x, np.log(point_stat))
    boot_log = np.log(np.column_stack([_bootstrap(s, stat, n_boot, rng) for s in samples]))
    centred = log_x - log_x.mean()
    boot_slopes = (boot_log - boot_log.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
    ci = _percentile_ci(boot_slopes, level)
    status = _interval_verdict(ci, low, high)

    missing = sum(ys.shape[1] - n for n in n_finite)
    note = f", {missing} run(s) missing" if missing else ""
    summary = (
        f"slope {_fmt(slope)} [{_fmt(ci[0])}, {_fmt(ci[1])}] ({level:.0%} CI, {ys.shape[1]} "
        f"seeds{note}) vs predicted {_fmt_range(low, high)}: {status.value}"
    )
    evidence.update({"stat": point_stat, "slope": slope, "intercept": intercept, "ci": ci})
    return CheckResult("scaling", status, summary, evidence, **fields)


def bound_check(
    measured: ArrayLike,
    bound_values: ArrayLike,
    calibrate: ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    expr: sympy.Expr | None = None,
    label: str = "",
) -> CheckResult:
    """Bound check (docs/reference.md §7): measured ≤ C·f, C calibrated on some points, tested on
    the rest.

    measured has shape (n_points, n_seeds) (non-finite entries = missing runs, dropped);
    bound_values[i] = f at point i (finite, > 0); calibrate[i] marks calibration points (at
    least one calibration and one held-out point). Per point: median m_i and its percentile
    bootstrap CI [l_i, u_i] at `level`. C = max over calibration points of u_i / f_i: the
    upper confidence end, so the calibration noise is paid for once, here. A held-out point j
    is violated if l_j > C·f_j (significantly above the bound), holds if m_j ≤ C·f_j, else
    inconclusive. Overall: violated if any held-out point is, holds if all hold, else
    inconclusive (also when some point has fewer than 2 finite values). `labels` name the
    points, `label` the check within its claim; `predicted` is median/(C·f) ≤ 1.

    Comparing u_j (rather than m_j) with C·f_j would pay the noise twice: for measured ∝ f,
    u_j / f_j and the calibration u_i / f_i are exchangeable, so a tight, true bound would hold
    only with probability ≈ n_calibration / n_points.
    """
    ms = _as_array("measured", measured, 2)
    fs = _as_array("bound_values", bound_values, 1)
    cal = np.asarray(calibrate)
    n_points = ms.shape[0]
    if fs.size != n_points:
        raise ValueError(f"bound_values must have length n_points = {n_points}, got {fs.size}")
    if cal.shape != (n_points,) or cal.dtype != np.bool_:
        raise ValueError(
            f"calibrate must be a bool array of length n_points = {n_points}, got dtype "
            f"{cal.dtype} and shape {cal.shape}"
        )
    if not cal.any() or cal.all():
        raise ValueError("calibrate needs at least one True (calibration) and one False point")
    _require_finite("bound_values", fs)
    _require_positive("bound_values", fs)
    _check_level(level)
    _check_count("n_boot", n_boot)
    names = [f"point {i}" for i in range(n_points)] if labels is None else list(labels)
    if len(names) != n_points:
        raise ValueError(f"labels must have length n_points = {n_points}, got {len(names)}")

    fields = {"label": label, "predicted": Range(hi=1.0)}
    samples = [row[np.isfinite(row)] for row in ms]
    evidence: dict[str, Any] = {
        "labels": names,
        "measured": ms,
        "bound_values": fs,
        "calibrate": cal,
        "n_seeds": ms.shape[1],
        "level": level,
        "n_boot": n_boot,
        "seed": seed,
        **_expr_evidence(expr),
    }
    short = [i for i, s in enumerate(samples) if s.size < 2]
    if short:
        i = short[0]
        reason = (
            f"{names[i]} has {samples[i].size} finite value(s) of {ms.shape[1]}; "
            "a bootstrap needs at least 2"
        )
        evidence["reason"] = reason
        return CheckResult(
            "bound", Status.INCONCLUSIVE, f"{reason}: inconclusive", evidence, **fields
        )

    rng = np.random.default_rng(seed)
    medians = np.array([np.median(s) for s in samples])
    cis = np.array([_percentile_ci(_bootstrap(s, np.median, n_boot, rng), level) for s in samples])
    constant = float(np.max(cis[cal, 1] / fs[cal]))
    limit = constant * fs
    points = []
    for i in range(n_points):
        if cal[i]:
            verdict = "calibration"
        elif cis[i, 0] > limit[i]:
            verdict = Status.VIOLATED.value
        elif medians[i] <= limit[i]:
            verdict = Status.HOLDS.value
        else:
            verdict = Status.INCONCLUSIVE.value
        points.append(
            {
                "label": names[i],
                "f": fs[i],
                "median": medians[i],
                "ci": cis[i],
                "ratio": medians[i] / limit[i],
                "ratio_ci": cis[i] / limit[i],
                "verdict": verdict,
            }
        )
    held = [p for p in points if p["verdict"] != "calibration"]
    verdicts = {p["verdict"] for p in held}
    if Status.VIOLATED.value in verdicts:
        status = Status.VIOLATED
    elif verdicts == {Status.HOLDS.value}:
        status = Status.HOLDS
    else:
        status = Status.INCONCLUSIVE
    worst = max(held, key=lambda p: p["ratio"])
    summary = (
        f"C = {_fmt(constant)} from {int(cal.sum())} calibration point(s); held-out "
        f"median/(C·f) up to {_fmt(worst['ratio'])} [{_fmt(worst['ratio_ci'][0])}, "
        f"{_fmt(worst['ratio_ci'][1])}] ({level:.0%} CI) at {worst['label']}: {status.value}"
    )
    evidence.update({"C": constant, "points": points})
    return CheckResult("bound", status, summary, evidence, **fields)


def _permutation_stats(
    a: np.ndarray,
    b: np.ndarray,
    sign: float,
    paired: bool,
    n_perm: int,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, bool]:
    """Observed statistic (positive = A better), its permutation distribution, exactness.

    Unpaired: t = sign·(mean B − mean A) over relabellings of the pooled sample into groups
    of sizes |A|, |B|. Paired: t = mean of sign·(b_i − a_i) over sign flips of each pair.
    Exact enumeration when the count of relabellings is ≤ n_perm, else n_perm random ones.
    """
    if paired:
        d = sign * (b - a)
        n = d.size
        exact = 2**n <= n_perm
        if exact:
            signs = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
            return float(d.mean()), signs @ d / n, True
        rows = max(1, _CHUNK_ELEMENTS // n)
        draws = [
            rng.choice([-1.0, 1.0], size=(min(rows, n_perm - s), n)) @ d / n
            for s in range(0, n_perm, rows)
        ]
        return float(d.mean()), np.concatenate(draws), False
    pooled = np.concatenate([a, b])
    n, n_a, n_b = pooled.size, a.size, b.size
    total = pooled.sum()

    def stat(sum_a: np.ndarray) -> np.ndarray:
        return sign * ((total - sum_a) / n_b - sum_a / n_a)

    observed = float(stat(np.array(a.sum())))
    if math.comb(n, n_a) <= n_perm:
        groups = np.array(list(combinations(range(n), n_a)))
        return observed, stat(pooled[groups].sum(axis=1)), True
    rows = max(1, _CHUNK_ELEMENTS // n)
    draws = []
    for s in range(0, n_perm, rows):
        order = rng.permuted(np.tile(np.arange(n), (min(rows, n_perm - s), 1)), axis=1)
        draws.append(stat(pooled[order[:, :n_a]].sum(axis=1)))
    return observed, np.concatenate(draws), False


def ordering_check(
    better: ArrayLike,
    worse: ArrayLike,
    *,
    smaller_is_better: bool = True,
    alpha: float = 0.05,
    paired: bool = False,
    n_perm: int = 20000,
    seed: int = 0,
    labels: tuple[str, str] = ("A", "B"),
    label: str = "",
) -> CheckResult:
    """Ordering check (docs/reference.md §7): is A (`better`) better than B (`worse`) across seeds?

    One-sided permutation test of the difference of means t (positive = A better). Unpaired:
    relabellings of the pooled sample; paired (equal lengths, pair i = seed i): sign flips of
    the differences. Exact when there are ≤ n_perm relabellings (p = #{t* ≥ t} / #all), else
    Monte Carlo with n_perm draws (p = (1 + #{t* ≥ t}) / (n_perm + 1)); statistics equal to t
    up to floating-point rounding count as extreme. holds if p < alpha; violated if the reverse test
    (B better) has p < alpha; otherwise inconclusive. `min_achievable_p` (1 / #relabellings,
    or 1 / (n_perm + 1)) is reported: when it is ≥ alpha, no verdict but inconclusive is
    possible with these sample sizes. alpha must lie in (0, 0.5] so both tests cannot pass.
    `labels` name A and B, `label` the check within its claim; `predicted` is t > 0 (open).
    """
    a, b = _as_array("better", better, 1), _as_array("worse", worse, 1)
    _require_finite("better", a)
    _require_finite("worse", b)
    if not 0.0 < alpha <= 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5] for a one-sided test, got {alpha}")
    _check_count("n_perm", n_perm)
    if paired and a.size != b.size:
        raise ValueError(f"paired samples need equal lengths, got {a.size} and {b.size}")
    if len(labels) != 2:
        raise ValueError(f"labels must be a pair of names, got {labels!r}")

    rng = np.random.default_rng(seed)
    sign = 1.0 if smaller_is_better else -1.0
    observed, null, exact = _permutation_stats(a, b, sign, paired, n_perm, rng)
    # Rounding bound: each mean of ≤ n values is off by ≤ n·eps·max|v|; two statistics compared.
    pooled = np.concatenate([a, b])
    tol = 8 * pooled.size * np.finfo(float).eps * float(np.max(np.abs(pooled)))
    at_least, at_most = np.sum(null >= observed - tol), np.sum(null <= observed + tol)
    if exact:
        p, p_reverse, min_p = at_least / null.size, at_most / null.size, 1.0 / null.size
    else:
        p, p_reverse = (1 + at_least) / (n_perm + 1), (1 + at_most) / (n_perm + 1)
        min_p = 1.0 / (n_perm + 1)
    if p < alpha:
        status = Status.HOLDS
    elif p_reverse < alpha:
        status = Status.VIOLATED
    else:
        status = Status.INCONCLUSIVE

    name_a, name_b = labels
    kind = "paired sign-flip" if paired else "permutation"
    how = f"exact, {null.size} relabellings" if exact else f"Monte Carlo, {n_perm} draws"
    test = f"one-sided {kind} test of the difference of means ({how})"
    direction = "smaller" if smaller_is_better else "larger"
    summary = (
        f"{name_a} mean {_fmt(a.mean())} vs {name_b} mean {_fmt(b.mean())} ({direction} is "
        f"better); p = {_fmt(p)} (reverse {_fmt(p_reverse)}), alpha {_fmt(alpha)}, {test}"
    )
    if min_p >= alpha:
        summary += f"; min achievable p = {_fmt(min_p)} >= alpha: too few seeds for a verdict"
    summary += f": {status.value}"
    evidence = {
        "labels": list(labels),
        "better": a,
        "worse": b,
        "mean_better": a.mean(),
        "mean_worse": b.mean(),
        "statistic": observed,
        "smaller_is_better": smaller_is_better,
        "paired": paired,
        "p_value": p,
        "p_value_reverse": p_reverse,
        "alpha": alpha,
        "test": test,
        "exact": exact,
        "n_resamples": int(null.size),
        "min_achievable_p": min_p,
        "seed": seed,
    }
    return CheckResult(
        "ordering", status, summary, evidence, label=label, predicted=Range(0.0, lo_closed=False)
    )


def threshold_check(
    values: ArrayLike,
    threshold: float,
    *,
    direction: Literal[">=", "<="],
    level: float = 0.95,
    seed: int = 0,
    n_boot: int = 2000,
    label: str = "",
) -> CheckResult:
    """Threshold check: is the mean of `values` (one per seed) `direction` `threshold`?

    Verdict from the percentile bootstrap CI [l, u] of the mean at `level`. For ">=": holds if
    l ≥ threshold, violated if u < threshold; for "<=": holds if u ≤ threshold, violated if
    l > threshold; inconclusive otherwise. The CLT interval mean ± z·s/√n (s with ddof 1,
    z the normal quantile) is recorded alongside. Needs ≥ 2 finite values. `label` names the
    check within its claim; `predicted` is the closed side of `threshold` that holds.
    """
    vs = _as_array("values", values, 1)
    _require_finite("values", vs)
    if vs.size < 2:
        raise ValueError(f"values needs at least 2 entries for an interval, got {vs.size}")
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    if direction not in (">=", "<="):
        raise ValueError(f"direction must be '>=' or '<=', got {direction!r}")
    _check_level(level)
    _check_count("n_boot", n_boot)

    rng = np.random.default_rng(seed)
    mean = float(vs.mean())
    ci = _percentile_ci(_bootstrap(vs, np.mean, n_boot, rng), level)
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    half = z * float(vs.std(ddof=1)) / math.sqrt(vs.size)
    good = (threshold, math.inf) if direction == ">=" else (-math.inf, threshold)
    status = _interval_verdict(ci, *good)
    summary = (
        f"mean {_fmt(mean)} [{_fmt(ci[0])}, {_fmt(ci[1])}] ({level:.0%} bootstrap CI, "
        f"{vs.size} seeds) vs required {direction} {_fmt(threshold)}: {status.value}"
    )
    evidence = {
        "values": vs,
        "mean": mean,
        "ci": ci,
        "clt_ci": [mean - half, mean + half],
        "threshold": threshold,
        "direction": direction,
        "level": level,
        "n_boot": n_boot,
        "seed": seed,
    }
    return CheckResult("threshold", status, summary, evidence, label=label, predicted=Range(*good))
