"""The text of the report: header, verdict table, the scaling summary, one section per claim
run (statement, bounds, checks, measurements, error, figures) and the provenance."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scb_verify.records import ClaimRun, Results
from scb_verify.schema import SCHEMA, SCHEMA_VERSION
from scb_verify.text import brief


@dataclass(frozen=True)
class Link:
    """A written figure as the Markdown shows it: its stem, caption and path from the report."""

    stem: str
    caption: str
    href: str


def header(results: Results, path: Path) -> str:
    kind = "negative controls" if results.controls else "claims"
    complete = "" if results.complete else " **Incomplete: written while `check` was running.**"
    algorithm = results.algorithm or "each claim's own"
    return (
        f"# scb-verify report\n\n"
        f"Results `{path.name}`: {len(results.claims)} {kind} at budget **{results.budget}**, "
        f"algorithm {algorithm}, created {results.created or '?'}, "
        f"commit `{(results.commit or 'unknown')[:12]}`, {results.wall_time:.1f} s.{complete}"
    )


def verdict_table(runs: Sequence[ClaimRun]) -> str:
    """One row per claim run; a verdict that is not the good one in bold."""
    head = "negative control" if any(r.control for r in runs) else "verdict"
    rows = [
        f"| claim | title | algorithm | {head} | runs | samples | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        shown = r.status.value if r.good else f"**{r.status.value}**"
        if r.truth_readers:
            shown += f" (read the ground truth: {', '.join(r.truth_readers)})"
        trained = ", ".join(r.trained) or r.algorithm or "-"
        rows.append(
            f"| [{r.key}](#{anchor(r)}) | {cell(r.title)} | {trained} | {shown} "
            f"| {r.runs} | {r.samples:,} | {r.wall_time:.1f} |"
        )
    return "## Verdicts\n\n" + "\n".join(rows)


def scaling_summary(link: Link) -> str:
    return figure_section("Scaling checks", link)


def figure_section(title: str, link: Link) -> str:
    """A section of one figure with its caption."""
    return f"## {title}\n\n![{title.lower()}]({link.href})\n\n*{cell(link.caption)}*"


def claim_section(run: ClaimRun, links: Sequence[Link], notes: Sequence[str]) -> str:
    seeds = f"{min(run.seeds)}–{max(run.seeds)}" if run.seeds else "-"
    lines = [
        f'<a id="{anchor(run)}"></a>\n## {run.key} — {run.title}',
        f"**Verdict: {run.status.value}** · algorithm {run.algorithm or '-'} · paper "
        f"{run.paper or '?'} · {run.runs} runs · {run.samples:,} samples · seeds {seeds} · "
        f"{run.wall_time:.1f} s · config `{run.config_hash}`",
    ]
    if run.statement:
        lines.append(f"> {run.statement}")
    if run.bounds:
        lines.append(
            "**Bounds.**\n\n"
            + "\n".join(f"- `{name}`: ${b['latex']}$" for name, b in run.bounds.items())
        )
    if run.control_statement:
        lines.append(f"**Negative control.** {run.control_statement}")
    if run.checks:
        rows = ["| check | kind | verdict | summary |", "|---|---|---|---|"]
        rows += [
            f"| {cell(c.label)} | {c.kind} | {c.status.value} | {cell(c.summary)} |"
            for c in run.checks
        ]
        lines.append("**Checks.**\n\n" + "\n".join(rows))
    if run.measurements:
        lines.append(
            "**Measurements.**\n\n"
            + "\n".join(f"- `{k}`: `{brief(v)}`" for k, v in run.measurements.items())
        )
    if run.error:
        lines.append(f"**Error.**\n\n```\n{run.error.rstrip()}\n```")
    lines += [f"![{run.key} {link.stem}]({link.href})\n\n*{cell(link.caption)}*" for link in links]
    if notes:
        lines.append("\n".join(f"*Note: {n}*" for n in notes))
    return "\n\n".join(lines)


def provenance(results: Results) -> str:
    rows = ["| package | version |", "|---|---|"]
    rows += [f"| {k} | {v or '-'} |" for k, v in results.versions.items()]
    upgraded = f", upgraded from v{results.upgraded_from}" if results.upgraded_from else ""
    return (
        f"## Provenance\n\ncommit `{results.commit or 'unknown'}` · machine "
        f"{results.machine or '?'} · created {results.created or '?'} · read as {SCHEMA} "
        f"v{SCHEMA_VERSION}{upgraded}\n\n" + "\n".join(rows)
    )


def cell(text: str) -> str:
    """Text that fits in a Markdown table cell (or an italic line)."""
    return text.replace("|", "\\|").replace("\n", " ")


def anchor(run: ClaimRun) -> str:
    return slug(run.key).lower()


def slug(text: str) -> str:
    """``text`` as a file or anchor name: runs of other characters than ``A-Za-z0-9_.-``
    become one ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
