"""Reading results files (``scb-verify check --json``) for reports and regression diffs.

:func:`load_results` validates a file against the schema written by
:func:`scb_verify.runner.results_document` and raises :class:`ResultsError` (one line) for
anything else. :func:`scaling_fits` extracts the fitted exponents of a claim's scaling checks.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scb_verify.runner import SCHEMA, SCHEMA_VERSION
from scb_verify.verdict import Status

#: Keys every entry of ``claims`` must have.
CLAIM_KEYS = ("id", "control", "status", "checks")


class ResultsError(ValueError):
    """A file that is not a readable results file of this schema version."""


def load_results(path: str | Path) -> dict[str, Any]:
    """The parsed results file at ``path``, checked against the schema."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read it ({e})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ResultsError(f"{path}: not an scb-verify results file (no schema {SCHEMA!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: results schema version {doc.get('schema_version')!r}; this scb-verify "
            f"reads version {SCHEMA_VERSION}"
        )
    claims = doc.get("claims")
    if not isinstance(claims, list):
        raise ResultsError(f"{path}: 'claims' must be a list")
    statuses = {s.value for s in Status}
    for i, claim in enumerate(claims):
        missing = [k for k in CLAIM_KEYS if not isinstance(claim, dict) or k not in claim]
        if missing:
            raise ResultsError(f"{path}: claims[{i}] lacks {', '.join(map(repr, missing))}")
        if claim["status"] not in statuses:
            raise ResultsError(f"{path}: claims[{i}] has unknown status {claim['status']!r}")
    return doc


def claim_key(report: dict[str, Any]) -> str:
    """How a claim run is named across files: its id, with ``(control)`` for a control."""
    return f"{report['id']} (control)" if report["control"] else report["id"]


def expected_status(report: dict[str, Any]) -> Status:
    """The good verdict: holds for a claim, violated for its negative control."""
    return Status.VIOLATED if report["control"] else Status.HOLDS


@dataclass(frozen=True)
class ScalingFit:
    """A scaling check's fitted exponent: its position among the claim's scaling checks, the
    label given by the claim (empty if none), slope, CI, predicted range and the check."""

    index: int
    label: str
    slope: float
    ci: tuple[float, float]
    predicted: tuple[float, float]
    check: dict[str, Any]

    @property
    def name(self) -> str:
        """The label, or ``scaling #i`` for an unlabelled check."""
        return self.label or f"scaling #{self.index + 1}"


_LABEL = re.compile(r"(.*): slope \S+ \[")


def scaling_fits(report: dict[str, Any]) -> list[ScalingFit]:
    """The fits of the claim's scaling checks that got as far as a slope, in check order."""
    out = []
    scaling = [c for c in report["checks"] if c.get("kind") == "scaling"]
    for i, check in enumerate(scaling):
        ev = check.get("evidence", {})
        if ev.get("slope") is None or ev.get("ci") is None:
            continue
        match = _LABEL.match(check.get("summary", ""))
        out.append(
            ScalingFit(
                index=i,
                label=match.group(1) if match else "",
                slope=float(ev["slope"]),
                ci=(float(ev["ci"][0]), float(ev["ci"][1])),
                predicted=interval(ev.get("predicted", (None, None))),
                check=check,
            )
        )
    return out


def interval(pair: Sequence[float | None]) -> tuple[float, float]:
    """A (low, high) read from JSON, where strict JSON stored ±inf as None."""
    low, high = pair
    return (-math.inf if low is None else float(low), math.inf if high is None else float(high))


def brief(value: Any, width: int = 8, limit: int = 400) -> str:
    """A one-line rendering of JSON data: floats to 4 significant digits, lists and dicts cut
    after ``width`` items, the whole cut at ``limit`` characters."""

    def render(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, list | tuple):
            more = f", … +{len(v) - width}" if len(v) > width else ""
            return "[" + ", ".join(render(x) for x in v[:width]) + more + "]"
        if isinstance(v, dict):
            items = list(v.items())
            more = f", … +{len(items) - width}" if len(items) > width else ""
            return "{" + ", ".join(f"{k}: {render(x)}" for k, x in items[:width]) + more + "}"
        return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(v)

    text = render(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
