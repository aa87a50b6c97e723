"""Progress display for long runs: a tqdm bar on stderr, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


def progress_enabled(quiet: bool = False) -> bool:
    """True when stderr is a terminal and the user did not ask for ``--quiet``."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(
    total: int, desc: str, *, quiet: bool = False, unit: str = "sample"
) -> Iterator[Callable[[int, int], None]]:
    """Yield ``update(done, total)``; draws a bar when :func:`progress_enabled`."""
    if not progress_enabled(quiet):
        yield lambda done, total: None
        return
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
