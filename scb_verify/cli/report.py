"""``scb-verify report``: a Markdown report with figures from a results file."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write a Markdown report with figures from a results file"
DESCRIPTION = f"""{HELP} (needs the 'report' extra: matplotlib).

Writes DIR/report.md and DIR/figures/*.png: the verdict table, a summary of every scaling
check against its predicted range, then per claim its statement, checks and figures.

example:
  scb-verify check --budget ci --json results.json && scb-verify report results.json --out rep"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, metavar="RESULTS.json", help="from check --json")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder for report.md and figures/ (created)",
    )


def run(args: argparse.Namespace) -> int:
    from scb_verify.cli.common import UsageError
    from scb_verify.report import write_report

    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder; give a folder")
    written = write_report(args.results, args.out, plugins=args.plugin)
    print(f"wrote {written.markdown} with {len(written.figures)} figure(s)")
    for note in written.notes:
        print(f"  note: {note}")
    return 0
