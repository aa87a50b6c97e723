"""The ``scb-verify`` command line.

Exit codes (:data:`EXIT_CODES`): 0 nothing violated or errored; 1 a claim violated (with
``--strict`` also inconclusive; with ``--controls`` a control *not* violated), or a regression in
``diff``; 2 a usage error — every user error (bad argument, unknown algorithm, invalid task,
unreadable file) is one line on stderr, no traceback, nothing written; 3 a claim errored (its
plugin raised, its worker died, it timed out). An output path ``-`` is standard output (the
human-readable tables then go to stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import sympy
import torch

from scb_verify import __version__, cost, kernels, reference
from scb_verify.algorithm import SettingsError
from scb_verify.cache import DEFAULT_DIR as DEFAULT_CACHE
from scb_verify.cache import JobCache
from scb_verify.claim import BUDGETS
from scb_verify.cost import CostError
from scb_verify.diff import compare, table_rows, to_json
from scb_verify.diff import summary as diff_summary
from scb_verify.falsify import BUDGET_EXAMPLES, DEFAULT_DB
from scb_verify.progress import progress_bar, status_line
from scb_verify.provenance import STDOUT, provenance, replaceable, write_json_atomic
from scb_verify.registry import PluginError, load_registry
from scb_verify.report import ReportError, write_report
from scb_verify.results import headline
from scb_verify.runner import run_claims
from scb_verify.runs import Milestone, Params, RunSpec, SpecError
from scb_verify.schema import ResultsError, load_results, results_document
from scb_verify.task import TaskError, make_task
from scb_verify.training import train
from scb_verify.verdict import Status

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_ERRORED = 0, 1, 2, 3

#: What each exit code means (also printed by ``--help``).
EXIT_CODES = {
    EXIT_OK: "nothing violated or errored",
    EXIT_VIOLATED: "a claim violated (--strict: or inconclusive; --controls: a control not "
    "violated); diff: a regression",
    EXIT_USAGE: "usage error (bad argument or input; nothing was run or written)",
    EXIT_ERRORED: "a claim errored (raised, crashed or timed out)",
}

#: Cores this process may run on: the most ``--threads`` takes.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: The one-line legend ``train`` prints under its table (docs/reference.md §4).
TRAIN_COLUMNS = (
    "columns: correlation ρ(A) with Q*; dist_V ‖V − P‖_F; dist_A ‖A − Q*‖_F; excess_risk "
    "L − σ²/2; support: share of tokens whose attention support is Q*'s; ρ≥0.9 at: samples "
    "when ρ first reached 0.9 (None: never)"
)


class UsageError(Exception):
    """A user error: printed as one line, exit code 2. ``prog`` names the (sub)command."""

    def __init__(self, message: str, prog: str = "scb-verify"):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def _int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer ≥ ``minimum``, refused as 'expected {what}, got …'."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_seed = _int_at_least(0, "a non-negative integer")


def _warn(message: str) -> None:
    print(f"scb-verify: {message}", file=sys.stderr)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _threads(text: str) -> int:
    value = _positive_int(text)
    if value > CORES:
        raise argparse.ArgumentTypeError(f"expected 1..{CORES} (the cores available), got {value}")
    return value


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(
        prog="scb-verify",
        description=__doc__.splitlines()[0],
        epilog="exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE as a plugin (repeatable; also SCB_VERIFY_PLUGINS=a,b)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("plugins", help="list plugins, where they come from and what they register")

    t = sub.add_parser("train", help="train one algorithm on one SCB instance")
    t.add_argument("--algorithm", default="pppd", help="registered algorithm (default: pppd)")
    t.add_argument("--N", type=_positive_int, default=5, help="vocabulary size (default 5)")
    t.add_argument("--T", type=_positive_int, default=64, help="context length (default 64)")
    t.add_argument("--Q", type=_positive_int, default=2, help="sparsity (default 2)")
    t.add_argument(
        "--concentration",
        type=float,
        default=0.5,
        help="Dirichlet concentration of P's columns (default 0.5)",
    )
    t.add_argument("--support", default="random", choices=["random", "window", "shared"])
    t.add_argument("--weights", default="dirichlet", choices=["dirichlet", "uniform"])
    t.add_argument("--batch", type=_positive_int, default=256, help="samples per step (256)")
    t.add_argument(
        "--samples", type=_positive_int, default=200_000, help="sample budget (default 200000)"
    )
    t.add_argument("--seed", type=_seed, default=0, help="seeds the task (default 0)")
    t.add_argument(
        "--data-seed",
        type=_seed,
        metavar="SEED",
        help="seeds the run's samples and its random init (default: --seed)",
    )
    t.add_argument(
        "--init",
        default="uniform",
        help="uniform | random | PATH of a model saved with --save (finetuning)",
    )
    t.add_argument(
        "--set",
        type=_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="algorithm setting (repeatable), e.g. --set eta_A=0.3",
    )
    t.add_argument("--device", default="cpu", help="torch device (default cpu)")
    t.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    t.add_argument(
        "--json", type=Path, metavar="PATH", help="write the result as JSON (- : stdout)"
    )
    t.add_argument(
        "--save", type=Path, metavar="PATH", help="save the final (V, A) as .npz (- : stdout)"
    )
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--threads",
        type=_threads,
        default=1,
        help="threads of torch and of the compiled kernels (default 1: at small "
        "sizes more threads only add synchronization)",
    )
    cl = sub.add_parser("claims", help="list the claims with their statements and sympy bounds")
    cl.add_argument(
        "--explain",
        metavar="CLAIM",
        help="one claim in full: its statement, bounds and section of docs/reference.md",
    )

    c = sub.add_parser("check", help="run claims (or their negative controls) to verdicts")
    c.add_argument("claims", nargs="*", metavar="CLAIM", help="claim ids (default: all)")
    c.add_argument("--budget", default="smoke", choices=list(BUDGETS))
    c.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="parallel workers (default: the number of cores)",
    )
    c.add_argument("--executor", default="local", help="registered executor (default: local)")
    c.add_argument(
        "--address",
        metavar="ADDR",
        help="with --executor ray: the Ray cluster to use (default: $RAY_ADDRESS, else a local "
        "Ray instance of --jobs CPUs)",
    )
    c.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        metavar="DIR",
        help=f"job cache: a rerun redoes only jobs not stored here (default: {DEFAULT_CACHE})",
    )
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the job cache")
    c.add_argument(
        "--algorithm", metavar="NAME", help="substitute this algorithm in every claim that trains"
    )
    c.add_argument(
        "--controls",
        action="store_true",
        help="run the negative controls instead; each must come out violated",
    )
    c.add_argument("--strict", action="store_true", help="also fail (exit 1) on inconclusive")
    c.add_argument(
        "--timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="wall-clock limit per claim (default by budget: smoke 600, ci 3600, full 28800)",
    )
    c.add_argument(
        "--job-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="wall-clock limit per training job (default by budget: smoke 300, ci 1200, "
        "full 10800)",
    )
    c.add_argument("--json", type=Path, metavar="PATH", help="write the results file (- : stdout)")
    c.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="results file of expected verdicts (from check --json): a claim violated there and "
        "still violated is an expected finding; exit 1 on any move for the worse, or when a "
        "baseline violation no longer shows",
    )
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    r = sub.add_parser("report", help="write a Markdown report with figures from a results file")
    r.add_argument("results", type=Path, metavar="RESULTS.json", help="from check --json")
    r.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder for report.md and figures/ (created)",
    )

    d = sub.add_parser("diff", help="compare two results files; exit 1 on a regression")
    d.add_argument("old", type=Path, metavar="OLD.json")
    d.add_argument("new", type=Path, metavar="NEW.json")
    d.add_argument(
        "--json", type=Path, metavar="PATH", help="write the changes as JSON (- : stdout)"
    )

    f = sub.add_parser(
        "falsify",
        help="search each claim's instance class for a counterexample "
        "to its bound (hypothesis, shrunk to a minimal one)",
    )
    f.add_argument(
        "claims", nargs="*", metavar="CLAIM", help="claim ids (with --list: default all)"
    )
    f.add_argument("--list", action="store_true", help="print each claim's instance class")
    f.add_argument(
        "--budget",
        default="smoke",
        choices=list(BUDGETS),
        help="examples per claim: " + ", ".join(f"{b} {k}" for b, k in BUDGET_EXAMPLES.items()),
    )
    f.add_argument(
        "--examples",
        type=_positive_int,
        metavar="K",
        help="examples per claim (overrides --budget)",
    )
    f.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seeds hypothesis's generation: same seed, same search (default 0)",
    )
    f.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"counterexample database, replayed first (default {DEFAULT_DB})",
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
    return parser


def cmd_plugins(args: argparse.Namespace) -> int:
    reg = load_registry(args.plugin)
    rows = [("kind", "name", "source", "summary")]
    for (hook, name), source in sorted(reg.sources.items()):
        obj = {
            "register_algorithms": reg.algorithms,
            "register_claims": reg.claims,
            "register_executors": reg.executors,
        }[hook][name]
        kind = {
            "register_algorithms": "algorithm",
            "register_claims": "claim",
            "register_executors": "executor",
        }[hook]
        rows.append((kind, name, source, getattr(obj, "summary", getattr(obj, "title", ""))))
    print(format_table(rows))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    reg = load_registry(args.plugin)
    try:
        algorithm = reg.algorithm(args.algorithm)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    settings = _settings(args.set)
    algorithm.resolve_settings(settings)
    device = _device(args.device)
    check_outputs(json=args.json, save=args.save)
    dtype = getattr(torch, args.dtype)
    need = cost.estimate(
        args.N, args.T, batch=args.batch, samples=args.samples, float_bytes=dtype.itemsize
    )
    cost.check_memory(need)  # before the task or anything else of that size is allocated
    long_run = need.seconds > cost.LONG_RUN_SECONDS
    if long_run and not args.quiet:
        print(f"note: a long run: {need.work_text()}; {need.memory_text()}", file=sys.stderr)
    init: str | Params = args.init
    if args.init not in ("uniform", "random"):
        init = Params.load(args.init)
    task = make_task(
        args.N,
        args.T,
        args.Q,
        seed=args.seed,
        concentration=args.concentration,
        support=args.support,
        weights=args.weights,
    )
    spec = RunSpec(
        task=task,
        seed=args.seed if args.data_seed is None else args.data_seed,
        batch=args.batch,
        samples=args.samples,
        init=init,
        settings=settings,
        milestones=(Milestone("correlation", 0.9),),
    )
    kernels.set_threads(args.threads)
    desc = f"{algorithm.name} N={task.N} T={task.T}"
    if long_run:
        desc += f" (estimated {cost.duration(need.seconds)})"
    with progress_bar(spec.steps * spec.batch, desc, quiet=args.quiet) as bar:
        result = train(algorithm, [spec], device=device, dtype=dtype, progress=bar)[0]
    f = result.final
    print(
        format_table(
            [
                (
                    "algorithm",
                    "status",
                    "samples",
                    "wall s",
                    "correlation",
                    "dist_V",
                    "dist_A",
                    "excess_risk",
                    "support",
                    "ρ≥0.9 at",
                ),
                (
                    result.algorithm,
                    result.status,
                    str(result.samples),
                    f"{result.wall_time:.2f}",
                    f"{f['correlation']:.4f}",
                    f"{f['dist_V']:.4f}",
                    f"{f['dist_A']:.4f}",
                    f"{f['excess_risk']:.3g}",
                    f"{f['support_recovery']:.2f}",
                    str(result.milestones["correlation>=0.9"]),
                ),
            ]
        ),
        file=_human(args),
    )
    print(TRAIN_COLUMNS, file=_human(args))
    if args.json:
        doc = {
            "kind": "train",
            **provenance(),
            "dtype": args.dtype,
            "device": args.device,
            **result.to_dict(),
        }
        write_json_atomic(args.json, doc)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        result.params.save(args.save, task=task.describe(), algorithm=result.algorithm)
    return 0


def _settings(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``--set`` pairs as a dict; a key given twice is a usage error."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise UsageError(f"--set {key} given twice ({out[key]!r}, {value!r}); give it once")
        out[key] = value
    return out


def _device(text: str) -> torch.device:
    """``--device`` as a torch device that this machine has (cpu, or an available GPU)."""
    available = ["cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    if torch.backends.mps.is_available():
        available.append("mps")
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        device = None
    if device is None or f"{device.type}:{device.index or 0}" not in {
        a if ":" in a else f"{a}:0" for a in available
    }:
        raise UsageError(
            f"--device {text!r} is not available here; allowed: {', '.join(available)}"
        )
    return device


def check_outputs(**paths: Path | None) -> None:
    """Before any work: each output (option name → path) can be written — ``-`` (standard
    output); a writable device, pipe or socket (written directly); or a file that is not a
    folder, whose nearest existing folder is writable — and no two options name the same one.
    Raises :class:`UsageError` naming the option."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        flag = f"--{option.replace('_', '-')} {path}"
        if path.is_dir():
            raise UsageError(f"{flag}: is a folder; give a file path")
        if str(path) == STDOUT or (path.exists() and not replaceable(path)):
            if str(path) != STDOUT and not os.access(path, os.W_OK):
                raise UsageError(f"{flag}: not writable")
        else:
            folder = path.parent
            while not folder.exists():
                folder = folder.parent
            if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                raise UsageError(f"{flag}: cannot create a file in {folder}")
        key = path if str(path) == STDOUT else path.resolve()
        if key in seen:
            raise UsageError(f"{flag}: the same file as --{seen[key]}; give two different paths")
        seen[key] = option.replace("_", "-")


