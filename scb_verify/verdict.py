"""A check's verdict as data: label, measured quantity, predicted range, status, a one-line
summary for people and JSON evidence (docs/reference.md §7).

Everything a program reads about a check is a field — ``label`` (unique within its claim: how
``diff`` and ``report`` pair checks across files), ``quantity`` (the statistic the prediction is
about), ``axis`` (the swept variable of a scaling check), ``predicted`` (a :class:`Range` with
open or closed ends) and ``status``. ``summary`` is prose for people; nothing parses it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from scb_verify.jsondata import to_json


class Status(enum.StrEnum):
    """The five verdicts of docs/reference.md §7 (a str: `Status.HOLDS == "holds"`).

    - ``holds``: the measurement agrees with the prediction;
    - ``violated``: it contradicts the prediction;
    - ``unreached``: not reached within the budget — the claim's target was not reached by the
      typical seed of any cell within the budget, so the statement's scaling was not measured
      (§7.5, a reach check);
    - ``inconclusive``: measured, but too little power to decide;
    - ``error``: the claim raised, crashed or timed out.
    """

    HOLDS = "holds"
    VIOLATED = "violated"
    UNREACHED = "unreached"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


#: The statistic each built-in check kind compares with its predicted range.
KIND_QUANTITY = {
    "scaling": "log-log slope",
    "threshold": "mean over seeds",
    "bound": "held-out median / (C·f)",
    "ordering": "difference of means (positive: A better)",
    "reach": "censored cells",
}


@dataclass(frozen=True)
class Range:
    """A predicted range of a real quantity: from ``lo`` to ``hi`` (±inf for an unbounded side),
    each end closed (included) or open. An infinite end is always open. JSON: ``{"lo", "hi",
    "lo_closed", "hi_closed"}`` with an infinite end written as null (its side says which)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_closed: bool = True
    hi_closed: bool = True

    def __post_init__(self) -> None:
        lo, hi = float(self.lo), float(self.hi)
        if math.isnan(lo) or math.isnan(hi) or lo > hi or lo == math.inf or hi == -math.inf:
            raise ValueError(f"a range needs -inf <= lo <= hi <= inf, got ({self.lo}, {self.hi})")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "lo_closed", bool(self.lo_closed) and math.isfinite(lo))
        object.__setattr__(self, "hi_closed", bool(self.hi_closed) and math.isfinite(hi))

    def to_dict(self) -> dict[str, Any]:
        return {
            "lo": self.lo if math.isfinite(self.lo) else None,
            "hi": self.hi if math.isfinite(self.hi) else None,
            "lo_closed": self.lo_closed,
            "hi_closed": self.hi_closed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Range:
        """The inverse of :meth:`to_dict` (null ends are unbounded)."""
        lo, hi = data.get("lo"), data.get("hi")
        return cls(
            -math.inf if lo is None else float(lo),
            math.inf if hi is None else float(hi),
            bool(data.get("lo_closed", True)),
            bool(data.get("hi_closed", True)),
        )

    def __str__(self) -> str:
        left = f"[{self.lo:.3g}" if self.lo_closed else f"({self.lo:.3g}"
        right = f"{self.hi:.3g}]" if self.hi_closed else f"{self.hi:.3g})"
        return f"{left}, {right}".replace("inf", "∞")


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check (docs/reference.md §7).

    `evidence` is normalized on construction to strict JSON (:func:`scb_verify.jsondata.to_json`:
    numpy types converted, NaN and ±inf stored as None with the reason in `nonfinite`, a map
    from JSON Pointer to ``"nan"``/``"inf"``/``"-inf"``), so `to_dict()` always survives
    `json.dumps(..., allow_nan=False)`. A `status` given as its string value is converted to
    `Status`. ``label`` is given by the claim (empty: the runner names it ``"<kind> #i"``);
    ``quantity`` defaults to the kind's entry of :data:`KIND_QUANTITY`.
    """

    kind: str
    status: Status
    summary: str
    evidence: dict[str, Any]
    _: KW_ONLY
    label: str = ""
    quantity: str = ""
    axis: str | None = None
    predicted: Range | None = None
    nonfinite: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if not isinstance(self.evidence, Mapping):
            raise TypeError(f"evidence must be a dict, got {type(self.evidence).__name__}")
        evidence, nonfinite = to_json(self.evidence, "evidence")
        object.__setattr__(self, "evidence", evidence)
        object.__setattr__(self, "nonfinite", nonfinite)
        if not self.quantity:
            object.__setattr__(self, "quantity", KIND_QUANTITY.get(self.kind, ""))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: {"label", "kind", "quantity", "axis", "predicted" (Range.to_dict or
        None), "status" (its string value), "summary", "evidence", "nonfinite"}; the
        evidence's non-finite floats are null, ``nonfinite`` maps ``/evidence/…`` pointers to
        why."""
        return {
            "label": self.label,
            "kind": self.kind,
            "quantity": self.quantity,
            "axis": self.axis,
            "predicted": None if self.predicted is None else self.predicted.to_dict(),
            "status": self.status.value,
            "summary": self.summary,
            "evidence": to_json(self.evidence)[0],
            "nonfinite": {f"/evidence{p}": r for p, r in self.nonfinite.items()},
        }


#: Which check verdict decides a claim's verdict, first the strongest (docs/reference.md §7.6).
PRECEDENCE = (Status.ERROR, Status.VIOLATED, Status.UNREACHED, Status.INCONCLUSIVE)


def combine_statuses(statuses: Iterable[Status | str]) -> Status:
    """A claim's status from its checks' statuses (docs/reference.md §7.6): error if any
    errored, else violated if any is violated (a violation measured despite censoring, e.g. a
    slope through lower bounds already beyond its range, still decides), else unreached if any
    is unreached, else inconclusive if any is inconclusive (or there are none), else holds."""
    seen = {Status(s) for s in statuses}
    for status in PRECEDENCE:
        if status in seen:
            return status
    return Status.HOLDS if seen else Status.INCONCLUSIVE


def combine(results: Sequence[CheckResult]) -> Status:
    """:func:`combine_statuses` of the results' statuses."""
    return combine_statuses(r.status for r in results)
