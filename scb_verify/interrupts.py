"""Ctrl-C and SIGTERM where they cannot corrupt a run: deferred to safe points while threads
share locks with the main thread, and kept from child processes while they start.

Python raises ``KeyboardInterrupt`` (and the CLI's ``Terminated``) in the main thread between
any two bytecodes. Raised inside ``concurrent.futures.wait`` it can leave a future's lock held
for good (the exception lands after ``_AcquireFutures`` took some of the locks but before its
``with`` block begins) or a ``Condition`` half restored ("release unlocked lock"): measured,
a signal at a random moment of a busy ``wait`` loop left a future's lock held in 524 of 3,000
trials. A pool thread that then completes that future blocks for ever, and stopping the pool
joins that thread: ``scb-verify check`` hung after Ctrl-C (twice in two CI runs of the suite
on a loaded 2-core machine). :func:`deferred` records such a signal instead and lets the code
raise it at a point of its choosing (:meth:`Deferred.deliver`), with the handler that was
installed (so it raises exactly what it would have raised).

:func:`blocked_in_children` is the other half: a process started while SIGINT is blocked in the
starting thread begins with it blocked, through exec, so a Ctrl-C cannot reach it before it
has set up its own handling (a spawned worker's import traceback), and the parent receives the
signal once it unblocks, rather than losing it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The signals :func:`deferred` holds back: Ctrl-C and ``kill``'s default.
DEFERRED = (signal.SIGINT, signal.SIGTERM)


class Deferred:
    """The signals that arrived while :func:`deferred` held them back, in order."""

    def __init__(self, handlers: dict[int, object]):
        self._handlers = handlers
        self._arrived: list[int] = []

    def record(self, signum: int, frame: object) -> None:
        self._arrived.append(signum)

    def deliver(self) -> None:
        """Run the handler of the first signal that arrived (which raises, for Ctrl-C and the
        CLI's SIGTERM), once; nothing if none arrived."""
        if self._arrived:
            signum, self._arrived[:] = self._arrived[0], []
            handler = self._handlers[signum]
            if callable(handler):
                handler(signum, None)


@contextmanager
def deferred(signals: tuple[int, ...] = DEFERRED) -> Iterator[Deferred]:
    """Hold back each of ``signals`` whose handler is Python code (Ctrl-C's default
    ``KeyboardInterrupt`` included) while the block runs: a signal that arrives is recorded,
    and its handler runs at :meth:`Deferred.deliver` or, at the latest, when the block ends.
    Outside the main thread (where handlers cannot be changed) nothing is held back."""
    if threading.current_thread() is not threading.main_thread():
        yield Deferred({})
        return
    handlers = {s: signal.getsignal(s) for s in signals}
    handlers = {s: h for s, h in handlers.items() if callable(h)}
    pending = Deferred(handlers)
    for s in handlers:
        signal.signal(s, pending.record)
    try:
        yield pending
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
        pending.deliver()


@contextmanager
def blocked_in_children() -> Iterator[None]:
    """Block SIGINT in the calling thread while the block runs: processes (and threads) it
    starts begin with SIGINT blocked, which exec keeps; a process unblocks it once it ignores
    or handles it (:func:`scb_verify.pool._init_worker`). A Ctrl-C that arrives meanwhile
    waits, pending, until the calling thread unblocks it (or another thread takes it), and is
    not lost."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
