"""A check's verdict: its status, a one-line summary and JSON evidence (docs/reference.md §7)."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np


class Status(enum.StrEnum):
    """The four verdicts of docs/reference.md §7 (a str: `Status.HOLDS == "holds"`)."""

    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


def _jsonable(value: Any, path: str) -> Any:
    """Strict-JSON copy of `value`: numpy scalars/arrays and tuples become Python scalars/lists;
    non-finite floats become None (strict JSON has no NaN or Infinity)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, enum.Enum):
        return _jsonable(value.value, path)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), path)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"evidence{path} has key {key!r}; JSON keys must be str")
            out[key] = _jsonable(item, f"{path}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(
        f"evidence{path} has type {type(value).__name__}; allowed: None, bool, int, float, str, "
        "list/tuple, dict with str keys, numpy scalars and arrays"
    )


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check (docs/reference.md §7).

    `evidence` is normalized on construction to strict JSON (numpy types converted; NaN and
    ±inf stored as None), so `to_dict()` always survives `json.dumps(..., allow_nan=False)`.
    A `status` given as its string value is converted to `Status`.
    """

    kind: str
    status: Status
    summary: str
    evidence: dict[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if not isinstance(self.evidence, Mapping):
            raise TypeError(f"evidence must be a dict, got {type(self.evidence).__name__}")
        object.__setattr__(self, "evidence", _jsonable(self.evidence, ""))

    def labelled(self, label: str) -> CheckResult:
        """The same result with ``label: `` before its summary (to tell a claim's checks apart)."""
        return replace(self, summary=f"{label}: {self.summary}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: {"kind", "status" (its string value), "summary", "evidence"}."""
        return {
            "kind": self.kind,
            "status": self.status.value,
            "summary": self.summary,
            "evidence": _jsonable(self.evidence, ""),
        }


def combine(results: Sequence[CheckResult]) -> Status:
    """A claim's status from its checks: error if any errored, else violated if any is violated,
    else inconclusive if any is inconclusive (or there are none), else holds."""
    statuses = {result.status for result in results}
    for status in (Status.ERROR, Status.VIOLATED, Status.INCONCLUSIVE):
        if status in statuses:
            return status
    return Status.HOLDS if statuses else Status.INCONCLUSIVE
