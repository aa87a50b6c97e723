"""Runs claims: drives each claim's measurement generator, ships its jobs to an executor.

Every :class:`~scb_verify.claim.Job` is a unit of work submitted to a
``concurrent.futures.Executor`` — by default a local process pool sized to the cores — so a
distributed engine can slot in (through the ``register_executors`` hook) without touching claims.
Claims run concurrently; each claim and each job has a deadline (:data:`DEADLINES`). A claim
whose plugin code raises, whose job raises, whose job's worker dies or that overruns a deadline
gets an ``error`` verdict saying so (the traceback, the signal or exit code, ``timed out after
N s``); the other claims go on and keep their results. The results file is
:mod:`scb_verify.schema`'s.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scb_verify import kernels
from scb_verify.algorithm import SettingsError
from scb_verify.cache import JobCache
from scb_verify.claim import Budget, Claim, ClaimContext, ClaimOutcome, Job, measurement
from scb_verify.hookspecs import ExecutorFactory, hookimpl
from scb_verify.pool import ProcessPool, worker_death
from scb_verify.progress import ClaimProgress
from scb_verify.provenance import config_hash
from scb_verify.registry import load_registry
from scb_verify.runs import RunResult
from scb_verify.schema import label_checks
from scb_verify.training import train
from scb_verify.verdict import Status, combine

_REGISTRY_CACHE: dict[tuple[str, ...], Any] = {}


def _registry(plugins: tuple[str, ...]):
    """The registry of ``plugins``, built once per process."""
    if plugins not in _REGISTRY_CACHE:
        _REGISTRY_CACHE[plugins] = load_registry(plugins)
    return _REGISTRY_CACHE[plugins]


def execute_job(job: Job, plugins: tuple[str, ...] = ()) -> list[RunResult]:
    """Train one job (in whatever process the executor chose); the registry is cached per
    process and plugin list."""
    return train(_registry(plugins).algorithm(job.algorithm), list(job.specs))


# --------------------------------------------------------------------------- executors


class SerialExecutor(cf.Executor):
    """Runs each submission immediately in this process (tests, debugging, ``--scb-jobs 1``):
    no worker to crash or to stop, so neither crash isolation nor job deadlines apply."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:
            future.set_exception(e)
        return future


def _worker_init(threads: int) -> None:
    kernels.set_threads(threads)


def local_executor(jobs: int) -> cf.Executor:
    """A :class:`~scb_verify.pool.ProcessPool` of ``jobs`` spawned workers, each with
    ⌊cores / jobs⌋ threads (torch's and the compiled kernels'; one when ``jobs = 1``: the
    claims' tensors are small, and a second thread was measured 10× slower on a busy 2-core
    machine). A worker that dies or overruns its deadline costs only its own job."""
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 1
    return ProcessPool(jobs, initializer=_worker_init, initargs=(threads,))


@hookimpl
def register_executors():
    return [ExecutorFactory("local", local_executor, "local process pool (default)")]


# --------------------------------------------------------------------------- claim runs


@dataclass
class ClaimReport:
    """The record of one claim run (one entry of the results file's ``claims`` list)."""

    id: str
    control: bool
    algorithm: str | None
    status: Status
    description: dict[str, Any]
    checks: list[dict[str, Any]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    samples: int = 0
    runs: int = 0
    wall_time: float = 0.0
    config_hash: str = ""
    error: str | None = None
    #: Reference algorithms among this claim's runs, which received the ground truth
    #: (Algorithm.reference).
    truth_readers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "status": self.status.value}


