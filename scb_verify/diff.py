"""Regression gate between two results files (``scb-verify diff OLD.json NEW.json``).

Reported, claim by claim (keyed by id; controls apart):

- a changed verdict. A *regression* is a claim that had its good verdict in OLD (holds; for a
  negative control, violated) and has any other in NEW, or a claim of OLD missing from NEW;
- a changed learner (not a regression);
- a check that only one file has (keyed by label; not a regression by itself; not listed when
  either run errored: its verdict change says it);
- a measured exponent that moved: the scaling check of the same label fitted a slope in OLD and
  in NEW, and the new slope lies outside the old CI or the old slope outside the new CI.
  Reported, not a regression by itself: the verdict says whether the prediction still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scb_verify.results import ScalingFit, claim_key, expected_status, scaling_fits
from scb_verify.schema import ResultsError
from scb_verify.verdict import Status


@dataclass(frozen=True)
class Change:
    """One line of the diff: which claim, what changed, from what to what."""

    claim: str
    what: str
    old: str
    new: str
    regression: bool = False


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new`` (both as returned by
    :func:`~scb_verify.schema.load_results`), in OLD's claim order, added claims last."""
    if bool(old.get("controls")) != bool(new.get("controls")):
        raise ResultsError("one file holds negative controls and the other does not")
    olds = {claim_key(r): r for r in old["claims"]}
    news = {claim_key(r): r for r in new["claims"]}
    changes = []
    for key, before in olds.items():
        after = news.get(key)
        if after is None:
            changes.append(Change(key, "missing", before["status"], "-", regression=True))
            continue
        if before["status"] != after["status"]:
            good = expected_status(before).value
            regression = before["status"] == good
            changes.append(Change(key, "verdict", before["status"], after["status"], regression))
        if before.get("learner") != after.get("learner"):
            changes.append(
                Change(key, "learner", str(before.get("learner")), str(after.get("learner")))
            )
        if Status.ERROR.value not in (before["status"], after["status"]):
            changes += _checks_only_in_one(key, before, after)
        changes += _moved_exponents(key, scaling_fits(before), scaling_fits(after))
    changes += [Change(k, "added", "-", r["status"]) for k, r in news.items() if k not in olds]
    return changes


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
            out.append(Change(key, f"slope ({label})", _fmt_fit(a), _fmt_fit(b)))
    return out


def _fmt_fit(fit: ScalingFit) -> str:
    return f"{fit.slope:.3g} [{fit.ci[0]:.3g}, {fit.ci[1]:.3g}]"


def table_rows(changes: list[Change]) -> list[tuple[str, ...]]:
    """Rows for :func:`scb_verify.cli.format_table`, header first."""
    rows = [("claim", "change", "old", "new", "")]
    rows += [(c.claim, c.what, c.old, c.new, "REGRESSION" if c.regression else "") for c in changes]
    return rows
