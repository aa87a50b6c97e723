"""Text for people: plain tables and one-line renderings of JSON data. Formatting happens here,
when printing; records and changes keep their numbers as numbers (docs/reference.md §7.8)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scb_verify.records import ClaimRun


def format_table(rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned plain-text table; the first row is the header, underlined."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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


def verdict_table(runs: Sequence[ClaimRun]) -> str:
    """One row per claim run: id, the algorithms its jobs trained (the algorithm under test when
    it trained nothing), verdict (for a control, whether it came out as it
    must), runs, samples, seconds, and each check's headline (or the error's last line). A run
    whose algorithm read the ground truth says so beside its verdict."""
    control = any(r.control for r in runs)
    head = "negative control" if control else "verdict"
    rows = [("claim", "algorithm", head, "runs", "samples", "wall s", "evidence")]
    for r in runs:
        status = r.status.value
        if r.control:
            status += " (ok)" if r.good else " (CHECK CANNOT FAIL?)"
        if r.truth_readers:
            status += f" [read truth: {', '.join(r.truth_readers)}]"
        lines = [c.headline for c in r.checks] or [r.error_line]
        for i, line in enumerate(lines):
            lead = (
                (
                    r.key.removesuffix(" (control)"),
                    ", ".join(r.trained) or r.algorithm or "-",
                    status,
                    r.runs,
                    f"{r.samples:.3g}",
                    f"{r.wall_time:.1f}",
                )
                if i == 0
                else ("",) * 6
            )
            rows.append((*lead, line))
    return format_table(rows)
