"""Falsification results in the results file of ``scb-verify check`` (:mod:`scb_verify.schema`).

Each search becomes one claim entry whose single check has kind ``falsification``; merged into
an existing results file, that check joins the claim's other checks (replacing an earlier
falsification check) and the claim's status is recomputed with :func:`verdict.combine` — so a
confirmed counterexample to a "for all" statement makes the claim violated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from scb_verify.claim import Claim
from scb_verify.falsify.engine import Falsifier, SearchResult
from scb_verify.provenance import config_hash, write_json_atomic
from scb_verify.runner import ClaimReport
from scb_verify.schema import claim_entry, label_checks, load_results
from scb_verify.verdict import Status, combine, combine_statuses


def claim_report(result: SearchResult, claim: Claim | None) -> ClaimReport:
    """One results-file claim entry holding the search's ``falsification`` check."""
    check = result.check()
    falsifier = result.falsifier
    return ClaimReport(
        id=falsifier.claim,
        control=result.control,
        algorithm=claim.algorithm if claim else None,
        status=combine([check]),
        description=claim.describe() if claim else {"id": falsifier.claim},
        checks=label_checks([check.to_dict()]),
        seeds=[result.seed],
        wall_time=result.wall_time,
        config_hash=config_hash(
            {
                "falsify": falsifier.describe(),
                "examples": result.examples,
                "seed": result.seed,
                "control": result.control,
            }
        ),
        error=result.error,
    )


def merge(path: str | Path, reports: Sequence[ClaimReport]) -> None:
    """Add each report's falsification check to the entries of ``path`` with the same claim
    id and control flag (appending the report where there is none), recompute their statuses,
    and rewrite the file atomically (in the current schema version).
    :class:`~scb_verify.schema.ResultsError` if ``path`` is not a results file."""
    doc = load_results(path)
    for report in reports:
        entries = [
            e for e in doc["claims"] if e["id"] == report.id and e["control"] == report.control
        ]
        if not entries:
            doc["claims"].append(claim_entry(report.to_dict()))
        for entry in entries:
            entry["checks"] = [c for c in entry["checks"] if c["kind"] != "falsification"]
            entry["checks"] = label_checks(entry["checks"] + report.checks)
            if entry.get("error") is None:
                entry["status"] = combine_statuses(c["status"] for c in entry["checks"]).value
    write_json_atomic(path, doc)


def class_text(falsifier: Falsifier, title: str) -> str:
    """The ``--list`` block of one claim: statement, class, control."""
    lines = [f"{falsifier.claim}  {title}", f"    for all: {falsifier.statement}", "    class:"]
    width = max(map(len, falsifier.parameters))
    lines += [f"      {name.ljust(width)}  {text}" for name, text in falsifier.parameters.items()]
    lines.append(f"    negative control: {falsifier.control}")
    return "\n".join(lines)


def result_text(result: SearchResult) -> str:
    """Human-readable outcome of one search: summary, counterexample, reproduction command."""
    lines = [
        f"{result.falsifier.claim}: {result.tried} example(s) tried, {result.shrinks} "
        f"shrink measurement(s), {result.replayed} replayed from {result.database}, "
        f"{result.wall_time:.1f} s",
        f"    {result.summary()}",
    ]
    if result.counterexample is not None:
        lines.append(f"    minimal counterexample: {json.dumps(result.counterexample)}")
        lines.append(f"    reproduce: {result.reproduce()}")
    if result.status is Status.ERROR:
        lines.append(result.error.rstrip())
    return "\n".join(lines)
