"""``scb-verify falsify``: search each claim's instance class for a counterexample."""

from __future__ import annotations

import argparse
from pathlib import Path

from scb_verify.cli.common import positive_int, seed

HELP = (
    "search each claim's instance class for a counterexample to its bound (hypothesis, "
    "shrunk to a minimal one)"
)
DESCRIPTION = f"""{HELP}.

A verdict from a grid says a bound held there; the theorems quantify over a class of
instances. Needs the 'test' extra (hypothesis).

example:
  scb-verify falsify --list                 # each claim's instance class
  scb-verify falsify C2 --budget ci --json falsify.json
  scb-verify falsify C2 --replay '{{...}}'    # measure one instance (from a report)"""


def add_arguments(f: argparse.ArgumentParser) -> None:
    from scb_verify.falsify import BUDGET_EXAMPLES

    f.add_argument(
        "claims", nargs="*", metavar="CLAIM", help="claim ids (with --list: default all)"
    )
    f.add_argument("--list", action="store_true", help="print each claim's instance class")
    f.add_argument(
        "--budget",
        default="smoke",
        choices=list(BUDGET_EXAMPLES),
        help="examples per claim: " + ", ".join(f"{b} {k}" for b, k in BUDGET_EXAMPLES.items()),
    )
    f.add_argument(
        "--examples",
        type=positive_int,
        metavar="K",
        help="examples per claim (overrides --budget)",
    )
    f.add_argument(
        "--seed",
        type=seed,
        default=0,
        help="seeds hypothesis's generation: same seed, same search (default 0)",
    )
    f.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="counterexample database, replayed first (default: hypothesis-db in the "
        "per-user cache folder, $SCB_VERIFY_CACHE_DIR or ~/.cache/scb-verify)",
    )
    f.add_argument(
        "--control",
        action="store_true",
        help="search against the deliberately false bound: must find a counterexample",
    )
    f.add_argument(
        "--algorithm",
        metavar="NAME",
        help="train this algorithm in every falsifier that trains (default: each claim's own)",
    )
    f.add_argument("--replay", metavar="JSON", help="measure this one instance of one CLAIM")
    f.add_argument("--json", type=Path, metavar="PATH", help="write a results file (- : stdout)")
    f.add_argument(
        "--merge",
        type=Path,
        metavar="RESULTS",
        help="add the falsification checks to this results file of `check`",
    )


def run(args: argparse.Namespace) -> int:
    import time

    from scb_verify import kernels
    from scb_verify.cli.common import UsageError, human
    from scb_verify.falsify import BUDGET_EXAMPLES
    from scb_verify.paths import falsify_db
    from scb_verify.provenance import write_json_atomic
    from scb_verify.records import claim_order, exit_code
    from scb_verify.registry import load_registry
    from scb_verify.schema import load_results, results_document
    from scb_verify.text import verdict_table

    try:
        from scb_verify.falsify.engine import measure, search
        from scb_verify.falsify.instance import InstanceError
        from scb_verify.falsify.instance import parse as parse_instance
        from scb_verify.falsify.output import claim_report, class_text, merge, result_text
    except ModuleNotFoundError as e:
        raise UsageError(f"falsify needs {e.name}: pip install 'scb-verify[test]'") from None
    if args.db is None:
        args.db = falsify_db()
    _check_options(args)
    reg = load_registry(args.plugin)
    if args.algorithm:
        try:
            reg.algorithm(args.algorithm)
        except KeyError as e:
            raise UsageError(f"falsify: {e.args[0]}") from None
    falsifiers = {
        claim_id: falsifier
        for claim_id in sorted(reg.claims, key=claim_order)
        if (falsifier := reg.claims[claim_id].falsifier(args.algorithm)) is not None
    }
    ids = args.claims or (list(falsifiers) if args.list else [])
    if not ids:
        raise UsageError(
            "falsify: name a CLAIM or use --list; falsifiable: " + ", ".join(falsifiers)
        )
    for claim_id in ids:
        if claim_id not in falsifiers:
            why = "has no falsifier" if claim_id in reg.claims else "is not a claim"
            raise UsageError(f"falsify: {claim_id!r} {why}; falsifiable: {', '.join(falsifiers)}")
    if args.list:
        print(
            "\n".join(
                class_text(falsifiers[c], getattr(reg.claims.get(c), "title", "")) for c in ids
            )
        )
        return 0
    kernels.set_threads(1)  # tiny instances measured one by one: intra-op threads only contend
    if args.replay is not None:
        if len(ids) != 1:
            raise UsageError("falsify: --replay measures an instance of exactly one CLAIM")
        falsifier = falsifiers[ids[0]]
        try:
            instance = parse_instance(args.replay, falsifier.schema)
        except InstanceError as e:
            raise UsageError(
                f"falsify: --replay is not an instance of {ids[0]}'s class: {e} "
                f"(the class: scb-verify falsify --list {ids[0]})"
            ) from None
        try:
            trial = measure(falsifier, instance, args.control)
        except (KeyError, TypeError) as e:
            if falsifier.schema is not None:
                raise  # the instance passed the schema: a bug, with its traceback
            raise UsageError(
                f"falsify: --replay is not an instance of {ids[0]}: {type(e).__name__}: {e}"
            ) from None
        print(f"{ids[0]}: {'COUNTEREXAMPLE' if trial.fails else 'holds'}: {trial.text}")
        return 1 if trial.fails else 0
    if args.merge:
        load_results(args.merge)  # a bad file fails now, not after the search
    examples = args.examples or BUDGET_EXAMPLES[args.budget]
    t0 = time.perf_counter()
    reports = []
    for claim_id in ids:
        result = search(
            falsifiers[claim_id],
            examples=examples,
            seed=args.seed,
            database=args.db,
            control=args.control,
        )
        print(result_text(result), file=human(args))
        reports.append(claim_report(result, reg.claims.get(claim_id)))
    wall = time.perf_counter() - t0
    print(f"\n{verdict_table(reports)}", file=human(args))
    if args.json:
        write_json_atomic(
            args.json,
            results_document(
                reports, budget=args.budget, algorithm=None, control=args.control, wall_time=wall
            ),
        )
    if args.merge:
        merge(args.merge, reports)
    return exit_code(reports)


def _check_options(args: argparse.Namespace) -> None:
    """Refuse options that the chosen mode (``--list``, ``--replay``, a search) would ignore."""
    from scb_verify.cli.common import UsageError, check_outputs

    mode = "--list" if args.list else "--replay" if args.replay is not None else None
    if args.list and args.replay is not None:
        raise UsageError("falsify: --list and --replay exclude each other; give one")
    ignored = [
        flag
        for flag, given in (
            ("--json", args.json),
            ("--merge", args.merge),
            ("--examples", args.examples),
        )
        if given is not None
    ]
    if mode and ignored:
        raise UsageError(f"falsify: {mode} takes no {', '.join(ignored)} (only a search does)")
    if args.db.exists() and not args.db.is_dir():
        raise UsageError(f"--db {args.db}: exists and is not a folder; give a folder")
    check_outputs(json=args.json, merge=args.merge)
