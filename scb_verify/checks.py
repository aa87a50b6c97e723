"""The check library: how measurements reach a verdict (docs/reference.md §7).

Every check returns a `CheckResult` whose evidence is plain JSON and names the statistical method
behind its interval or test (`evidence["method"]`, one of the methods of :mod:`scb_verify.stats`,
where each is stated and its coverage measured), and raises `ValueError` for malformed input. A
check never raises for an unlucky measurement: too little data gives an inconclusive verdict with
a reason. Every check is deterministic (the intervals are closed-form; the permutation test draws
from its `seed`).

**Interval against a predicted range** (:class:`~scb_verify.verdict.Range`, ends open or
closed): *holds* when the interval lies inside the range — strictly inside at an open end, so an
interval that touches an open end never holds; *violated* when the interval and the range are
disjoint (an interval that reaches an open end from outside counts as disjoint: e.g. [0, 0]
against "exponent > 0"); *inconclusive* otherwise.

**Which check for which design.** A scaling check's `design` says how seeds relate across grid
points: ``"paired"`` when every point is measured on the same seeds (same task or data stream at
every x: the per-seed slopes are compared, so what a seed shares across x cancels), and
``"independent"`` when each point has its own data or its own subset of seeds. Positive,
heavy-tailed quantities (sample counts, distances) are analysed on the log scale: scaling and
bound checks always are; a threshold check with ``scale="log"``.

**Censoring** (scaling checks): an entry known only as a bound — a run that never reached its
target costs at least the budget (right-censored) — enters at its bound, marked by a mask. The
number of censored entries per grid point and the direction in which the entries held at their
bounds bias the slope are evidence. A verdict that rests on an interval end the bias could move
is inconclusive; one that rests only on the other end stands at any share of censored entries
(docs/reference.md §7.1): lower bounds whose slope already lies above a limit are a violation,
not an open question. The level of that rule is measured under heavy censoring in
``tests/test_checks.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import sympy

from scb_verify import stats
from scb_verify.verdict import CheckResult, Range, Status

ArrayLike = Sequence[float] | np.ndarray

#: Largest share of censored seeds in a cell with which the reach check
#: (:func:`scb_verify.batch_rule.censoring_check`) holds.
MAX_CENSORED_SHARE = 0.25


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


def _ols(u: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line v ≈ a + b·u: returns (b, a, residual sum of squares)."""
    du = u - u.mean()
    slope = float(du @ (v - v.mean()) / (du @ du))
    intercept = float(v.mean() - slope * u.mean())
    rss = float(np.sum((v - intercept - slope * u) ** 2))
    return slope, intercept, rss


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _as_range(predicted: Range | tuple[float, float]) -> Range:
    """A Range as given, or a (lo, hi) pair as the closed range [lo, hi] (±inf: unbounded)."""
    if isinstance(predicted, Range):
        return predicted
    bounds = np.asarray(predicted, dtype=float)
    if bounds.shape != (2,):
        raise ValueError(f"predicted must be a Range or a pair (lo, hi), got {predicted!r}")
    return Range(float(bounds[0]), float(bounds[1]))


def _inside_low(value: float, predicted: Range) -> bool:
    return value >= predicted.lo if predicted.lo_closed else value > predicted.lo


def _inside_high(value: float, predicted: Range) -> bool:
    return value <= predicted.hi if predicted.hi_closed else value < predicted.hi


def _interval_verdict(ci: tuple[float, float], predicted: Range) -> tuple[Status, set[str]]:
    """(status, the interval ends it rests on): holds if ci lies inside `predicted` (strictly at
    an open end), violated if they are disjoint, else inconclusive (module docstring)."""
    low, high = ci
    if _inside_low(low, predicted) and _inside_high(high, predicted):
        ends = {"low"} if math.isfinite(predicted.lo) else set()
        return Status.HOLDS, ends | ({"high"} if math.isfinite(predicted.hi) else set())
    if not _inside_low(high, predicted):
        return Status.VIOLATED, {"high"}
    if not _inside_high(low, predicted):
        return Status.VIOLATED, {"low"}
    return Status.INCONCLUSIVE, set()


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


