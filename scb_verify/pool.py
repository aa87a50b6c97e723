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
from multiprocessing import resource_tracker

import pebble

from scb_verify import interrupts

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
        """Schedule ``fn(*args, **kwargs)``. The first schedule spawns the workers and the
        pool's threads with SIGINT blocked (:func:`scb_verify.interrupts.blocked_in_children`):
        a worker starts with it blocked, through exec, and :func:`_init_worker` ignores it
        before unblocking it, so a Ctrl-C cannot print a starting worker's import traceback
        (or leave the pool waiting on it); workers pebble respawns later (after a death or a
        deadline) inherit the block from the pool's thread. A Ctrl-C meanwhile reaches this
        process once the schedule is done.

        multiprocessing's resource tracker is started first: starting, it *unblocks* SIGINT
        and SIGTERM in the calling thread (CPython's ``resource_tracker.ensure_running``),
        which inside the block let workers start with Ctrl-C live (measured: 9 of 40 Ctrl-C
        moments during the workers' start printed their KeyboardInterrupt tracebacks)."""
        resource_tracker.ensure_running()
        with interrupts.blocked_in_children():
            return self._pool.schedule(fn, args=args, kwargs=kwargs)

    def __exit__(self, exc_type, exc, tb) -> bool:
        """Leaving a ``with`` block normally waits for the submitted jobs; leaving it by an
        exception (an interrupt, a signal, a bug) stops them and their workers at once, with
        Ctrl-C and SIGTERM deferred until they are stopped (a second Ctrl-C cannot leave a
        worker running)."""
        if exc_type is None:
            self.shutdown(wait=True)
        else:
            with interrupts.deferred():
                self.shutdown(wait=True, cancel_futures=True)
        return False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Finish the submitted jobs (or, with ``cancel_futures``, stop them and their
        workers)."""
        if cancel_futures:
            self._pool.stop()
            self._terminate_workers()
        else:
            self._pool.close()
        if wait:
            self._pool.join()

    def _terminate_workers(self) -> None:
        """SIGTERM every worker once pebble's manager thread, which replaces workers that end,
        has stopped. pebble's own stop closes the workers' channel, unlinking its semaphores,
        *before* it terminates them, and a worker still starting then failed to unpickle them
        with a FileNotFoundError traceback (1 of 40 Ctrl-C moments during the workers' start);
        terminated first, a starting worker ends silently. Reads pebble's private state, and
        does nothing where a pebble version lacks it (its own stop still stops the workers)."""
        manager_thread = getattr(self._pool, "_pool_manager_loop", None)
        if manager_thread is not None:
            manager_thread.join()
        manager = getattr(getattr(self._pool, "_pool_manager", None), "worker_manager", None)
        for process in list(getattr(manager, "workers", {}).values()):
            process.terminate()


def _init_worker(parent: int, initializer: str | None, initargs: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers, so
    # a worker ignores it rather than print a KeyboardInterrupt traceback of its own. It
    # started with SIGINT blocked (ProcessPool.submit); ignoring discards one pending, and
    # only then is it unblocked, before the initializer's module, the first heavy import.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    if initializer is not None:
        module, _, name = initializer.partition(":")
        getattr(importlib.import_module(module), name)(*initargs)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)
