"""Regression gate between two results files (``scb-verify diff OLD.json NEW.json``,
``scb-verify check --baseline [OLD.json]``, ``pytest --scb-baseline OLD.json``); the rule and its
statistics are docs/reference.md §7.8.

OLD is the baseline: the verdicts a project expects. Reported, claim by claim (keyed by id;
controls apart), each change marked *failing* (the gate fails) or not:

- a verdict that moved for the worse — on the scale (:func:`rank`) good > inconclusive > bad,
  good as :func:`scb_verify.records.is_good` says (holds for a claim; violated or unreached for
  a negative control), bad the rest: for a claim unreached > violated, for a control holds —
  or to ``error``: failing. A claim that errors fails even if it errored in OLD;
- a claim bad in OLD and still bad (violated or unreached, in either order that is not a move
  for the worse): an *expected finding*, reported, not failing (a known finding recorded in the
  baseline, like ``xfail``); bad in OLD and good now: failing, like ``xfail(strict=True)`` on
  an unexpected pass — the baseline is stale, regenerate it;
- a claim of OLD missing from NEW: failing, unless NEW left it out on purpose
  (:func:`scb_verify.session.skipped`: under ``--algorithm``, the claims that train nothing and
  the claims about one particular model);
- a fitted exponent (the scaling check of the same label in both) judged by the interval of the
  *difference* new − old (:class:`Gate`, :func:`exponent_move`): a move beyond the noise and the
  ``tolerance`` toward violating the check's predicted range is failing; one away from it is an
  *improvement*, reported, not failing; checks with censored entries in either file are
  compared by verdict only;
- a changed algorithm, a check that only one file has (keyed by label; not listed when either
  run errored), a claim only NEW has, a better verdict: reported, not failing.

Compare with asv (``asv compare --factor``: a stored result per benchmark, a change beyond the
noise and a factor fails, an improvement is listed apart) and pytest-benchmark
(``--benchmark-compare-fail=mean:5%``: a stored run, failing on a move beyond a threshold):
here the noise is the fit's own standard error, the threshold the ``tolerance``, and verdicts
get the xfail treatment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scb_verify import stats
from scb_verify.records import ClaimRun, Results, ScalingFit, is_good
from scb_verify.schema import ResultsError
from scb_verify.verdict import Range, Status

#: The gate's false-alarm rate: the most probability with which two runs of unchanged code
#: fail it on some exponent (Bonferroni over the finite ends of the exponents it compares).
GATE_LEVEL = 0.05

#: What a :class:`Change`'s ``old`` / ``new`` hold: a verdict, a fitted exponent, an algorithm
#: name, or nothing (the claim or check is not in that file).
Value = Status | ScalingFit | str | None

#: How a :class:`Move`'s noise was estimated (docs/reference.md §7.8).
PAIRED, WELCH, INTERVALS = "paired", "welch", "intervals"


@dataclass(frozen=True)
class Gate:
    """How the gate judges exponents: at family-wise level ``level`` over ``tails`` one-sided
    tests — one per finite end of each compared exponent's predicted range, each at
    ``level / tails`` (Bonferroni) — and a move must exceed the practical-significance margin
    ``tolerance`` (in exponent units) beyond its noise."""

    tails: int = 1
    level: float = GATE_LEVEL
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"the tolerance must be a finite number >= 0, got {self.tolerance}")
        if not 0 < self.level < 1 or self.tails < 1:
            raise ValueError(f"need 0 < level < 1 and tails >= 1, got {self.level}, {self.tails}")

    @classmethod
    def over(
        cls, baseline: Iterable[ClaimRun], *, tolerance: float = 0.0, level: float = GATE_LEVEL
    ) -> Gate:
        """The gate for the exponents of the baseline's runs ``baseline`` (those that the
        comparison covers): one tail per finite end of each uncensored fit's predicted range
        (at least one)."""
        tails = sum(
            _finite_ends(fit.predicted)
            for run in baseline
            for fit in run.fits().values()
            if not fit.censored
        )
        return cls(max(tails, 1), level, tolerance)

    @property
    def confidence(self) -> float:
        """The one-sided confidence of each test: 1 − level / tails."""
        return 1.0 - self.level / self.tails


@dataclass(frozen=True)
class Move:
    """An exponent's move beyond the noise: ``difference`` = new − old, ``bound`` the lower
    confidence bound (at ``confidence``, one-sided) of its size in its own direction, and how
    the noise was estimated (``method``: :data:`PAIRED`, :data:`WELCH` or :data:`INTERVALS`;
    ``se``/``df`` None for the last)."""

    difference: float
    bound: float
    confidence: float
    method: str
    se: float | None = None
    df: float | None = None

    def __str__(self) -> str:
        how = self.method if self.se is None else f"{self.method}, {self.confidence:.2%} one-sided"
        return f"Δ {self.difference:+.3g}, at least {self.bound:.3g} ({how})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "difference": self.difference,
            "bound": self.bound,
            "confidence": self.confidence,
            "method": self.method,
            "se": self.se,
            "df": self.df,
        }


@dataclass(frozen=True)
class Change:
    """One line of the diff: which claim run (its key), what changed (``kind``: ``verdict``,
    ``expected finding``, ``missing``, ``skipped``, ``added``, ``algorithm``, ``read truth``,
    ``check``, ``slope``; ``label``: the check's, for the last two), from what to what (as
    values; text only when printed), ``regression``: the change fails the gate; ``expected``: a
    known finding of the baseline, still there; ``improvement``: an exponent that moved away from
    violating its range; ``note``: why, where the kind alone does not say (and, beside a
    verdict, the algorithms that read the ground truth); ``move``: a slope's move."""

    claim: str
    kind: str
    old: Value
    new: Value
    label: str = ""
    regression: bool = False
    expected: bool = False
    improvement: bool = False
    note: str = ""
    move: Move | None = None

    @property
    def what(self) -> str:
        """The change column as printed: the kind, with the check's label or the note."""
        if self.move is not None:
            return f"{self.kind} ({self.label}): {self.note}, {self.move}"
        if self.label:
            return f"{self.kind} ({self.label})"
        return f"{self.kind} ({self.note})" if self.note else self.kind

    def __str__(self) -> str:
        return f"{self.what} {_value_text(self.old)} → {_value_text(self.new)}"

    def to_dict(self) -> dict[str, Any]:
        """For machines (``diff --json``): numbers stay numbers."""
        return {
            "claim": self.claim,
            "kind": self.kind,
            "label": self.label,
            "old": _value_json(self.old),
            "new": _value_json(self.new),
            "regression": self.regression,
            "expected": self.expected,
            "improvement": self.improvement,
            "note": self.note,
            "move": None if self.move is None else self.move.to_dict(),
        }