def _rows(name: str, values: Any, n_points: int, *, ragged: bool) -> list[np.ndarray]:
    """One 1-D float array per grid point: a (n_points, n_seeds) array, or (``ragged``) a
    sequence of n_points 1-D arrays of any lengths."""
    if not ragged or (isinstance(values, np.ndarray) and values.ndim == 2):
        if not isinstance(values, np.ndarray) and len({np.size(row) for row in values}) > 1:
            lengths = [int(np.size(row)) for row in values]
            raise ValueError(f"{name} must be 2-D: the same seeds at every point, got {lengths}")
        array = _as_array(name, values, 2)
        rows = list(array)
    else:
        rows = [_as_array(f"{name}[{i}]", row, 1) for i, row in enumerate(values)]
    if len(rows) != n_points:
        raise ValueError(f"{name} must have one row per grid point ({n_points}), got {len(rows)}")
    return rows


def _masks(name: str, values: Any, rows: list[np.ndarray]) -> list[np.ndarray]:
    """Boolean masks shaped like ``rows`` (all False when ``values`` is None)."""
    if values is None:
        return [np.zeros(r.size, dtype=bool) for r in rows]
    masks = [np.asarray(m) for m in values]
    if len(masks) != len(rows) or any(
        m.dtype != np.bool_ or m.shape != r.shape for m, r in zip(masks, rows, strict=False)
    ):
        raise ValueError(f"{name} must be boolean masks with the shape of y")
    return masks


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    width = max(r.size for r in rows)
    out = np.zeros((len(rows), width), dtype=bool)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


#: Which interval ends a slope biased in a direction leaves unreliable: biased down (the true
#: slope can only be larger) moves the upper end, biased up the lower one.
_UNRELIABLE_ENDS: dict[str, set[str]] = {
    "none": set(),
    "down": {"high"},
    "up": {"low"},
    "both": {"low", "high"},
}


