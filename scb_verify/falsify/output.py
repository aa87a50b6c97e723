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
from scb_verify.records import ClaimRun, label_checks
from scb_verify.schema import document, load_results
from scb_verify.verdict import Status, combine_statuses


def claim_report(result: SearchResult, claim: Claim | None) -> ClaimRun:
    """One results-file claim entry holding the search's ``falsification`` check."""
    falsifier = result.falsifier
    return ClaimRun.from_outcome(
        id=falsifier.claim,
        control=result.control,
        algorithm=claim.algorithm if claim else None,
        description=claim.describe() if claim else {"id": falsifier.claim},
        checks=[result.check()],
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


def merge(path: str | Path, reports: Sequence[ClaimRun]) -> None:
    """Add each report's falsification check to the entries of ``path`` with the same claim
    run key (id and control flag), appending the report where there is none, recompute their
    statuses, and rewrite the file atomically (in the current schema version).
    :class:`~scb_verify.schema.ResultsError` if ``path`` is not a results file."""
    results = load_results(path)
    for report in reports:
        entries = [run for run in results.claims if run.key == report.key]
        if not entries:
            results.claims.append(report)
        for entry in entries:
            kept = [c for c in entry.checks if c.kind != "falsification"]
            entry.checks = label_checks(kept + report.checks)
            if entry.error is None:
                entry.status = combine_statuses(c.status for c in entry.checks)
    write_json_atomic(path, document(results))


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