def compare(
    old: Results,
    new: Results,
    *,
    tolerance: float = 0.0,
    skipped: Mapping[str, str] | None = None,
) -> list[Change]:
    """Every change from ``old`` (the baseline) to ``new``, in OLD's claim order, added claims
    last. ``skipped``: claim id → why NEW left it out on purpose (default: what
    :func:`scb_verify.session.skipped` says of OLD's records under NEW's ``--algorithm``);
    ``tolerance``: :attr:`Gate.tolerance`, the gate being over the baseline's runs that NEW
    also has."""
    from scb_verify.session import skipped as left_out

    if old.controls != new.controls:
        raise ResultsError("one file holds negative controls and the other does not")
    if skipped is None:
        skipped = left_out(old.claims, new.algorithm)
    olds, news = old.by_key(), new.by_key()
    gate = Gate.over([r for k, r in olds.items() if k in news], tolerance=tolerance)
    changes = []
    for key, before in olds.items():
        after = news.get(key)
        if after is None:
            why = skipped.get(before.id)
            if why is not None:
                changes.append(Change(key, "skipped", before.status, None, note=why))
            else:
                changes.append(Change(key, "missing", before.status, None, regression=True))
            continue
        changes += claim_changes(before, after, gate)
    changes += [Change(k, "added", None, r.status) for k, r in news.items() if k not in olds]
    return changes


