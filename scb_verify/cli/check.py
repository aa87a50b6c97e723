"""``scb-verify check``: run claims (or their negative controls) to verdicts."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from scb_verify.cli.common import non_negative_number, positive_int, positive_seconds, setting
from scb_verify.family import PARAMETERS as FAMILY_KEYS

HELP = "run claims (or their negative controls) to verdicts"
DESCRIPTION = f"""{HELP}.

Each claim generates SCB instances, trains through its algorithm and checks its predicted
bounds (docs/reference.md §6–7): holds, violated, unreached (the target not reached within the
budget), inconclusive or error. Exit codes: 0 nothing violated, unreached or errored, 1 a claim
violated or unreached (--controls: a control neither violated nor unreached), 2 usage error or
nothing to run, 3 a claim errored.

example:
  scb-verify check                                  # every claim at the smoke budget
  scb-verify check C3 C4 --budget ci --jobs 2 --json results.json
  scb-verify check --budget ci --jobs 2 --baseline  # the gate, against the shipped ci baseline
  scb-verify check --budget ci --baseline old.json --baseline-tolerance 0.05
  scb-verify check --algorithm sgd --controls       # another algorithm's negative controls"""

#: The default --max-runs: a sweep a laptop finishes at the ci budget within hours.
MAX_RUNS = 64

BUDGET_HELP = (
    "how much each claim measures: smoke (minutes, few seeds), ci (the project's gate), "
    "full (the README's full-budget table); default smoke"
)