class _ClaimRun:
    """The state of one claim while the runner drives it."""

    def __init__(self, claim: Claim, ctx: ClaimContext, deadline: float):
        self.claim, self.ctx, self.deadline = claim, ctx, deadline
        self.t0 = time.perf_counter()
        self.report = ClaimReport(
            id=claim.id,
            control=ctx.control,
            algorithm=ctx.algorithm,
            status=Status.ERROR,
            description=claim.describe(),
            config_hash=config_hash(
                {
                    "claim": claim.id,
                    "budget": ctx.budget,
                    "algorithm": ctx.algorithm,
                    "settings": dict(ctx.settings),
                    "control": ctx.control,
                    "grid": claim.grid(ctx.budget).as_dict(),
                }
            ),
        )
        self.gen = measurement(claim, ctx)
        self.jobs: list[Job] = []
        self.keys: list[str | None] = []
        self.pending: dict[cf.Future, int] = {}
        self.started: dict[cf.Future, float] = {}
        self.results: list[list[RunResult] | None] = []
        self.done = False
        self.jobs_done = self.jobs_total = self.samples_total = 0

    def step(self, send: list[list[RunResult]] | None) -> tuple[str, Any]:
        """Step the generator (in the step thread; touches nothing but the generator):
        ``("jobs", jobs)`` or ``("outcome", value)`` once it returned."""
        try:
            return "jobs", (next(self.gen) if send is None else self.gen.send(send))
        except StopIteration as stop:
            return "outcome", stop.value

    def stepped(self, kind: str, value: Any) -> list[Job]:
        """Apply a step's result; returns the jobs to submit ([] once finished)."""
        if kind == "outcome":
            self.finish(value)
            return []
        if not value or not all(isinstance(j, Job) for j in value):
            raise RuntimeError(f"{self.claim.id}: measure() must yield a non-empty list of Job")
        self.jobs_total += len(value)
        self.samples_total += sum(spec.samples for job in value for spec in job.specs)
        return [self.ctx.apply(job) for job in value]

    def record(self, results: list[RunResult]) -> None:
        """Account for one finished job's results."""
        self.jobs_done += 1
        for r in results:
            self.report.samples += r.samples
            self.report.runs += 1
            if r.seed not in self.report.seeds:
                self.report.seeds.append(r.seed)
            if r.read_truth and r.algorithm not in self.report.truth_readers:
                self.report.truth_readers.append(r.algorithm)

    def finish(self, outcome: ClaimOutcome) -> None:
        if not isinstance(outcome, ClaimOutcome):
            raise TypeError(f"{self.claim.id}: measure() must return a ClaimOutcome")
        rep = self.report
        rep.checks = label_checks([c.to_dict() for c in outcome.checks])
        rep.status = combine(outcome.checks)
        rep.measurements, rep.artifacts = outcome.measurements, outcome.artifacts
        self.close()

    def fail(self, message: str) -> None:
        """Record ``message`` as the claim's error and stop its jobs (cancelling a running
        future of :class:`~scb_verify.pool.ProcessPool` terminates its worker)."""
        self.report.status = Status.ERROR
        self.report.error = message
        for f in self.pending:
            f.cancel()
        self.pending.clear()
        self.close()

    def close(self) -> None:
        self.report.wall_time = time.perf_counter() - self.t0
        self.report.seeds.sort()
        self.done = True

    def progress(self) -> ClaimProgress:
        return ClaimProgress(
            claim=self.claim.id,
            jobs_done=self.jobs_done,
            jobs_total=self.jobs_total,
            samples_done=self.report.samples,
            samples_total=self.samples_total,
            elapsed=time.perf_counter() - self.t0,
        )

    def job_name(self, idx: int) -> str:
        label = self.jobs[idx].label
        return f"job {idx}" + (f" ({label})" if label else "")


