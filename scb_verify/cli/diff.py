"""``scb-verify diff``: compare two results files; exit 1 on a regression."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "compare two results files; exit 1 on a regression"
DESCRIPTION = f"""{HELP}.

OLD is the baseline. A verdict that moved for the worse, a claim that went missing, an exponent
that moved beyond its noise, or a baseline violation that no longer shows fails the gate (the
rule: docs/reference.md §7.8).

example:
  scb-verify diff baselines/ci.json results.json --json changes.json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD.json", help="the baseline results file")
    parser.add_argument("new", type=Path, metavar="NEW.json", help="the results file to judge")
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write the changes as JSON (- : stdout)"
    )


def run(args: argparse.Namespace) -> int:
    from scb_verify.cli.common import check_outputs, human
    from scb_verify.diff import compare, summary, table_rows, to_json
    from scb_verify.provenance import write_json_atomic
    from scb_verify.records import EXIT_OK, EXIT_VIOLATED
    from scb_verify.schema import load_results
    from scb_verify.text import format_table

    check_outputs(json=args.json)
    old, new = load_results(args.old), load_results(args.new)
    changes = compare(old, new)
    out = human(args)
    if old.budget != new.budget:
        print(f"note: budgets differ ({old.budget} → {new.budget})", file=out)
    if changes:
        print(format_table(table_rows(changes)) + "\n", file=out)
    print(summary(changes), file=out)
    if args.json:
        write_json_atomic(args.json, to_json(changes))
    return EXIT_VIOLATED if any(c.regression for c in changes) else EXIT_OK
