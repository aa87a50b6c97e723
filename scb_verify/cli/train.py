"""``scb-verify train``: train one algorithm on one SCB instance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scb_verify.cli.common import positive_int, seed, setting

HELP = "train one algorithm on one SCB instance"
DESCRIPTION = f"""{HELP}; print the final metrics (docs/reference.md §4).

example:
  scb-verify train                                  # pppd on N=5, T=64, Q=2, seed 0
  scb-verify train --algorithm sgd --set lr=0.3 --T 128 --save model.npz
  scb-verify train --init model.npz --seed 1        # finetune on a correlated task"""

#: The one-line legend ``train`` prints under its table (docs/reference.md §4).
COLUMNS = (
    "columns: correlation ρ(A) with Q*; dist_V ‖V − P‖_F; dist_A ‖A − Q*‖_F; excess_risk "
    "L − σ²/2; support: share of tokens whose attention support is Q*'s; ρ≥0.9 at: samples "
    "when ρ first reached 0.9 (None: never)"
)
#: The milestone ``train`` records: the correlation it reports the sample count of.
MILESTONE = ("correlation", 0.9)


def _threads(text: str) -> int:
    from scb_verify.session import cores

    value = positive_int(text)
    if value > cores():
        raise argparse.ArgumentTypeError(
            f"expected 1..{cores()} (the cores available), got {value}"
        )
    return value


def add_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("--algorithm", default="pppd", help="registered algorithm (default: pppd)")
    t.add_argument("--N", type=positive_int, default=5, help="vocabulary size (default 5)")
    t.add_argument("--T", type=positive_int, default=64, help="context length (default 64)")
    t.add_argument("--Q", type=positive_int, default=2, help="sparsity (default 2)")
    t.add_argument(
        "--concentration",
        type=float,
        default=0.5,
        help="Dirichlet concentration of P's columns (default 0.5; larger: weaker signal)",
    )
    t.add_argument(
        "--support",
        default="random",
        choices=["random", "window", "shared"],
        help="where each token's Q attended positions lie (default random)",
    )
    t.add_argument(
        "--weights",
        default="dirichlet",
        choices=["dirichlet", "uniform"],
        help="the weights of Q*'s support positions (default dirichlet)",
    )
    t.add_argument("--batch", type=positive_int, default=256, help="samples per step (256)")
    t.add_argument(
        "--samples", type=positive_int, default=200_000, help="sample budget (default 200000)"
    )
    t.add_argument("--seed", type=seed, default=0, help="seeds the task (default 0)")
    t.add_argument(
        "--data-seed",
        type=seed,
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
        type=setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="algorithm setting (repeatable), e.g. --set eta_A=0.3",
    )
    t.add_argument("--device", default="cpu", help="torch device (default cpu)")
    t.add_argument(
        "--dtype",
        default="float64",
        choices=["float32", "float64"],
        help="floating-point type of the model and the arithmetic (default float64)",
    )
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


def run(args: argparse.Namespace) -> int:
    import torch

    from scb_verify import cost, kernels
    from scb_verify.cli.common import UsageError, check_outputs, human, settings
    from scb_verify.progress import progress_bar
    from scb_verify.provenance import provenance, write_json_atomic
    from scb_verify.registry import load_registry
    from scb_verify.runs import Milestone, Params, RunSpec
    from scb_verify.task import make_task
    from scb_verify.text import format_table
    from scb_verify.training import train

    reg = load_registry(args.plugin)
    try:
        algorithm = reg.algorithm(args.algorithm)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    chosen = settings(args.set)
    algorithm.resolve_settings(chosen)
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
    milestone = Milestone(*MILESTONE)
    spec = RunSpec(
        task=task,
        seed=args.seed if args.data_seed is None else args.data_seed,
        batch=args.batch,
        samples=args.samples,
        init=init,
        settings=chosen,
        milestones=(milestone,),
    )
    kernels.set_threads(args.threads)
    desc = f"{algorithm.name} N={task.N} T={task.T}"
    if long_run:
        desc += f" (estimated {cost.duration(need.seconds)})"
    with progress_bar(spec.steps * spec.batch, desc, quiet=args.quiet) as bar:
        result = train(algorithm, [spec], device=device, dtype=dtype, progress=bar)[0]
    f = result.final
    header = ("algorithm", "status", "samples", "wall s", "correlation", "dist_V", "dist_A")
    header += ("excess_risk", "support", "ρ≥0.9 at")
    row = (
        result.algorithm,
        result.status,
        str(result.samples),
        f"{result.wall_time:.2f}",
        f"{f['correlation']:.4f}",
        f"{f['dist_V']:.4f}",
        f"{f['dist_A']:.4f}",
        f"{f['excess_risk']:.3g}",
        f"{f['support_recovery']:.2f}",
        str(result.milestones[milestone.name]),
    )
    print(format_table([header, row]), file=human(args))
    print(COLUMNS, file=human(args))
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


def _device(text: str):
    """``--device`` as a torch device that this machine has (cpu, or an available GPU)."""
    from scb_verify.cli.common import UsageError
    from scb_verify.device_executor import DeviceUnavailable, check_device

    try:
        return check_device(text)
    except DeviceUnavailable as e:
        raise UsageError(f"--{e}") from None  # "--device 'x' is not available here; …"
