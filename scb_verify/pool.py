"""The local process pool: training jobs in spawned worker processes, one dying worker costing
only its own job.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one worker dies (SIGKILL, the
OOM killer, ``os._exit``): every pending future fails with ``BrokenProcessPool`` and the job that
killed it cannot be told apart. :class:`ProcessPool` runs on pebble's pool instead, where each
worker runs one job at a time, a worker that dies fails only the future of the job it was
running (:func:`scb_verify.executors.worker_death` says how it died) and is replaced, and
cancelling a *running* future terminates its worker — the runner's deadlines use that to stop
work that overran.

Workers exit by themselves when the process that started them is gone (``kill -9`` of
``scb-verify check`` leaves no worker behind to finish, or hang, on its own), ignore Ctrl-C
(the parent stops them) and are stopped at once when the pool's ``with`` block is left by an
exception.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import multiprocessing
import os
import signal
import threading
import time

import pebble

#: How often a worker checks that its parent process is still alive (seconds).
PARENT_POLL = 1.0


class ProcessPool(cf.Executor):
    """``workers`` spawned processes (torch state is never forked), each set up by the function
    ``initializer`` names (``"module:function"``, imported in the worker once it ignores
    Ctrl-C) called with ``initargs``; a ``concurrent.futures.Executor`` whose futures stop their
    worker when cancelled while running."""

    def __init__(self, workers: int, initializer: str | None = None, initargs: tuple = ()):
        self._pool = pebble.ProcessPool(
            max_workers=workers,
            context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(), initializer, initargs),
        )

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        """Schedule ``fn(*args, **kwargs)``. The first schedule spawns the workers; it runs with
        SIGINT ignored (from the main thread, the only one that may change it), and an ignored
        signal stays ignored through exec, so a Ctrl-C cannot reach a worker still starting up,
        before :func:`_init_worker` ignores it (it printed that worker's import traceback and
        could leave the pool waiting on it). A worker pebble respawns later (after a death or a
        deadline) is covered from its first light import on: its payload names the initializer
        by string, so nothing heavy loads before it ignores Ctrl-C. A Ctrl-C landing in those
        few milliseconds of the parent is lost; the next one works."""
        if threading.current_thread() is not threading.main_thread():
            return self._pool.schedule(fn, args=args, kwargs=kwargs)
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return self._pool.schedule(fn, args=args, kwargs=kwargs)
        finally:
            signal.signal(signal.SIGINT, handler)

    def __exit__(self, exc_type, exc, tb) -> bool:
        """Leaving a ``with`` block normally waits for the submitted jobs; leaving it by an
        exception (an interrupt, a signal, a bug) stops them and their workers at once."""
        self.shutdown(wait=True, cancel_futures=exc_type is not None)
        return False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Finish the submitted jobs (or, with ``cancel_futures``, stop them and their
        workers)."""
        if cancel_futures:
            self._pool.stop()
        else:
            self._pool.close()
        if wait:
            self._pool.join()


def _init_worker(parent: int, initializer: str | None, initargs: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers, so
    # a worker ignores it rather than print a KeyboardInterrupt traceback of its own — before
    # it imports the initializer's module, the first heavy import.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    if initializer is not None:
        module, _, name = initializer.partition(":")
        getattr(importlib.import_module(module), name)(*initargs)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)