def claim_changes(before: ClaimRun, after: ClaimRun, gate: Gate | None = None) -> list[Change]:
    """The changes of one claim run from the baseline's record ``before`` to ``after``; its
    exponents judged by ``gate`` (default: :meth:`Gate.over` this claim's own)."""
    key = after.key
    changes = []
    old_status, new_status = before.status, after.status
    old, new = rank(old_status, before.control), rank(new_status, after.control)
    # A verdict that rests on an algorithm which read the ground truth says so beside it.
    read = f"read the ground truth: {_names(after.truth_readers)}" if after.truth_readers else ""
    if new_status is Status.ERROR or new < old:
        changes.append(Change(key, "verdict", old_status, new_status, regression=True, note=read))
    elif old_status is not new_status:
        gone = old in BAD and new == GOOD  # xfail(strict) semantics
        still = old in BAD and new in BAD  # e.g. violated → unreached: still a finding
        note = "baseline finding gone" if gone else "still a finding" if still else ""
        note = "; ".join(n for n in (note, read) if n)
        changes.append(
            Change(
                key, "verdict", old_status, new_status, regression=gone, expected=still, note=note
            )
        )
    elif old in BAD:
        changes.append(
            Change(key, "expected finding", old_status, new_status, expected=True, note=read)
        )
    if before.algorithm != after.algorithm:
        changes.append(Change(key, "algorithm", before.algorithm, after.algorithm))
    if before.truth_readers != after.truth_readers:
        changes.append(
            Change(key, "read truth", _names(before.truth_readers), _names(after.truth_readers))
        )
    if Status.ERROR not in (old_status, new_status):
        changes += _checks_only_in_one(before, after)
    changes += _moved_exponents(key, before.fits(), after.fits(), gate or Gate.over([before]))
    return changes


#: Ranks of :func:`rank`: a good verdict, and the bad ones (findings).
GOOD, BAD = 3, (0, 1)


def rank(status: Status, control: bool) -> int:
    """The gate's scale of verdicts (docs/reference.md §7.8), higher better: 3 good
    (:func:`scb_verify.records.is_good`: holds for a claim; violated or unreached for a negative
    control), 2 inconclusive, then the bad ones — 1 unreached (a claim's target not reached
    within the budget: nothing measured against the statement), 0 violated (for a control:
    holds) — and -1 error."""
    if status is Status.ERROR:
        return -1
    if is_good(status, control):
        return GOOD
    return {Status.INCONCLUSIVE: 2, Status.UNREACHED: 1}.get(status, 0)


def _checks_only_in_one(before: ClaimRun, after: ClaimRun) -> list[Change]:
    old_checks = {c.label: c for c in before.checks}
    new_checks = {c.label: c for c in after.checks}
    gone = [
        Change(after.key, "check", c.status, None, label=label)
        for label, c in old_checks.items()
        if label not in new_checks
    ]
    added = [
        Change(after.key, "check", None, c.status, label=label)
        for label, c in new_checks.items()
        if label not in old_checks
    ]
    return gone + added


def _finite_ends(predicted: Range) -> int:
    """How many ends of ``predicted`` are finite: the directions in which a move can head
    toward violating it."""
    return math.isfinite(predicted.lo) + math.isfinite(predicted.hi)


def margin(slope: float, predicted: Range) -> float:
    """How far ``slope`` lies inside ``predicted``: its distance to the nearest finite end,
    negative outside (∞ for a range without finite ends)."""
    return min(slope - predicted.lo, predicted.hi - slope)


def exponent_move(old: ScalingFit, new: ScalingFit, gate: Gate) -> Move | None:
    """The move from ``old`` to ``new`` when it is beyond the noise and the tolerance, else
    None (docs/reference.md §7.8): the difference d = new − old, its noise paired by seed
    (both paired designs on the same recorded seeds: the t interval of the per-seed
    differences of per-seed slopes) or Welch's (each fit's se and df from its evidence,
    :func:`scb_verify.stats.slope_noise`); beyond when the one-sided lower confidence bound of
    |d| at :attr:`Gate.confidence` exceeds the tolerance. Without the evidence for either (a
    version-1 file), conservatively: beyond when the two intervals are disjoint by more than
    the tolerance."""
    difference = new.slope - old.slope
    if difference == 0:
        return None
    noise = _difference_noise(old, new)
    if noise is None:
        gap = new.ci[0] - old.ci[1] if difference > 0 else old.ci[0] - new.ci[1]
        move = Move(difference, gap, gate.confidence, INTERVALS)
    else:
        method, spread = noise
        bound = stats.lower_bound(abs(difference), spread, gate.confidence)
        move = Move(difference, bound, gate.confidence, method, spread.se, spread.df)
    return move if move.bound > gate.tolerance else None


