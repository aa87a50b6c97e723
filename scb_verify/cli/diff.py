"""``scb-verify diff``: compare two results files; exit 1 on a regression."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "compare two results files; exit 1 on a regression"
DESCRIPTION = f"""{HELP}.

OLD is the baseline (docs/reference.md §7.8). Fails the gate (exit 1): a verdict that moved for
the worse (for a claim holds > inconclusive > unreached > violated; for a negative control
violated and unreached are the good verdicts, holds the bad one) or to error, a claim that went
missing (not one left out on purpose under --algorithm), a baseline finding (violated or
unreached) that no longer shows (xfail strict), and an exponent that moved toward violating its
predicted range beyond the noise and the --tolerance. Reported, not failing: an expected finding
(violated or unreached in both), an exponent that moved away from violating (an improvement), a
better verdict, checks and claims only one file has.

An exponent's move d = new − old is judged by the interval of the difference: paired by seed
when both fits are paired designs on the same recorded seeds (t interval of the per-seed
differences), otherwise Welch's, from each fit's standard error and degrees of freedom
recomputed from its stored values; it is beyond the noise when the one-sided lower confidence
bound of |d| exceeds --tolerance, at confidence 1 − 0.05/k with k the finite ends of the
compared exponents' predicted ranges (Bonferroni: two runs of unchanged code fail with
probability at most 0.05). Fits with censored entries are compared by verdict only; files
without the stored values (version 1) by their intervals: beyond when disjoint by more than
--tolerance.

example:
  scb-verify diff baselines/ci.json results.json --json changes.json
  scb-verify diff old.json new.json --tolerance 0.05   # ignore exponent moves up to 0.05"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from scb_verify.cli.common import non_negative_number

    parser.add_argument("old", type=Path, metavar="OLD.json", help="the baseline results file")
    parser.add_argument("new", type=Path, metavar="NEW.json", help="the results file to judge")
    parser.add_argument(
        "--tolerance",
        type=non_negative_number,
        default=0.0,
        metavar="D",
        help="an exponent fails the gate only if it moved toward violating by more than D "
        "beyond the noise (exponent units, like asv compare --factor; default 0)",
    )
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
    changes = compare(old, new, tolerance=args.tolerance)
    out = human(args)
    if old.budget != new.budget:
        print(f"note: budgets differ ({old.budget} → {new.budget})", file=out)
    if changes:
        print(format_table(table_rows(changes)) + "\n", file=out)
    print(summary(changes), file=out)
    if args.json:
        write_json_atomic(args.json, to_json(changes))
    return EXIT_VIOLATED if any(c.regression for c in changes) else EXIT_OK