def scaling_check(
    x: ArrayLike,
    y: ArrayLike | Sequence[ArrayLike],
    predicted: Range | tuple[float, float],
    *,
    design: Literal["paired", "independent"],
    right_censored: Any = None,
    left_censored: Any = None,
    expr: sympy.Expr | None = None,
    level: float = 0.95,
    label: str = "",
    axis: str | None = None,
    seeds: Sequence[int] | None = None,
) -> CheckResult:
    """Scaling check (docs/reference.md §7): is the log–log slope of y in x inside `predicted`?

    The slope is that of the per-point mean of log y (the log of the geometric mean) against
    log x, an OLS line. ``design="paired"``: y has shape (len(x), n_seeds), column j = seed j at
    every point; interval :func:`~scb_verify.stats.paired_slope_interval` (t interval of the
    mean per-seed slope). ``design="independent"``: y is that array or one 1-D array per point
    (counts may differ, each ≥ 2); interval :func:`~scb_verify.stats.independent_slope_interval`
    (Welch). All y finite and > 0: a run without a measurement has no place here — one that
    never reached its target enters at its budget with ``right_censored`` set (masks shaped
    like y; ``left_censored`` for entries known only to be at most their value). Verdict
    against `predicted` (a :class:`~scb_verify.verdict.Range`, or a pair (lo, hi) meaning the
    closed [lo, hi]) as in the module docstring, including the censoring rule: inconclusive
    when the verdict rests on an interval end that the censoring bias (reported) could move,
    whatever the share of censored entries otherwise. `label` names the check within its claim,
    `axis` the swept variable x; `seeds` (paired design) the seed of each column, recorded so
    that the regression gate can pair two runs' per-seed slopes (docs/reference.md §7.8).
    """
    xs = _as_array("x", x, 1)
    if xs.size < 3:
        raise ValueError(f"a scaling check needs at least 3 grid points, got {xs.size}")
    _require_finite("x", xs)
    _require_positive("x", xs)
    if np.unique(xs).size < 2:
        raise ValueError("x needs at least two distinct values to fit a slope")
    if design not in ("paired", "independent"):
        raise ValueError(f"design must be 'paired' or 'independent', got {design!r}")
    rows = _rows("y", y, xs.size, ragged=design == "independent")
    for i, row in enumerate(rows):
        _require_finite(f"y[{i}]", row)
        _require_positive(f"y[{i}]", row)
    right = _masks("right_censored", right_censored, rows)
    left = _masks("left_censored", left_censored, rows)
    target = _as_range(predicted)
    _check_level(level)

    counts = [r.size for r in rows]
    censored = [int(np.sum(r | lft)) for r, lft in zip(right, left, strict=True)]
    shares = [c / n for c, n in zip(censored, counts, strict=True)]
    log_x = np.log(xs)
    bias = stats.censoring_bias(stats.slope_weights(log_x), _padded(right), _padded(left))
    method = stats.PAIRED_SLOPE if design == "paired" else stats.INDEPENDENT_SLOPE
    fields = {
        "label": label,
        "axis": axis,
        "quantity": "log-log slope of the geometric mean over seeds",
        "predicted": target,
    }
    evidence: dict[str, Any] = {
        "x": xs,
        "y": rows,
        "design": design,
        "method": method,
        "n_seeds": counts,
        "level": level,
        "censored": {
            "right": [int(m.sum()) for m in right],
            "left": [int(m.sum()) for m in left],
            "share": shares,
            "bias": bias,
        },
        **_expr_evidence(expr),
    }
    if min(counts) < 2:
        i = counts.index(min(counts))
        reason = f"grid point x={_fmt(xs[i])} has {counts[i]} value(s); an interval needs 2"
        evidence["reason"] = reason
        return CheckResult(
            "scaling", Status.INCONCLUSIVE, f"{reason}: inconclusive", evidence, **fields
        )
    if design == "paired" and len(set(counts)) > 1:
        raise ValueError(f"a paired design needs the same seeds at every point, got {counts}")
    if seeds is not None:
        if design != "paired" or len(seeds) != counts[0]:
            raise ValueError(f"seeds name the {counts[0]} columns of a paired design")
        evidence["seeds"] = [int(s) for s in seeds]

    logs = [np.log(r) for r in rows]
    if design == "paired":
        slope, low, high = (float(v) for v in stats.paired_slope_interval(log_x, logs, level))
    else:
        slope, low, high = stats.independent_slope_from_samples(log_x, logs, level)
    point_log = np.array([lg.mean() for lg in logs])
    ci = (low, high)
    status, ends = _interval_verdict(ci, target)
    # A censored entry is a bound, so the slope through it is biased in a known direction
    # (stats.censoring_bias); the interval end on the other side stays a valid bound at any
    # share of censored entries. A verdict resting only on such ends stands (e.g. lower bounds
    # whose slope already lies above a limit: violated); one resting on an end the bias can
    # move is inconclusive.
    reason = None
    moved = ends & _UNRELIABLE_ENDS[bias]
    if moved:
        worst = int(np.argmax(shares))
        reason = (
            f"censored entries held at their bounds bias the slope {bias} (up to "
            f"{censored[worst]} of {counts[worst]} seeds censored at x={_fmt(xs[worst])}), and "
            f"the verdict rests on the {'/'.join(sorted(moved))} interval end"
        )
    if reason is not None and status is not Status.INCONCLUSIVE:
        status = Status.INCONCLUSIVE
    if reason is not None:
        evidence["reason"] = reason

    n_censored = sum(censored)
    note = f", {n_censored} censored, bias {bias}" if n_censored else ""
    seeds = str(counts[0]) if len(set(counts)) == 1 else f"{min(counts)}-{max(counts)}"
    summary = (
        f"slope {_fmt(slope)} [{_fmt(low)}, {_fmt(high)}] ({level:.0%} {design} t interval, "
        f"{seeds} seeds{note}) vs predicted {target}"
        + (f"; {reason}" if reason else "")
        + f": {status.value}"
    )
    evidence.update(
        {
            "stat": np.exp(point_log),
            "slope": slope,
            "intercept": float(point_log.mean() - slope * log_x.mean()),
            "ci": ci,
        }
    )
    return CheckResult("scaling", status, summary, evidence, **fields)