def _difference_noise(old: ScalingFit, new: ScalingFit) -> tuple[str, stats.Noise] | None:
    """(method, noise of new − old), or None when a fit's evidence cannot give it."""
    if old.design is None or new.design is None:
        return None
    if PAIRED == old.design == new.design and _same_seeds(old.seeds, new.seeds):
        order = {seed: j for j, seed in enumerate(old.seeds)}
        take = np.array([order[seed] for seed in new.seeds])
        per_seed = _noise(new).values - _noise(old).values[take]
        return PAIRED, stats.mean_noise(per_seed)
    return WELCH, stats.difference_noise(_noise(old), _noise(new))


def _same_seeds(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> bool:
    return a is not None and b is not None and len(set(a)) == len(a) and sorted(a) == sorted(b)


def _noise(fit: ScalingFit) -> stats.Noise:
    """The fit's own noise, recomputed from the values it stored."""
    logs = [np.log(np.array(row)) for row in fit.y]
    return stats.slope_noise(np.log(np.array(fit.x)), logs, paired=fit.design == PAIRED)


def _moved_exponents(
    key: str, before: dict[str, ScalingFit], after: dict[str, ScalingFit], gate: Gate
) -> list[Change]:
    """The exponents of the same label that moved beyond the noise: failing when the move
    took the slope closer to violating its predicted range (its :func:`margin` shrank), an
    improvement when farther; fits with censored entries are left to the verdicts."""
    out = []
    for label, a in before.items():
        b = after.get(label)
        if b is None or a.censored or b.censored:
            continue
        move = exponent_move(a, b, gate)
        if move is None:
            continue
        worse = margin(b.slope, b.predicted) < margin(a.slope, a.predicted)
        better = margin(b.slope, b.predicted) > margin(a.slope, a.predicted)
        note = "toward violating" if worse else "away from violating" if better else "moved"
        out.append(
            Change(
                key,
                "slope",
                a,
                b,
                label=label,
                regression=worse,
                improvement=better,
                note=note,
                move=move,
            )
        )
    return out


def _names(names: Sequence[str]) -> str | None:
    """Algorithm names as one value of a change (None: none)."""
    return ", ".join(names) or None


def _value_json(value: Value) -> Any:
    if isinstance(value, ScalingFit):
        return {"slope": value.slope, "ci": list(value.ci)}
    return value.value if isinstance(value, Status) else value


def _value_text(value: Value) -> str:
    if value is None:
        return "-"
    if isinstance(value, ScalingFit):
        return f"{value.slope:.3g} [{value.ci[0]:.3g}, {value.ci[1]:.3g}]"
    return value.value if isinstance(value, Status) else str(value)


def table_rows(changes: list[Change]) -> list[tuple[str, ...]]:
    """Rows for :func:`scb_verify.text.format_table`, header first."""
    rows = [("claim", "change", "old", "new", "gate")]
    rows += [(c.claim, c.what, _value_text(c.old), _value_text(c.new), _mark(c)) for c in changes]
    return rows


def _mark(change: Change) -> str:
    if change.regression:
        return "REGRESSION"
    return "expected" if change.expected else "improvement" if change.improvement else ""


def summary(changes: list[Change]) -> str:
    """``3 change(s), 1 regression(s), 1 expected finding(s)`` or ``no change``."""
    if not changes:
        return "no change"
    regressions, expected = sum(c.regression for c in changes), sum(c.expected for c in changes)
    improvements = sum(c.improvement for c in changes)
    return (
        f"{len(changes) - expected} change(s), {regressions} regression(s), "
        f"{expected} expected finding(s)"
        + (f", {improvements} improvement(s)" if improvements else "")
    )


def to_json(changes: list[Change]) -> dict[str, Any]:
    """The diff for machines (``diff --json``): every change, and the counts."""
    return {
        "changes": [c.to_dict() for c in changes],
        "regressions": sum(c.regression for c in changes),
        "expected": sum(c.expected for c in changes),
        "improvements": sum(c.improvement for c in changes),
    }