def run_claims(
    claims: Sequence[Claim],
    *,
    budget: Budget,
    executor: cf.Executor,
    algorithm: str | None = None,
    control: bool = False,
    timeout: float | None = None,
    job_timeout: float | None = None,
    plugins: Sequence[str] = (),
    on_done: Callable[[ClaimReport], None] | None = None,
    on_progress: Callable[[list[ClaimProgress]], None] | None = None,
    cache: JobCache | None = None,
) -> list[ClaimReport]:
    """Run ``claims`` (or their negative controls) at ``budget`` on ``executor``.

    ``algorithm`` substitutes the algorithm under test of every claim that trains (claims that
    train nothing are skipped then). Each claim gets ``timeout`` seconds of wall time from the
    start of the run and each job ``job_timeout`` seconds from the moment its future reports
    running (defaults: :data:`DEADLINES` of the budget); past either, the claim's error is
    ``timed out after N s``, its jobs are cancelled (which stops running ones on executors that
    can) and the other claims go on. A job whose worker died makes its claim's error name the
    signal or exit code. ``on_done(report)`` is called as each claim finishes, and
    ``on_progress(running)`` whenever the runner wakes (a job finished or started, a step
    returned) with the :class:`~scb_verify.progress.ClaimProgress` of each running claim.
    With ``cache``, a job whose results it holds is not submitted, and every job that
    completes is stored (by the driver, so workers need no shared disk). Returns one report per
    claim run, in the order of ``claims``.

    The claims' measurement code runs one step at a time on a helper thread, so a measurement
    that never returns holds only its own claim, until its deadline; it is then abandoned (a
    Python thread cannot be stopped: it ends with the process).
    """
    limits = DEADLINES[budget]
    timeout = limits.claim if timeout is None else timeout
    job_timeout = limits.job if job_timeout is None else job_timeout
    plugins = tuple(plugins)
    runs: list[_ClaimRun | _Finished] = []
    steps: deque[tuple[_ClaimRun, list[list[RunResult]] | None]] = deque()
    t_start = time.monotonic()
    for claim in claims:
        if algorithm is not None and claim.algorithm is None:
            continue
        name = algorithm or claim.algorithm
        ctx = ClaimContext(
            budget=budget,
            algorithm=name,
            settings=claim.settings_for(name) if name else {},
            control=control,
        )
        try:
            run = _ClaimRun(claim, ctx, t_start + timeout)
        except Exception:
            rep = ClaimReport(
                id=claim.id,
                control=control,
                algorithm=name,
                status=Status.ERROR,
                description={"id": claim.id},
                error=traceback.format_exc(),
            )
            runs.append(_Finished(rep))
            if on_done:
                on_done(rep)
            continue
        runs.append(run)
        steps.append((run, None))

    def failed(run: _ClaimRun, message: str) -> None:
        run.fail(message)
        if on_done:
            on_done(run.report)

    # Measurement steps of different claims overlap where the compiled kernels' thread pool
    # allows concurrent calls (a claim may sample in its measurement); otherwise they take turns.
    overlap = kernels.concurrent_calls_safe()
    stepping: dict[cf.Future, _ClaimRun] = {}
    while True:
        while steps and (overlap or not stepping):
            run, send = steps.popleft()
            stepping[_in_thread(run.step, send)] = run
        live = [r for r in runs if not r.done]
        waiting = {f: r for r in live for f in r.pending}
        if not stepping and not waiting:
            break
        now = time.monotonic()
        wake = [r.deadline for r in live]
        for f, r in waiting.items():
            if f not in r.started and f.running():
                r.started[f] = now
            if f in r.started:
                wake.append(r.started[f] + job_timeout)
            elif math.isfinite(job_timeout):
                wake.append(now + JOB_START_POLL)  # to notice when the job starts
        done, _ = cf.wait(
            [*waiting, *stepping],
            timeout=max(0.0, min(wake) - now),
            return_when=cf.FIRST_COMPLETED,
        )
        for future in [f for f in done if f in stepping]:
            run = stepping.pop(future)
            try:
                jobs = run.stepped(*future.result())
            except Exception:
                failed(run, traceback.format_exc())
            else:
                if run.done:
                    if on_done:
                        on_done(run.report)
                else:
                    run.jobs, run.results = jobs, [None] * len(jobs)
                    run.keys = [None] * len(jobs)
                    for i, job in enumerate(jobs):
                        if cache is not None:
                            run.keys[i], run.results[i] = _lookup(cache, job, plugins)
                        if run.results[i] is None:
                            run.pending[executor.submit(execute_job, job, plugins)] = i
                        else:
                            run.record(run.results[i])
                    if not run.pending:
                        steps.append((run, run.results))
        for f in done:
            run = waiting.get(f)
            if run is None or run.done or f not in run.pending:
                continue
            idx = run.pending.pop(f)
            run.started.pop(f, None)
            try:
                run.results[idx] = f.result()
            except Exception as e:
                death = worker_death(e)
                if death is not None:
                    failed(run, f"{run.job_name(idx)}: worker process died ({death})")
                else:
                    failed(run, f"{run.job_name(idx)} raised:\n{traceback.format_exc()}")
                continue
            run.record(run.results[idx])
            if cache is not None and run.keys[idx] is not None:
                cache.put(run.keys[idx], run.results[idx])
            if not run.pending:
                steps.append((run, run.results))
        now = time.monotonic()
        for run in live:
            if run.done:
                continue
            if now >= run.deadline:
                failed(run, f"timed out after {timeout:g} s")
            else:
                late = [f for f, t in run.started.items() if now >= t + job_timeout]
                if late:
                    name = run.job_name(run.pending[late[0]])
                    failed(run, f"{name} timed out after {job_timeout:g} s")
            if run.done:
                steps = deque(s for s in steps if s[0] is not run)
                # A step still running is abandoned: its thread ends with the process.
                stepping = {f: r for f, r in stepping.items() if r is not run}
        if on_progress:
            on_progress([r.progress() for r in live if not r.done])
    return [r.report for r in runs]


@dataclass(frozen=True)
class Deadlines:
    """Wall-clock limits in seconds: per claim (from the start of the run) and per job."""

    claim: float
    job: float


#: Default limits per budget (``check --timeout`` / ``--job-timeout`` override them): about ten
#: times the longest claim and job measured at that budget on 2 cores.
DEADLINES: dict[str, Deadlines] = {
    "smoke": Deadlines(claim=600.0, job=300.0),
    "ci": Deadlines(claim=3600.0, job=1200.0),
    "full": Deadlines(claim=8 * 3600.0, job=3 * 3600.0),
}

#: How often the runner looks whether a submitted job has started (its deadline counts from then).
JOB_START_POLL = 0.5


class _Finished:
    """A claim that failed before it started (its constructor raised)."""

    def __init__(self, report: ClaimReport):
        self.report, self.done, self.pending, self.deadline = report, True, {}, 0.0


def _lookup(
    cache: JobCache, job: Job, plugins: tuple[str, ...]
) -> tuple[str | None, list[RunResult] | None]:
    """``(key, cached results or None)``; no key when the job names an algorithm or settings
    that do not resolve (its worker then raises the error)."""
    try:
        algorithm = _registry(plugins).algorithm(job.algorithm)
    except KeyError:
        return None, None
    try:
        return cache.lookup(algorithm, job)
    except SettingsError:
        return None, None


def _in_thread(fn: Callable[..., Any], *args: Any) -> cf.Future:
    """``fn(*args)`` on a new daemon thread, as a future (a thread that never returns does not
    keep the process alive)."""
    future: cf.Future = cf.Future()
    future.set_running_or_notify_cancel()

    def target() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as e:
            future.set_exception(e)

    threading.Thread(target=target, daemon=True, name="scb-verify claim step").start()
    return future
