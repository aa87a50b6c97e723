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

from dataclasses import dataclass
from typing import Any

from scb_verify.records import ClaimRun, Results, ScalingFit
from scb_verify.schema import ResultsError
from scb_verify.verdict import Status

#: What a :class:`Change`'s ``old`` / ``new`` hold: a verdict, a fitted exponent, an algorithm
#: name, or nothing (the claim or check is not in that file).
Value = Status | ScalingFit | str | None


@dataclass(frozen=True)
class Change:
    """One line of the diff: which claim run (its key), what changed (``kind``: ``verdict``,
    ``expected finding``, ``missing``, ``skipped``, ``added``, ``algorithm``, ``check``,
    ``slope``; ``label``: the check's, for the last two), from what to what (as values; text
    only when printed), ``regression``: the change fails the gate; ``expected``: a known finding
    of the baseline, still there; ``note``: why, where the kind alone does not say."""

    claim: str
    kind: str
    old: Value
    new: Value
    label: str = ""
    regression: bool = False
    expected: bool = False
    note: str = ""

    @property
    def what(self) -> str:
        """The change column as printed: the kind, with the check's label or the note."""
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
            "note": self.note,
        }


def compare(old: Results, new: Results) -> list[Change]:
    """Every change from ``old`` (the baseline) to ``new``, in OLD's claim order, added claims
    last."""
    if old.controls != new.controls:
        raise ResultsError("one file holds negative controls and the other does not")
    olds, news = old.by_key(), new.by_key()
    changes = []
    for key, before in olds.items():
        after = news.get(key)
        if after is None:
            if new.algorithm is not None and before.algorithm is None:
                why = f"trains nothing: not run with --algorithm {new.algorithm}"
                changes.append(Change(key, "skipped", before.status, None, note=why))
            else:
                changes.append(Change(key, "missing", before.status, None, regression=True))
            continue
        changes += claim_changes(before, after)
    changes += [Change(k, "added", None, r.status) for k, r in news.items() if k not in olds]
    return changes


def claim_changes(before: ClaimRun, after: ClaimRun) -> list[Change]:
    """The changes of one claim run from the baseline's record ``before`` to ``after``."""
    key = after.key
    changes = []
    old_status, new_status = before.status, after.status
    rank = _rank(before.control)
    if new_status is Status.ERROR or rank[new_status] < rank[old_status]:
        changes.append(Change(key, "verdict", old_status, new_status, regression=True))
    elif old_status is not new_status:
        unexpected = rank[old_status] == 0 and rank[new_status] == 2  # xfail(strict) semantics
        note = "baseline finding gone" if unexpected else ""
        changes.append(
            Change(key, "verdict", old_status, new_status, regression=unexpected, note=note)
        )
    elif rank[old_status] == 0:
        changes.append(Change(key, "expected finding", old_status, new_status, expected=True))
    if before.algorithm != after.algorithm:
        changes.append(Change(key, "algorithm", before.algorithm, after.algorithm))
    if Status.ERROR not in (old_status, new_status):
        changes += _checks_only_in_one(before, after)
    changes += _moved_exponents(key, before.fits(), after.fits())
    return changes


def _rank(control: bool) -> dict[Status, int]:
    """status → 2 good, 1 inconclusive, 0 bad, -1 error (good per
    :func:`~scb_verify.records.expected_status`)."""
    good = Status.VIOLATED if control else Status.HOLDS
    bad = Status.HOLDS if control else Status.VIOLATED
    return {good: 2, Status.INCONCLUSIVE: 1, bad: 0, Status.ERROR: -1}


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


def _moved_exponents(
    key: str, before: dict[str, ScalingFit], after: dict[str, ScalingFit]
) -> list[Change]:
    out = []
    for label, a in before.items():
        b = after.get(label)
        if b is None:
            continue
        if not (a.ci[0] <= b.slope <= a.ci[1]) or not (b.ci[0] <= a.slope <= b.ci[1]):
            out.append(Change(key, "slope", a, b, label=label, regression=True))
    return out


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
        "changes": [c.to_dict() for c in changes],
        "regressions": sum(c.regression for c in changes),
        "expected": sum(c.expected for c in changes),
    }
