"""Where training jobs run: the job's entry point and the built-in executors.

A :class:`~scb_verify.claim.Job` is trained by :func:`execute_job` in whatever process an
executor chose. Executors are ``concurrent.futures.Executor`` objects made by the factories the
``register_executors`` hook returns (:class:`~scb_verify.hookspecs.ExecutorFactory`); this
module is the built-in plugin that registers ``local`` (a process pool, the default). The Ray
executor lives in :mod:`scb_verify.ray_executor`. Whatever the executor, a job whose process
died (a signal, an exit, a lost node) fails its future with :class:`WorkerDied` or, in the local
pool, pebble's ``ProcessExpired``; :func:`worker_death` reads either, so the claim's error names
how the worker died rather than carrying a traceback. :class:`SerialExecutor` runs jobs in the
calling process (falsifier searches, debugging): nothing isolates a job there, so the runner
never uses it for claims.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from scb_verify.claim import Job
from scb_verify.hookspecs import ExecutorFactory, hookimpl
from scb_verify.runs import RunResult

#: A job runner: trains one job and returns its results (what claims and falsifiers are handed).
JobRunner = Callable[[Job], list[RunResult]]

_REGISTRIES: dict[tuple[str, ...], Any] = {}


def registry(plugins: Sequence[str] = ()):
    """The plugin registry of ``plugins``, built once per process (workers build their own)."""
    key = tuple(plugins)
    if key not in _REGISTRIES:
        from scb_verify.registry import load_registry

        _REGISTRIES[key] = load_registry(key)
    return _REGISTRIES[key]


class WorkerDied(RuntimeError):
    """The process running a job died (its message says how: ``"Ray: the worker crashed 4
    times"``); what an executor's future raises for it (the executor contract of
    :class:`~scb_verify.hookspecs.ExecutorFactory`)."""


def worker_death(exc: BaseException) -> str | None:
    """How a job's worker died (``"killed by signal SIGKILL"``, ``"exit code 3"``, a
    :class:`WorkerDied`'s message), or None if ``exc`` is not a worker's death."""
    if isinstance(exc, WorkerDied):
        return str(exc)
    import pebble

    if not isinstance(exc, pebble.ProcessExpired):
        return None
    code = exc.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def execute_job(job: Job, plugins: tuple[str, ...] = ()) -> list[RunResult]:
    """Train one job with its registered algorithm (in whatever process the executor chose):
    compatible specs are stacked into one computation (:func:`scb_verify.training.train`)."""
    from scb_verify.training import train

    return train(registry(plugins).algorithm(job.algorithm), list(job.specs))


class SerialExecutor(cf.Executor):
    """Runs each submission at once in this process (falsifier searches, debugging): no worker
    to crash or to stop, so neither crash isolation nor job deadlines apply."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:
            future.set_exception(e)
        return future


def _worker_init(threads: int) -> None:
    from scb_verify import kernels

    kernels.set_threads(threads)


def local_executor(jobs: int) -> cf.Executor:
    """A :class:`~scb_verify.pool.ProcessPool` of ``jobs`` spawned workers, each with
    ⌊cores / jobs⌋ threads (torch's and the compiled kernels'; one when ``jobs = 1``: the
    claims' tensors are small, and a second thread was measured 10× slower on a busy 2-core
    machine). A worker that dies or overruns its deadline costs only its own job; with one
    worker too, so ``--jobs 1`` isolates jobs as any other count does."""
    from scb_verify.pool import ProcessPool

    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 1
    return ProcessPool(jobs, initializer=f"{__name__}:_worker_init", initargs=(threads,))


@hookimpl
def register_executors():
    return [ExecutorFactory("local", local_executor, "local process pool (default)")]