def cmd_claims(args: argparse.Namespace) -> int:
    reg = load_registry(args.plugin)
    if args.explain is not None:
        try:
            claim = reg.claim(args.explain)
        except KeyError as e:
            raise UsageError(e.args[0]) from None
        _print_claim(claim, reg.sources[("register_claims", claim.id)])
        for budget, grid in claim.grids.items():
            print(f"    grid {budget}: {json.dumps(grid.as_dict())}")
        found = reference.claim_section(claim.id)
        if found is None:
            print(f"\n{reference.SOURCE} has no section for {claim.id} (a plugin's own claim)")
        else:
            print(f"\nfrom {reference.SOURCE}:\n\n{found.text}", end="")
        return 0
    for claim_id in sorted(reg.claims, key=_claim_order):
        _print_claim(reg.claims[claim_id], reg.sources[("register_claims", claim_id)])
    return 0


def _print_claim(claim, source: str) -> None:
    print(f"{claim.id}  {claim.title}  [paper {claim.paper}; algorithm {claim.algorithm}]")
    print(f"    {claim.statement}")
    for name, expr in claim.bounds.items():
        pretty = sympy.pretty(expr, use_unicode=True).splitlines()
        print(f"    {name}: " + ("\n" + " " * (6 + len(name))).join(pretty))
    print(f"    negative control: {claim.control}")
    print(f"    source: {source}")


