"""Regression gate between two results files (``scb-verify diff OLD.json NEW.json``,
``scb-verify check --baseline OLD.json``, ``pytest --scb-baseline OLD.json``).

OLD is the baseline: the verdicts a project expects. Reported, claim by claim (keyed by id;
controls apart), each change marked *failing* (the gate fails) or not:

- a verdict that moved for the worse — on the scale good > inconclusive > bad (for a claim good
  is holds and bad violated; for a negative control the reverse) — or to ``error``: failing. A
  claim that errors fails even if it errored in OLD;
- a claim bad in OLD and still bad: an *expected finding*, reported, not failing (a known
  violation recorded in the baseline, like ``xfail``); bad in OLD and good now: failing, like
  ``xfail(strict=True)`` on an unexpected pass — the baseline is stale, regenerate it;
- a claim of OLD missing from NEW: failing, unless NEW skipped it on purpose (NEW substituted a
  algorithm and the claim trains nothing: ``--algorithm`` runs only claims that train);
- a measured exponent that moved: the scaling check of the same label fitted a slope in OLD and
  in NEW, and the new slope lies outside the old CI or the old slope outside the new CI: failing;
- a changed algorithm, a check that only one file has (keyed by label; not listed when either
  run errored), a claim only NEW has, a better verdict: reported, not failing.

Compare with asv (``asv continuous`` / ``asv compare``: a stored result per benchmark, a change
beyond the noise band fails) and pytest-benchmark (``--benchmark-compare-fail``: a stored run,
failing on a move beyond a threshold): here the stored run is a results file, the noise band is
each exponent's own confidence interval, and verdicts get the xfail treatment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from scb_verify.results import ScalingFit, claim_key, expected_status, scaling_fits
from scb_verify.schema import ResultsError
from scb_verify.verdict import Status


@dataclass(frozen=True)
class Change:
    """One line of the diff: which claim, what changed, from what to what; ``regression``:
    the change fails the gate; ``expected``: a known finding of the baseline, still there."""

    claim: str
    what: str
    old: str
    new: str
    regression: bool = False
    expected: bool = False


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` (the baseline) to ``new`` (both as returned by
    :func:`~scb_verify.schema.load_results`), in OLD's claim order, added claims last."""
    if bool(old.get("controls")) != bool(new.get("controls")):
        raise ResultsError("one file holds negative controls and the other does not")
    olds = {claim_key(r): r for r in old["claims"]}
    news = {claim_key(r): r for r in new["claims"]}
    changes = []
    for key, before in olds.items():
        after = news.get(key)
        if after is None:
            if new.get("algorithm") is not None and before.get("algorithm") is None:
                why = f"trains nothing: not run with --algorithm {new['algorithm']}"
                changes.append(Change(key, "skipped", before["status"], why))
            else:
                changes.append(Change(key, "missing", before["status"], "-", regression=True))
            continue
        changes += claim_changes(key, before, after)
    changes += [Change(k, "added", "-", r["status"]) for k, r in news.items() if k not in olds]
    return changes


def claim_changes(key: str, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The changes of one claim run from the baseline entry ``before`` to ``after``."""
    changes = []
    old_status, new_status = before["status"], after["status"]
    rank = _rank(before)
    if new_status == Status.ERROR.value or rank(new_status) < rank(old_status):
        changes.append(Change(key, "verdict", old_status, new_status, regression=True))
    elif old_status != new_status:
        unexpected = rank(old_status) == 0 and rank(new_status) == 2  # xfail(strict) semantics
        what = "verdict (baseline finding gone)" if unexpected else "verdict"
        changes.append(Change(key, what, old_status, new_status, regression=unexpected))
    elif rank(old_status) == 0:
        changes.append(Change(key, "expected finding", old_status, new_status, expected=True))
    if before.get("algorithm") != after.get("algorithm"):
        changes.append(
            Change(key, "algorithm", str(before.get("algorithm")), str(after.get("algorithm")))
        )
    if Status.ERROR.value not in (old_status, new_status):
        changes += _checks_only_in_one(key, before, after)
    changes += _moved_exponents(key, scaling_fits(before), scaling_fits(after))
    return changes


def _rank(report: dict[str, Any]):
    """status → 2 good, 1 inconclusive, 0 bad, -1 error (good per :func:`expected_status`)."""
    good = expected_status(report)
    bad = Status.HOLDS if good is Status.VIOLATED else Status.VIOLATED
    order = {good.value: 2, Status.INCONCLUSIVE.value: 1, bad.value: 0, Status.ERROR.value: -1}
    return order.__getitem__


def _checks_only_in_one(key: str, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    old_checks = {c["label"]: c for c in before["checks"]}
    new_checks = {c["label"]: c for c in after["checks"]}
    gone = [
        Change(key, f"check ({label})", c["status"], "-")
        for label, c in old_checks.items()
        if label not in new_checks
    ]
    added = [
        Change(key, f"check ({label})", "-", c["status"])
        for label, c in new_checks.items()
        if label not in old_checks
    ]
    return gone + added


def _moved_exponents(
    key: str, before: dict[str, ScalingFit], after: dict[str, ScalingFit]
) -> list[Change]:
    out = []
    for label, a in before.items():
        b = after.get(label)
        if b is None:
            continue
        if not (a.ci[0] <= b.slope <= a.ci[1]) or not (b.ci[0] <= a.slope <= b.ci[1]):
            out.append(Change(key, f"slope ({label})", _fmt_fit(a), _fmt_fit(b), regression=True))
    return out


def _fmt_fit(fit: ScalingFit) -> str:
    return f"{fit.slope:.3g} [{fit.ci[0]:.3g}, {fit.ci[1]:.3g}]"


def table_rows(changes: list[Change]) -> list[tuple[str, ...]]:
    """Rows for :func:`scb_verify.cli.format_table`, header first."""
    rows = [("claim", "change", "old", "new", "")]
    rows += [(c.claim, c.what, c.old, c.new, _mark(c)) for c in changes]
    return rows


def _mark(change: Change) -> str:
    return "REGRESSION" if change.regression else "expected" if change.expected else ""


def summary(changes: list[Change]) -> str:
    """``3 change(s), 1 regression(s), 1 expected finding(s)`` or ``no change``."""
    if not changes:
        return "no change"
    regressions, expected = sum(c.regression for c in changes), sum(c.expected for c in changes)
    return (
        f"{len(changes) - expected} change(s), {regressions} regression(s), "
        f"{expected} expected finding(s)"
    )


def to_json(changes: list[Change]) -> dict[str, Any]:
    """The diff for machines (``diff --json``): every change, and the counts."""
    return {
        "changes": [dataclasses.asdict(c) for c in changes],
        "regressions": sum(c.regression for c in changes),
        "expected": sum(c.expected for c in changes),
    }