def bound_check(
    measured: ArrayLike,
    bound_values: ArrayLike,
    calibrate: ArrayLike,
    *,
    level: float = 0.95,
    labels: Sequence[str] | None = None,
    expr: sympy.Expr | None = None,
    label: str = "",
) -> CheckResult:
    """Bound check (docs/reference.md §7): measured ≤ C·f, C calibrated on some points, tested on
    the rest.

    measured has shape (n_points, n_seeds), finite entries > 0 (non-finite entries: runs
    without a measurement, dropped and counted); bound_values[i] = f at point i (finite, > 0);
    calibrate[i] marks calibration points (at least one calibration and one held-out point). Per
    point, on the log scale (measured values are sample counts and distances: positive,
    heavy-tailed): the geometric mean g_i and its t interval [l_i, u_i] at `level`
    (:func:`~scb_verify.stats.geometric_mean_interval`). C = max over calibration points of
    u_i / f_i: the upper confidence end, so the calibration noise is paid for once, here. A
    held-out point j is violated if l_j > C·f_j (significantly above the bound), holds if g_j ≤
    C·f_j, else inconclusive. Overall: violated if any held-out point is, holds if all hold, else
    inconclusive (also when some point has fewer than 2 values). `labels` name the points,
    `label` the check within its claim; `predicted` is g/(C·f) ≤ 1.

    Comparing u_j (rather than g_j) with C·f_j would pay the noise twice: for measured ∝ f,
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
    _require_positive("measured", ms)
    _check_level(level)
    names = [f"point {i}" for i in range(n_points)] if labels is None else list(labels)
    if len(names) != n_points:
        raise ValueError(f"labels must have length n_points = {n_points}, got {len(names)}")

    fields = {
        "label": label,
        "quantity": "held-out geometric mean over seeds / (C·f)",
        "predicted": Range(hi=1.0),
    }
    samples = [row[np.isfinite(row)] for row in ms]
    evidence: dict[str, Any] = {
        "labels": names,
        "measured": ms,
        "bound_values": fs,
        "calibrate": cal,
        "n_seeds": ms.shape[1],
        "n_finite": [s.size for s in samples],
        "level": level,
        "method": stats.T_LOG_MEAN,
        **_expr_evidence(expr),
    }
    short = [i for i, s in enumerate(samples) if s.size < 2]
    if short:
        i = short[0]
        reason = (
            f"{names[i]} has {samples[i].size} finite value(s) of {ms.shape[1]}; "
            "an interval needs at least 2"
        )
        evidence["reason"] = reason
        return CheckResult(
            "bound", Status.INCONCLUSIVE, f"{reason}: inconclusive", evidence, **fields
        )

    intervals = np.array(
        [[float(v) for v in stats.geometric_mean_interval(s, level)] for s in samples]
    )
    estimates, cis = intervals[:, 0], intervals[:, 1:]
    constant = float(np.max(cis[cal, 1] / fs[cal]))
    limit = constant * fs
    points = []
    for i in range(n_points):
        if cal[i]:
            verdict = "calibration"
        elif cis[i, 0] > limit[i]:
            verdict = Status.VIOLATED.value
        elif estimates[i] <= limit[i]:
            verdict = Status.HOLDS.value
        else:
            verdict = Status.INCONCLUSIVE.value
        points.append(
            {
                "label": names[i],
                "f": fs[i],
                "estimate": estimates[i],
                "ci": cis[i],
                "ratio": estimates[i] / limit[i],
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
        f"C = {_fmt(constant)} from {int(cal.sum())} calibration point(s); held-out geometric "
        f"mean/(C·f) up to {_fmt(worst['ratio'])} [{_fmt(worst['ratio_ci'][0])}, "
        f"{_fmt(worst['ratio_ci'][1])}] ({level:.0%} log-scale t interval) at {worst['label']}: "
        f"{status.value}"
    )
    evidence.update({"C": constant, "points": points})
    return CheckResult("bound", status, summary, evidence, **fields)


def ordering_check(
    better: ArrayLike,
    worse: ArrayLike,
    *,
    smaller_is_better: bool = True,
    alpha: float = 0.05,
    paired: bool = False,
    test: Literal["mean", "median"] = "mean",
    n_perm: int = 20000,
    seed: int = 0,
    labels: tuple[str, str] = ("A", "B"),
    label: str = "",
) -> CheckResult:
    """Ordering check (docs/reference.md §7): is A (`better`) better than B (`worse`) across seeds?

    ``test="mean"``: one-sided permutation test of the difference of means t (positive = A
    better), :func:`~scb_verify.stats.permutation_p_values`: unpaired, relabellings of the
    pooled sample; paired (equal lengths, pair i = seed i), sign flips of the differences —
    whose null assumes differences symmetric about 0; exact when there are ≤ n_perm
    relabellings, else Monte Carlo with n_perm draws from `seed`. ``test="median"`` (paired
    only): the exact sign test of the median difference,
    :func:`~scb_verify.stats.sign_test_p_values`, of level ≤ alpha for any continuous law of
    the differences, skewed ones included. holds if p < alpha;
    violated if the reverse test (B better) has p < alpha; otherwise inconclusive.
    `min_achievable_p` is reported: when it is ≥ alpha, no verdict but inconclusive is possible
    with these sample sizes. alpha must lie in (0, 0.5] so both tests cannot pass; each sample
    needs ≥ 2 values (scipy's requirement; one value each allows no verdict anyway). `labels` name
    A and B, `label` the check within its claim; `predicted` is t > 0 (open).
    """
    a, b = _as_array("better", better, 1), _as_array("worse", worse, 1)
    _require_finite("better", a)
    _require_finite("worse", b)
    if not 0.0 < alpha <= 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5] for a one-sided test, got {alpha}")
    _check_count("n_perm", n_perm)
    if min(a.size, b.size) < 2:
        raise ValueError(f"each sample needs at least 2 values, got {a.size} and {b.size}")
    if paired and a.size != b.size:
        raise ValueError(f"paired samples need equal lengths, got {a.size} and {b.size}")
    if len(labels) != 2:
        raise ValueError(f"labels must be a pair of names, got {labels!r}")
    if test not in ("mean", "median"):
        raise ValueError(f"test must be 'mean' or 'median', got {test!r}")
    if test == "median" and not paired:
        raise ValueError("the sign test of the median needs paired samples")

    if test == "median":
        result = stats.sign_test_p_values(a - b, smaller_is_better=smaller_is_better)
    else:
        result = stats.permutation_p_values(
            a, b, smaller_is_better=smaller_is_better, paired=paired, n_resamples=n_perm, seed=seed
        )
    p, p_reverse = float(result.p), float(result.p_reverse)
    if p < alpha:
        status = Status.HOLDS
    elif p_reverse < alpha:
        status = Status.VIOLATED
    else:
        status = Status.INCONCLUSIVE

    name_a, name_b = labels
    direction = "smaller" if smaller_is_better else "larger"
    centre = np.median if test == "median" else np.mean
    summary = (
        f"{name_a} {test} {_fmt(centre(a))} vs {name_b} {test} {_fmt(centre(b))} ({direction} "
        f"is better); p = {_fmt(p)} (reverse {_fmt(p_reverse)}), alpha {_fmt(alpha)}, "
        f"{result.method}"
    )
    if result.min_p >= alpha:
        summary += (
            f"; min achievable p = {_fmt(result.min_p)} >= alpha: too few seeds for a verdict"
        )
    summary += f": {status.value}"
    evidence = {
        "labels": list(labels),
        "better": a,
        "worse": b,
        "mean_better": a.mean(),
        "mean_worse": b.mean(),
        "statistic": float(result.statistic),
        "smaller_is_better": smaller_is_better,
        "paired": paired,
        "test": test,
        "p_value": p,
        "p_value_reverse": p_reverse,
        "alpha": alpha,
        "method": result.method,
        "exact": result.exact,
        "n_resamples": result.n_null,
        "min_achievable_p": result.min_p,
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
    scale: Literal["linear", "log"] = "linear",
    level: float = 0.95,
    label: str = "",
) -> CheckResult:
    """Threshold check: is the mean of `values` (one per seed) `direction` `threshold`?

    ``scale="linear"``: the mean and its Student t interval [l, u] at `level`
    (:func:`~scb_verify.stats.mean_interval`); ``scale="log"`` (positive, heavy-tailed values:
    distances, errors): the geometric mean and the t interval on the log scale
    (:func:`~scb_verify.stats.geometric_mean_interval`). For ">=": holds if l ≥ threshold,
    violated if u < threshold; for "<=": holds if u ≤ threshold, violated if l > threshold;
    inconclusive otherwise. Needs ≥ 2 finite values (> 0 on the log scale). `label` names the
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
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log', got {scale!r}")
    if scale == "log":
        _require_positive("values", vs)
    _check_level(level)

    interval = stats.mean_interval if scale == "linear" else stats.geometric_mean_interval
    estimate, low, high = (float(v) for v in interval(vs, level))
    good = Range(threshold, math.inf) if direction == ">=" else Range(-math.inf, threshold)
    status, _ = _interval_verdict((low, high), good)
    what = "mean" if scale == "linear" else "geometric mean"
    summary = (
        f"{what} {_fmt(estimate)} [{_fmt(low)}, {_fmt(high)}] ({level:.0%} t interval"
        f"{'' if scale == 'linear' else ' on the log scale'}, {vs.size} seeds) vs required "
        f"{direction} {_fmt(threshold)}: {status.value}"
    )
    evidence = {
        "values": vs,
        "estimate": estimate,
        "ci": (low, high),
        "scale": scale,
        "method": stats.T_MEAN if scale == "linear" else stats.T_LOG_MEAN,
        "threshold": threshold,
        "direction": direction,
        "level": level,
    }
    return CheckResult(
        "threshold",
        status,
        summary,
        evidence,
        label=label,
        quantity="mean over seeds" if scale == "linear" else "geometric mean over seeds",
        predicted=good,
    )