def cmd_check(args: argparse.Namespace) -> int:
    repeated = sorted({c for c in args.claims if args.claims.count(c) > 1})
    if repeated:
        raise UsageError(f"check: claim {', '.join(repeated)} named twice; name each claim once")
    if args.strict and args.controls:
        raise UsageError(
            "check: --strict has no effect with --controls (a control passes only if violated)"
        )
    check_outputs(json=args.json)
    baseline = _baseline(args) if args.baseline else None
    reg = load_registry(args.plugin)
    try:
        claims = [reg.claim(c) for c in args.claims] or [
            reg.claims[c] for c in sorted(reg.claims, key=_claim_order)
        ]
        if args.algorithm:
            reg.algorithm(args.algorithm)
        factories = {f.name: f for f in reg.executors.values()}
        factory = factories.get(args.executor)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    if factory is None:
        raise UsageError(f"unknown executor {args.executor!r}; available: {sorted(factories)}")
    if args.address is not None:
        if args.executor != "ray":
            raise UsageError(f"--address is for --executor ray, not {args.executor!r}")
        os.environ["RAY_ADDRESS"] = args.address  # read by Ray when it connects
    cache = None if args.no_cache else JobCache(args.cache, warn=_warn)
    t0 = time.perf_counter()

    def write(reports, complete: bool) -> None:
        """The results file, replaced atomically: a kill keeps every verdict reached."""
        if args.json:
            doc = results_document(
                reports,
                budget=args.budget,
                algorithm=args.algorithm,
                control=args.controls,
                wall_time=time.perf_counter() - t0,
                complete=complete,
            )
            write_json_atomic(args.json, doc)

    with progress_bar(
        len(claims), f"claims ({args.budget})", quiet=args.quiet, unit="claim", scale=False
    ) as bar:
        finished = []

        def on_done(report):
            finished.append(report)
            bar(len(finished), len(claims))
            if args.json and replaceable(args.json):  # a stream gets the final document only
                write(finished, complete=False)

        try:
            executor = factory.create(args.jobs)
        except ImportError as e:
            raise UsageError(f"executor {args.executor!r} cannot start: {e}") from None
        with executor:
            reports = run_claims(
                claims,
                budget=args.budget,
                executor=executor,
                algorithm=args.algorithm,
                control=args.controls,
                timeout=args.timeout,
                job_timeout=args.job_timeout,
                plugins=args.plugin,
                on_done=on_done,
                on_progress=lambda running: bar(len(finished), len(claims), status_line(running)),
                cache=cache,
            )
    wall = time.perf_counter() - t0
    out = _human(args)
    print(verdict_table(reports, control=args.controls), file=out)
    print(f"\n{len(reports)} claim run(s) in {wall:.1f} s at budget {args.budget!r}", file=out)
    if cache is not None and cache.hits + cache.misses:
        print(
            f"job cache {args.cache}: {cache.hits} of {cache.hits + cache.misses} jobs reused, "
            f"{cache.misses} computed" + (f" ({cache.bad} bad entries)" if cache.bad else ""),
            file=out,
        )
    write(reports, complete=True)
    code = exit_code(reports, control=args.controls, strict=args.strict)
    if baseline is None:
        return code
    ran = {r.id for r in reports} | {c.id for c in claims}
    baseline["claims"] = [r for r in baseline["claims"] if r["id"] in ran]
    new = results_document(
        reports, budget=args.budget, algorithm=args.algorithm, control=args.controls, wall_time=wall
    )
    changes = compare(baseline, new)
    if changes:
        print(f"\nagainst the baseline {args.baseline}:", file=out)
        print(format_table(table_rows(changes)), file=out)
    print(f"baseline: {diff_summary(changes)}", file=out)
    if code == EXIT_ERRORED:
        return code
    strict = args.strict and any(r.status is Status.INCONCLUSIVE for r in reports)
    return EXIT_VIOLATED if strict or any(c.regression for c in changes) else EXIT_OK