def add_arguments(c: argparse.ArgumentParser) -> None:
    from scb_verify.session import DEADLINES, SHIPPED

    c.add_argument("claims", nargs="*", metavar="CLAIM", help="claim ids (default: all)")
    c.add_argument("--budget", default="smoke", choices=list(DEADLINES), help=BUDGET_HELP)
    c.add_argument(
        "--jobs",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="parallel workers (default: the number of cores; the local executor starts at "
        "most one per core and per 512 MiB of available memory)",
    )
    c.add_argument(
        "--executor",
        default="local",
        help="registered executor: local (a process pool, default) or ray",
    )
    c.add_argument(
        "--device",
        default="cpu",
        help="train the jobs on DEVICE (e.g. cuda, cuda:1): one worker process owns it and "
        "trains each job's runs stacked; claims that train nothing stay on the CPU (default: cpu)",
    )
    c.add_argument(
        "--address",
        metavar="ADDR",
        help="with --executor ray: the Ray cluster to use (default: $RAY_ADDRESS, else a local "
        "Ray instance of --jobs CPUs)",
    )
    c.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="job cache: a rerun redoes only jobs not stored here (default: job-cache in the "
        "per-user cache folder, $SCB_VERIFY_CACHE_DIR or ~/.cache/scb-verify)",
    )
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the job cache")
    c.add_argument(
        "--algorithm",
        action="append",
        default=[],
        metavar="NAME[KEY=V1,V2;...]",
        help="substitute this algorithm in every claim that trains; repeat it, or list values "
        "in brackets, to sweep readings in one run (pppd[variant=sparse,simplex] is two)",
    )
    c.add_argument(
        "--set",
        type=setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the algorithm under test, in every configuration (repeatable; "
        "typed and checked as train --set is)",
    )
    c.add_argument(
        "--family",
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="an instance family every claim's instances come from (repeatable: one run per "
        "family; 'default' is the generator's defaults): " + ", ".join(FAMILY_KEYS),
    )
    c.add_argument(
        "--max-runs",
        type=positive_int,
        default=MAX_RUNS,
        metavar="N",
        help=f"refuse a sweep of more than N claim runs (default {MAX_RUNS}); a sweep at a budget "
        "with a shipped baseline states its time estimate at that baseline's pace",
    )
    c.add_argument(
        "--controls",
        action="store_true",
        help="run the negative controls instead; each must come out violated or unreached",
    )
    c.add_argument("--strict", action="store_true", help="also fail (exit 1) on inconclusive")
    c.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="wall-clock limit per claim (default by budget: "
        + ", ".join(f"{b} {d.claim:g}" for b, d in DEADLINES.items())
        + ")",
    )
    c.add_argument(
        "--job-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="wall-clock limit per training job (default by budget: "
        + ", ".join(f"{b} {d.job:g}" for b, d in DEADLINES.items())
        + ")",
    )
    c.add_argument("--json", type=Path, metavar="PATH", help="write the results file (- : stdout)")
    c.add_argument(
        "--baseline",
        nargs="?",
        const=SHIPPED,
        metavar="FILE",
        help="gate against a results file of expected verdicts (from check --json; without FILE "
        "the one shipped for the budget): a claim violated or unreached there and still so is "
        "an expected finding; exit 1 on any move for the worse, an exponent moving toward "
        "violating its prediction beyond the noise, or a baseline finding no longer shown "
        "(docs/reference.md §7.8). Put it after the claims, or write --baseline=FILE",
    )
    c.add_argument(
        "--baseline-tolerance",
        type=non_negative_number,
        default=0.0,
        metavar="D",
        help="with --baseline: an exponent fails the gate only if it moved toward violating "
        "by more than D beyond the noise (exponent units; default 0)",
    )
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _estimate(planned, args: argparse.Namespace, workers: int) -> str | None:
    """The sweep's time estimate line (:func:`scb_verify.session.time_estimate`), or None where
    no baseline is shipped for the budget (or it cannot say)."""
    from scb_verify import session
    from scb_verify.cost import duration

    if args.controls or args.budget not in session.shipped_baselines():
        return None
    baseline, _ = session.load_baseline(session.SHIPPED, args.budget)
    found = session.time_estimate([p.claim.id for p in planned], baseline, workers)
    if found is None:
        return None
    seconds, how = found
    return (
        f"estimate: about {duration(seconds)} on {workers} workers {how}; other readings and "
        "families can take longer, up to the budget's caps"
    )


def run(args: argparse.Namespace) -> int:
    from scb_verify import interrupts

    # The engine's imports (torch, sympy, numba: about 2 s) with Ctrl-C and SIGTERM deferred:
    # raised inside a library's import, a KeyboardInterrupt was swallowed (the run went on,
    # here into a hung job), turned into an ImportError traceback, or made the interpreter
    # exit by SIGINT after "interrupted" (2 of 40 random Ctrl-C moments in the first 10 s,
    # on a loaded 2-core machine).
    with interrupts.deferred():
        from scb_verify import session
        from scb_verify.registry import load_registry
        from scb_verify.runner import plan, run_plan

        reg = load_registry(args.plugin)
    from scb_verify.cache import JobCache
    from scb_verify.cli.common import UsageError, check_outputs, human, warn
    from scb_verify.diff import summary, table_rows
    from scb_verify.family import family_label
    from scb_verify.paths import job_cache
    from scb_verify.progress import progress_bar, status_line
    from scb_verify.provenance import replaceable, write_json_atomic
    from scb_verify.records import EXIT_ERRORED, EXIT_OK, EXIT_VIOLATED, exit_code
    from scb_verify.schema import document, new_results
    from scb_verify.text import format_table, verdict_table
    from scb_verify.verdict import Status

    if args.strict and args.controls:
        raise UsageError(
            "check: --strict has no effect with --controls (a control passes only if violated or "
            "unreached)"
        )
    check_outputs(json=args.json)
    if args.baseline_tolerance and args.baseline is None:
        raise UsageError("check: --baseline-tolerance needs --baseline")
    baseline = None
    if args.baseline is not None:
        baseline, where = session.load_baseline(args.baseline, args.budget)
        session.check_baseline(
            baseline, budget=args.budget, control=args.controls, where=f"--baseline {where}"
        )
    claims = session.select_claims(reg, args.claims)
    configurations = session.parse_configurations(args.algorithm, args.set)
    session.check_settings(reg, claims, configurations)
    families = _families(args.family)
    # The one algorithm substituted in every claim that trains (None: each claim's own, or a
    # sweep, which runs the claims that train nothing once).
    algorithm = configurations[0].algorithm if len(configurations) == 1 else None
    planned = plan(
        claims,
        budget=args.budget,
        control=args.controls,
        configurations=configurations,
        families=families,
    )
    skipped = {
        **(
            session.skipped_in_sweep(claims, configurations)
            if len(configurations) > 1
            else session.skipped(claims, algorithm)
        ),
        **session.excluded(claims, families),
    }
    if not planned:
        reasons = "; ".join(skipped.values()) or "no claim is registered"
        raise UsageError(f"nothing to run: {reasons}")
    workers = session.worker_count(args.jobs, executor=args.executor)
    sweep = len(configurations) > 1 or len(families) > 1
    pace = _estimate(planned, args, workers.count) if sweep else None
    if len(planned) > args.max_runs:
        raise UsageError(
            f"check: {len(planned)} claim runs ({len(claims)} claims × {len(configurations)} "
            f"configurations × {len(families)} families) exceed --max-runs {args.max_runs}"
            + (f" ({pace})" if pace else "")
            + "; select fewer or raise the limit"
        )
    if workers.note:
        warn(workers.note)
    cache = None if args.no_cache else JobCache(args.cache or job_cache(), warn=warn)
    executor = session.make_executor(
        reg, args.executor, workers.count, args.address, device=args.device
    )
    out = human(args)
    for why in skipped.values():
        print(f"skipped: {why}", file=out)
    if sweep:
        print(
            f"sweep: {len(planned)} claim runs — {len(claims)} claims × {len(configurations)} "
            f"configurations ({', '.join(c.label for c in configurations)}) × {len(families)} "
            f"families ({', '.join(family_label(f) or 'default' for f in families)})",
            file=out,
        )
        if pace:
            print(pace, file=out)
    t0 = time.perf_counter()

    def results(runs, complete: bool):
        return new_results(
            runs,
            budget=args.budget,
            algorithm=algorithm,
            control=args.controls,
            wall_time=time.perf_counter() - t0,
            complete=complete,
            skipped=skipped,
            workers=workers.count,
        )

    running = len(planned)
    finished = []
    with progress_bar(
        running, f"claims ({args.budget})", quiet=args.quiet, unit="claim", scale=False
    ) as bar:

        def on_done(run):
            finished.append(run)
            bar(len(finished), running)
            if args.json and replaceable(args.json):  # a stream gets the final document only
                write_json_atomic(args.json, document(results(finished, complete=False)))

        with executor:
            runs = run_plan(
                planned,
                executor=executor,
                timeout=args.timeout,
                job_timeout=args.job_timeout,
                plugins=args.plugin,
                on_done=on_done,
                on_progress=lambda live: bar(len(finished), running, status_line(live)),
                cache=cache,
            )
    final = results(runs, complete=True)
    print(verdict_table(runs), file=out)
    print(
        f"\n{len(runs)} claim run(s) in {final.wall_time:.1f} s at budget {args.budget!r}",
        file=out,
    )
    if cache is not None and cache.hits + cache.misses:
        print(
            f"job cache {cache.root}: {cache.hits} of {cache.hits + cache.misses} jobs reused, "
            f"{cache.misses} computed" + (f" ({cache.bad} bad entries)" if cache.bad else ""),
            file=out,
        )
    if args.json:
        write_json_atomic(args.json, document(final))
    code = exit_code(runs, strict=args.strict)
    if baseline is None:
        return code
    changes = session.gate(
        baseline, claims, final, algorithm=algorithm, tolerance=args.baseline_tolerance
    )
    if changes:
        print(f"\nagainst --baseline {where}:", file=out)
        print(format_table(table_rows(changes)), file=out)
    print(f"baseline: {summary(changes)}", file=out)
    if code == EXIT_ERRORED:
        return code
    strict = args.strict and any(r.status is Status.INCONCLUSIVE for r in runs)
    if strict or any(c.regression for c in changes):
        return EXIT_VIOLATED
    return EXIT_OK


def _families(texts: list[str]) -> list[dict]:
    """``--family`` texts as families (none: the default family only)."""
    from scb_verify.cli.common import UsageError
    from scb_verify.cli.common import setting as pair
    from scb_verify.family import parse_family

    families = []
    for text in texts or ["default"]:
        if text == "default":
            family = {}
        else:
            try:
                family = parse_family(pair(part) for part in text.split(","))
            except argparse.ArgumentTypeError as e:
                raise UsageError(f"--family {text!r}: {e}") from None
        if family in families:
            raise UsageError(f"--family {text!r} given twice")
        families.append(family)
    return families
