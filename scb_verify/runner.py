"""Runs claims: drives each claim's measurement generator, ships its jobs to an executor.

Every :class:`~scb_verify.claim.Job` is a unit of work submitted to a
``concurrent.futures.Executor`` — by default a local process pool sized to the cores — so a
distributed engine can slot in (through the ``register_executors`` hook) without touching claims.
Claims run concurrently; each has a deadline. A claim whose plugin code raises, or whose job
raises, gets an ``error`` verdict with the traceback; the other claims go on and keep their
results. The results file is :mod:`scb_verify.schema`'s.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scb_verify import kernels
from scb_verify.claim import Budget, Claim, ClaimContext, ClaimOutcome, Job
from scb_verify.hookspecs import hookimpl
from scb_verify.learner import RunResult
from scb_verify.provenance import config_hash
from scb_verify.schema import label_checks
from scb_verify.verdict import Status, combine

_REGISTRY_CACHE: dict[tuple[str, ...], Any] = {}


def execute_job(job: Job, plugins: tuple[str, ...] = ()) -> list[RunResult]:
    """Train one job (in whatever process the executor chose); the registry is cached per
    process and plugin list."""
    from scb_verify.registry import load_registry
    from scb_verify.training import train

    if plugins not in _REGISTRY_CACHE:
        _REGISTRY_CACHE[plugins] = load_registry(plugins)
    return train(_REGISTRY_CACHE[plugins].algorithm(job.algorithm), list(job.specs))


# --------------------------------------------------------------------------- executors


class SerialExecutor(cf.Executor):
    """Runs each submission immediately in this process (``--jobs 1``, debugging)."""

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
    """A process pool of ``jobs`` workers (spawned, so torch state is never forked); each
    worker gets ⌊cores / jobs⌋ threads (torch's and the compiled kernels'). ``jobs = 1`` runs in
    this process, with one thread (the claims' tensors are small: measured 10× faster than two
    threads on a busy 2-core machine)."""
    if jobs <= 1:
        kernels.set_threads(1)  # tiny tensors: a second thread only adds synchronization
        return SerialExecutor()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    return cf.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(threads,),
    )


@dataclass(frozen=True)
class ExecutorFactory:
    """A named way to build an executor: ``create(jobs)`` → ``concurrent.futures.Executor``."""

    name: str
    create: Callable[[int], cf.Executor]
    summary: str = ""


@hookimpl
def register_executors():
    return [ExecutorFactory("local", local_executor, "local process pool (default)")]


# --------------------------------------------------------------------------- claim runs


@dataclass
class ClaimReport:
    """The record of one claim run (one entry of the results file's ``claims`` list)."""

    id: str
    control: bool
    learner: str | None
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
    #: Reference learners of this claim's runs that received the ground truth (Algorithm.reference).
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
            learner=ctx.learner,
            status=Status.ERROR,
            description=claim.describe(),
            config_hash=config_hash(
                {
                    "claim": claim.id,
                    "budget": ctx.budget,
                    "learner": ctx.learner,
                    "settings": dict(ctx.settings),
                    "control": ctx.control,
                    "grid": claim.grid(ctx.budget),
                }
            ),
        )
        self.gen = claim.measure(ctx)
        self.pending: dict[cf.Future, int] = {}
        self.results: list[list[RunResult] | None] = []
        self.done = False

    def advance(self, send: list[list[RunResult]] | None) -> list[Job]:
        """Step the generator; returns the next jobs ([] once finished)."""
        try:
            jobs = next(self.gen) if send is None else self.gen.send(send)
        except StopIteration as stop:
            self.finish(stop.value)
            return []
        if not jobs:
            raise RuntimeError(f"{self.claim.id}: measure() yielded an empty job list")
        return jobs

    def record(self, results: list[RunResult]) -> None:
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
        self.report.status = Status.ERROR
        self.report.error = message
        for f in self.pending:
            f.cancel()
        self.close()

    def close(self) -> None:
        self.report.wall_time = time.perf_counter() - self.t0
        self.report.seeds.sort()
        self.done = True


def run_claims(
    claims: Sequence[Claim],
    *,
    budget: Budget,
    executor: cf.Executor,
    learner: str | None = None,
    control: bool = False,
    timeout: float = 3600.0,
    plugins: Sequence[str] = (),
    on_done: Callable[[ClaimReport], None] | None = None,
) -> list[ClaimReport]:
    """Run ``claims`` (or their negative controls) at ``budget`` on ``executor``.

    ``learner`` substitutes the learner under test of every claim that trains (claims that
    train nothing are skipped then). Each claim gets ``timeout`` seconds of wall time.
    Returns one report per claim run, in the order of ``claims``.
    """
    plugins = tuple(plugins)
    runs: list[_ClaimRun] = []
    for claim in claims:
        if learner is not None and claim.learner is None:
            continue
        name = learner or claim.learner
        ctx = ClaimContext(
            budget=budget,
            learner=name,
            settings=claim.settings_for(name) if name else {},
            control=control,
            substituted=learner is not None,
        )
        try:
            run = _ClaimRun(claim, ctx, time.monotonic() + timeout)
        except Exception:
            run = None
            rep = ClaimReport(
                id=claim.id,
                control=control,
                learner=name,
                status=Status.ERROR,
                description={"id": claim.id},
                error=traceback.format_exc(),
            )
            runs.append(_Finished(rep))
            continue
        runs.append(run)
        _submit(run, None, executor, plugins)
        if run.done and on_done:
            on_done(run.report)
    while True:
        pending = {f: r for r in runs if not r.done for f in r.pending}
        if not pending:
            break
        deadline = min(r.deadline for r in runs if not r.done)
        done, _ = cf.wait(
            pending, timeout=max(0.0, deadline - time.monotonic()), return_when=cf.FIRST_COMPLETED
        )
        for f in done:
            run = pending[f]
            if run.done:
                continue
            idx = run.pending.pop(f)
            try:
                run.results[idx] = f.result()
                run.record(run.results[idx])
            except Exception:
                run.fail(f"job {idx} raised:\n{traceback.format_exc()}")
            else:
                if not run.pending:
                    _submit(run, run.results, executor, plugins)
            if run.done and on_done:
                on_done(run.report)
        now = time.monotonic()
        for run in runs:
            if not run.done and now >= run.deadline:
                run.fail(f"timed out after {timeout:.0f} s")
                if on_done:
                    on_done(run.report)
    return [r.report for r in runs]


class _Finished:
    """A claim that failed before it started (its constructor raised)."""

    def __init__(self, report: ClaimReport):
        self.report, self.done, self.pending, self.deadline = report, True, {}, 0.0


def _submit(run: _ClaimRun, send, executor: cf.Executor, plugins: tuple[str, ...]) -> None:
    try:
        jobs = run.advance(send)
    except Exception:
        run.fail(traceback.format_exc())
        return
    run.results = [None] * len(jobs)
    for i, job in enumerate(jobs):
        run.pending[executor.submit(execute_job, job, plugins)] = i