def _baseline(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--baseline`` results file, checked before any work: the same budget and kind of
    run (claims or controls) as this one."""
    doc = load_results(args.baseline)
    if doc.get("budget") != args.budget:
        raise UsageError(
            f"--baseline {args.baseline}: recorded at budget {doc.get('budget')!r}, this run is "
            f"at {args.budget!r}; give a baseline of the same budget"
        )
    if bool(doc.get("controls")) != bool(args.controls):
        kinds = ("claims", "negative controls")
        raise UsageError(
            f"--baseline {args.baseline}: holds {kinds[bool(doc.get('controls'))]}, this run "
            f"runs {kinds[bool(args.controls)]}"
        )
    return doc


def cmd_report(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder; give a folder")
    written = write_report(args.results, args.out)
    print(f"wrote {written.markdown} with {len(written.figures)} figure(s)")
    for note in written.notes:
        print(f"  note: {note}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    check_outputs(json=args.json)
    old, new = load_results(args.old), load_results(args.new)
    changes = compare(old, new)
    out = _human(args)
    if old.get("budget") != new.get("budget"):
        print(f"note: budgets differ ({old.get('budget')} → {new.get('budget')})", file=out)
    if changes:
        print(format_table(table_rows(changes)) + "\n", file=out)
    print(diff_summary(changes), file=out)
    if args.json:
        write_json_atomic(args.json, to_json(changes))
    return EXIT_VIOLATED if any(c.regression for c in changes) else EXIT_OK


def cmd_falsify(args: argparse.Namespace) -> int:
    try:
        from scb_verify.falsify.engine import measure, search
        from scb_verify.falsify.instance import InstanceError
        from scb_verify.falsify.instance import parse as parse_instance
        from scb_verify.falsify.output import claim_report, class_text, merge, result_text
    except ModuleNotFoundError as e:
        raise UsageError(f"falsify needs {e.name}: pip install 'scb-verify[test]'") from None
    _check_falsify_options(args)
    reg = load_registry(args.plugin)
    if args.algorithm:
        try:
            reg.algorithm(args.algorithm)
        except KeyError as e:
            raise UsageError(f"falsify: {e.args[0]}") from None
    falsifiers = {
        claim_id: falsifier
        for claim_id in sorted(reg.claims, key=_claim_order)
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
        print(result_text(result), file=_human(args))
        reports.append(claim_report(result, reg.claims.get(claim_id)))
    wall = time.perf_counter() - t0
    print(f"\n{verdict_table(reports, control=args.control)}", file=_human(args))
    if args.json:
        write_json_atomic(
            args.json,
            results_document(
                reports, budget=args.budget, algorithm=None, control=args.control, wall_time=wall
            ),
        )
    if args.merge:
        merge(args.merge, reports)
    return exit_code(reports, control=args.control, strict=False)


def _check_falsify_options(args: argparse.Namespace) -> None:
    """Refuse options that the chosen mode (``--list``, ``--replay``, a search) would ignore."""
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


def exit_code(reports, *, control: bool, strict: bool) -> int:
    """:data:`EXIT_CODES`: 3 if a claim errored, else 1 if a claim violated (for controls: a
    control NOT violated; with ``strict`` also inconclusive), else 0."""
    statuses = [r.status for r in reports]
    if Status.ERROR in statuses:
        return EXIT_ERRORED
    if control:
        return EXIT_OK if all(s is Status.VIOLATED for s in statuses) else EXIT_VIOLATED
    if Status.VIOLATED in statuses or (strict and Status.INCONCLUSIVE in statuses):
        return EXIT_VIOLATED
    return EXIT_OK


def _human(args: argparse.Namespace) -> TextIO:
    """Where tables and summaries go: stderr when a data output (``--json -``, ``--save -``)
    takes standard output, else stdout."""
    data = (getattr(args, "json", None), getattr(args, "save", None))
    return sys.stderr if STDOUT in map(str, data) else sys.stdout


def verdict_table(reports, *, control: bool) -> str:
    """One row per claim run: id, algorithm, verdict, samples, seconds, and each check's summary."""
    head = "negative control" if control else "verdict"
    rows = [("claim", "algorithm", head, "runs", "samples", "wall s", "evidence")]
    for r in reports:
        status = r.status.value
        if control:
            status += " (ok)" if r.status is Status.VIOLATED else " (CHECK CANNOT FAIL?)"
        summaries = [headline(c) for c in r.checks] or [
            (r.error or "").strip().splitlines()[-1:][0] if r.error else ""
        ]
        for i, summary in enumerate(summaries):
            lead = (
                (
                    r.id,
                    r.algorithm or "-",
                    status,
                    str(r.runs),
                    f"{r.samples:.3g}",
                    f"{r.wall_time:.1f}",
                )
                if i == 0
                else ("",) * 6
            )
            rows.append((*lead, summary))
    return format_table(rows)


def _claim_order(claim_id: str) -> tuple:
    digits = "".join(ch for ch in claim_id if ch.isdigit())
    return (int(digits) if digits else 10**9, claim_id)


COMMANDS = {
    "plugins": cmd_plugins,
    "train": cmd_train,
    "claims": cmd_claims,
    "check": cmd_check,
    "report": cmd_report,
    "diff": cmd_diff,
    "falsify": cmd_falsify,
}


def format_table(rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned plain-text table; the first row is the header."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scb-verify`` script; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # the reader went away (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (
        UsageError,
        CostError,
        TaskError,
        SettingsError,
        SpecError,
        PluginError,
        ResultsError,
        ReportError,
        OSError,
    ) as e:  # bad input: one line, exit 2 (anything else is a bug and keeps its traceback)
        print(f"{getattr(e, 'prog', 'scb-verify')}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scb-verify: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
