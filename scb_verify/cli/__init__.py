"""The ``scb-verify`` command line: one module per command (after asv's ``commands/``).

Each command module has ``HELP`` (one line), ``DESCRIPTION`` (with an example),
``add_arguments(parser)`` and ``run(args) -> int``, and imports nothing heavy at module level:
building the parser, ``--version`` and ``--help`` start neither torch nor numba, and each
command imports what it needs when it runs (``diff``, ``report``, ``claims`` and ``plugins``
never start the engine's compiled kernels).

Exit codes (:data:`scb_verify.records.EXIT_CODES`): 0 nothing violated, unreached or errored;
1 a claim violated or unreached (with ``--strict`` also inconclusive; with ``--controls`` a
control neither violated nor unreached), or a regression in ``diff``; 2 a usage error — every
user error (bad argument, unknown algorithm, invalid task, unreadable file, nothing to run) is
one line on stderr, no traceback, nothing written; 3 a claim errored (its plugin raised, its
worker died, it timed out). An output path ``-`` is standard output (the human-readable tables
then go to stderr).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from scb_verify import __version__
from scb_verify.cli.common import Parser, UsageError
from scb_verify.pluginmanager import DISABLED
from scb_verify.records import EXIT_CODES, EXIT_ERRORED, EXIT_OK, EXIT_USAGE, EXIT_VIOLATED

__all__ = [
    "COMMANDS",
    "EXIT_CODES",
    "EXIT_ERRORED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VIOLATED",
    "UsageError",
    "build_parser",
    "main",
    "script",
]

#: Subcommand → the module that implements it.
COMMANDS = {
    name: f"scb_verify.cli.{module}"
    for name, module in (
        ("train", "train"),
        ("check", "check"),
        ("claims", "claims"),
        ("plugins", "plugins"),
        ("report", "report"),
        ("diff", "diff"),
        ("falsify", "falsify"),
    )
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the global options, then each command's own."""
    parser = Parser(
        prog="scb-verify",
        description=__doc__.splitlines()[0].rstrip("."),
        epilog="exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE as a plugin (repeatable; also SCB_VERIFY_PLUGINS=a,b); "
        "no:NAME disables the plugin NAME",
    )
    parser.add_argument(
        "--disable-plugin",
        action="append",
        dest="plugin",
        type=lambda name: DISABLED + name,
        metavar="NAME",
        help="do not load the plugin NAME: a built-in's module, an entry point's name or a "
        "--plugin module, as 'scb-verify plugins' lists them (repeatable; also "
        "SCB_VERIFY_DISABLE_PLUGINS=a,b; --plugin no:NAME is the same)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def _usage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that are bad input (one line, exit 2), from the modules already imported
    (a command that never imported the engine cannot raise the engine's)."""
    found: list[type[BaseException]] = [UsageError, OSError]
    for module, name in (
        ("scb_verify.cost", "CostError"),
        ("scb_verify.task", "TaskError"),
        ("scb_verify.algorithm", "SettingsError"),
        ("scb_verify.runs", "SpecError"),
        ("scb_verify.registry", "PluginError"),
        ("scb_verify.schema", "ResultsError"),
        ("scb_verify.report", "ReportError"),
        ("scb_verify.session", "SessionError"),
        ("scb_verify.family", "FamilyError"),
    ):
        if module in sys.modules:
            found.append(getattr(sys.modules[module], name))
    return tuple(found)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so that a terminated run ends as an
    interrupted one does: workers stopped, every verdict reached kept, no traceback."""


def _terminate(signum, frame) -> None:
    raise Terminated


def script() -> NoReturn:
    """The ``scb-verify`` script (and ``python -m scb_verify``): :func:`main`, then exit with its
    code. While a claim's step still runs on its daemon thread (abandoned at its deadline or by
    Ctrl-C: :func:`scb_verify.runner.steps_running`), the process ends without the
    interpreter's finalization, once its output is flushed: Python 3.11 ends a daemon thread
    by ``pthread_exit`` when it next takes the GIL, and inside torch's C++ code that aborts
    the process ("terminate called without an active exception", SIGABRT instead of the exit
    code: once in 6 Ctrl-C moments of a CI run). Executors and caches are closed by then;
    only the step's own work is lost, as it would be anyway."""
    code = main()
    runner = sys.modules.get("scb_verify.runner")  # not loaded: no step ran
    if runner is not None and runner.steps_running():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scb-verify`` script; returns the exit code (130 after Ctrl-C, 143
    after SIGTERM)."""
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except BrokenPipeError:  # the reader went away (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as e:
        terminated = isinstance(e, Terminated)
        print(f"scb-verify: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as e:
        if not isinstance(e, _usage_errors()):
            raise  # a bug: keeps its traceback
        print(f"{getattr(e, 'prog', 'scb-verify')}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
