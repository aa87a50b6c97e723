"""What every command of the command line shares: the usage error, argument types, output
checks and where human-readable text goes. Light: argparse and the standard library only."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

#: An output path that means standard output.
STDOUT = "-"


class UsageError(Exception):
    """A user error: printed as one line, exit code 2. ``prog`` names the (sub)command."""

    def __init__(self, message: str, prog: str = "scb-verify"):
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (one line, exit 2), with a
    "did you mean" for a mistyped subcommand or choice."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(_with_suggestion(message), self.prog)


def _with_suggestion(message: str) -> str:
    """argparse's "invalid choice: 'chek' (choose from ...)" with the closest choice named."""
    import difflib
    import re

    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if not found:
        return message
    choices = re.findall(r"'?([^,' ]+)'?", found.group(2))
    close = difflib.get_close_matches(found.group(1), choices, n=1)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def int_at_least(minimum: int, what: str) -> Callable[[str], int]:
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


positive_int = int_at_least(1, "a positive integer")
seed = int_at_least(0, "a non-negative integer")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def non_negative_number(text: str) -> float:
    """An argparse type: a finite number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def setting(text: str) -> tuple[str, str]:
    """An argparse type: ``KEY=VALUE``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def settings(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``--set`` pairs as a dict; a key given twice is a usage error."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise UsageError(f"--set {key} given twice ({out[key]!r}, {value!r}); give it once")
        out[key] = value
    return out


def warn(message: str) -> None:
    print(f"scb-verify: {message}", file=sys.stderr)


def human(args: argparse.Namespace) -> TextIO:
    """Where tables and summaries go: stderr when a data output (``--json -``, ``--save -``)
    takes standard output, else stdout."""
    data = (getattr(args, "json", None), getattr(args, "save", None))
    return sys.stderr if STDOUT in map(str, data) else sys.stdout


def check_outputs(**paths: Path | None) -> None:
    """Before any work: each output (option name → path) can be written — ``-`` (standard
    output); a writable device, pipe or socket (written directly); or a file that is not a
    folder, whose nearest existing folder is writable — and no two options name the same one.
    Raises :class:`UsageError` naming the option."""
    from scb_verify.provenance import replaceable

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
