"""Views of a loaded results file (:func:`scb_verify.schema.load_results`) for reports, diffs
and summaries: how claims and checks are named across files, fitted exponents, one-line
renderings. Light: no torch, no numba."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scb_verify.verdict import Range, Status


def claim_key(report: dict[str, Any]) -> str:
    """How a claim run is named across files: its id, with ``(control)`` for a control."""
    return f"{report['id']} (control)" if report["control"] else report["id"]


def expected_status(report: dict[str, Any]) -> Status:
    """The good verdict: holds for a claim, violated for its negative control."""
    return Status.VIOLATED if report["control"] else Status.HOLDS


def headline(check: dict[str, Any]) -> str:
    """``"label: summary"``: a check as one line for people."""
    return f"{check['label']}: {check['summary']}"


@dataclass(frozen=True)
class ScalingFit:
    """A scaling check's fitted exponent: the check's label and swept axis (None if the file
    does not say), slope, CI, predicted range and the check itself."""

    label: str
    axis: str | None
    slope: float
    ci: tuple[float, float]
    predicted: tuple[float, float]
    check: dict[str, Any]


def scaling_fits(report: dict[str, Any]) -> dict[str, ScalingFit]:
    """label → fit, for the claim's scaling checks that got as far as a slope, in check order."""
    out = {}
    for check in report["checks"]:
        ev = check.get("evidence", {})
        if check.get("kind") != "scaling" or ev.get("slope") is None or ev.get("ci") is None:
            continue
        predicted = Range.from_dict(check["predicted"]) if check.get("predicted") else Range()
        out[check["label"]] = ScalingFit(
            label=check["label"],
            axis=check.get("axis"),
            slope=float(ev["slope"]),
            ci=(float(ev["ci"][0]), float(ev["ci"][1])),
            predicted=(predicted.lo, predicted.hi),
            check=check,
        )
    return out


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
