"""Drives claims: steps each claim's measurement generator and ships its jobs to an executor.

Every :class:`~scb_verify.claim.Job` a claim yields is submitted to a
``concurrent.futures.Executor`` (:mod:`scb_verify.executors`; a distributed engine slots in
through the ``register_executors`` hook without touching claims). Claims run concurrently; each
claim and each job has a deadline (:data:`DEADLINES`). A claim whose plugin code raises, whose
outcome cannot be recorded, whose job raises, whose job's worker dies or that overruns a
deadline gets an ``error`` verdict saying so (the traceback, the field, the signal or exit code,
``timed out after N s``); the other claims go on and keep their results. The record of each run
is a :class:`~scb_verify.records.ClaimRun`, built by :meth:`ClaimRun.from_outcome`.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scb_verify import interrupts
from scb_verify.algorithm import SettingsError
from scb_verify.cache import JobCache
from scb_verify.claim import Budget, Claim, ClaimContext, ClaimOutcome, Job, measurement
from scb_verify.executors import execute_job, registry, worker_death
from scb_verify.family import FamilyError
from scb_verify.progress import ClaimProgress
from scb_verify.provenance import config_hash
from scb_verify.records import ClaimRun, OutcomeError, run_key
from scb_verify.runs import RunResult
from scb_verify.session import DEADLINES, Configuration, Deadlines

#: How often the runner looks whether a submitted job has started (its deadline counts from then).
JOB_START_POLL = 0.5

#: The longest the runner waits before it looks for a deferred Ctrl-C or SIGTERM (seconds).
SIGNAL_POLL = 0.2


class _ClaimRun:
    """The state of one claim while the runner drives it; ``record`` once it is finished."""

    def __init__(self, planned: Planned, limits: Deadlines):
        self.planned, self.claim, self.ctx = planned, planned.claim, planned.ctx
        self.limits = limits
        claim, ctx = self.claim, self.ctx
        self.t0 = time.monotonic()
        self.queued = 0.0  # seconds every pending job of this claim sat in the queue
        self.description = claim.describe()
        self.config_hash = config_hash(
            {
                "claim": claim.id,
                "budget": ctx.budget,
                "algorithm": ctx.algorithm,
                "settings": dict(ctx.settings),
                "control": ctx.control,
                "grid": claim.grid(ctx.budget).as_dict(),
                **({"family": dict(ctx.family)} if ctx.family else {}),
            }
        )
        self.gen = measurement(claim, ctx)
        self.jobs: list[Job] = []
        self.keys: list[str | None] = []
        self.pending: dict[cf.Future, int] = {}
        self.started: dict[cf.Future, float] = {}
        self.results: list[list[RunResult] | None] = []
        self.record: ClaimRun | None = None
        self.seeds: set[int] = set()
        self.trained: set[str] = set()
        self.truth_readers: set[str] = set()
        self.samples = self.runs = self.jobs_done = self.jobs_total = self.samples_total = 0

    @property
    def done(self) -> bool:
        return self.record is not None

    @property
    def deadline(self) -> float:
        return self.t0 + self.queued + self.limits.claim

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

    def account(self, results: list[RunResult]) -> None:
        """Account for one finished job's results."""
        self.jobs_done += 1
        for r in results:
            self.samples += r.samples
            self.runs += 1
            self.seeds.add(r.seed)
            self.trained.add(r.algorithm)
            if r.read_truth:
                self.truth_readers.add(r.algorithm)

    def facts(self) -> dict[str, Any]:
        return {
            "seeds": sorted(self.seeds),
            "samples": self.samples,
            "runs": self.runs,
            "wall_time": time.monotonic() - self.t0,
            "config_hash": self.config_hash,
            "trained": sorted(self.trained),  # sorted: not in the order jobs finished
            "truth_readers": sorted(self.truth_readers),
            "settings": dict(self.planned.settings),
            "family": dict(self.ctx.family),
            "configuration": self.planned.configuration,
        }

    def finish(self, outcome: ClaimOutcome) -> None:
        if not isinstance(outcome, ClaimOutcome):
            raise TypeError(f"{self.claim.id}: measure() must return a ClaimOutcome")
        self.record = ClaimRun.from_outcome(
            id=self.claim.id,
            control=self.ctx.control,
            algorithm=self.ctx.algorithm,
            description=self.description,
            checks=outcome.checks,
            measurements=outcome.measurements,
            artifacts=outcome.artifacts,
            **self.facts(),
        )

    def fail(self, message: str) -> None:
        """Record ``message`` as the claim's error and stop its jobs (cancelling a running
        future of :class:`~scb_verify.pool.ProcessPool` terminates its worker)."""
        self.record = ClaimRun.failed(
            id=self.claim.id,
            control=self.ctx.control,
            algorithm=self.ctx.algorithm,
            description=self.description,
            error=message,
            **self.facts(),
        )
        for f in self.pending:
            f.cancel()
        self.pending.clear()

    def progress(self) -> ClaimProgress:
        return ClaimProgress(
            claim=run_key(
                self.claim.id,
                configuration=self.planned.configuration,
                family=self.ctx.family,
                control=self.ctx.control,
            ),
            jobs_done=self.jobs_done,
            jobs_total=self.jobs_total,
            samples_done=self.samples,
            samples_total=self.samples_total,
            elapsed=time.monotonic() - self.t0,
        )

    def job_name(self, idx: int) -> str:
        label = self.jobs[idx].label
        return f"job {idx}" + (f" ({label})" if label else "")


@dataclass(frozen=True)
class Planned:
    """One claim run of a plan: the claim, its context, and how its record names the
    configuration (``configuration``: its label in a sweep, the settings it overrode
    otherwise, "" for the plain run) and the settings it overrode."""

    claim: Claim
    ctx: ClaimContext
    configuration: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)


def plan(
    claims: Sequence[Claim],
    *,
    budget: Budget,
    control: bool = False,
    configurations: Sequence[Configuration] = (Configuration(),),
    families: Sequence[Mapping[str, Any]] = ({},),
) -> list[Planned]:
    """Every claim run of ``claims`` × ``configurations`` × ``families``, family by family and
    claim by claim. A claim whose statement excludes a family (:meth:`Claim.excludes`) is left
    out of it (:func:`scb_verify.session.excluded` says why). A claim that trains nothing runs
    once per family — outside a sweep, only when the configuration keeps each claim's own
    algorithm (:func:`scb_verify.session.skipped` says why it is left out otherwise). The
    algorithm under test gets the claim's own settings for it (:meth:`Claim.settings_for`) with the
    configuration's on top."""
    sweep = len(configurations) > 1
    out = []
    for family in families:
        for claim in claims:
            if family and claim.excludes(family) is not None:
                continue
            for config in configurations:
                if claim.algorithm is None and config.algorithm is not None and not sweep:
                    continue
                if config.algorithm not in (None, claim.algorithm) and not claim.substitutable:
                    continue  # a claim about one model (session.skipped says why)
                name = (config.algorithm or claim.algorithm) if claim.algorithm else None
                overrides = dict(config.settings) if name else {}
                if claim.algorithm is None and any(p.claim is claim and p.ctx.family == family
                                                   for p in out):  # fmt: skip
                    continue
                chosen = {**claim.settings_for(name), **overrides} if name else {}
                ctx = ClaimContext(budget, name, chosen, control, dict(family))
                label = config.label if sweep else ",".join(f"{k}={v}" for k, v in config.settings)
                out.append(Planned(claim, ctx, label if name else "", overrides))
    return out


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
    on_done: Callable[[ClaimRun], None] | None = None,
    on_progress: Callable[[list[ClaimProgress]], None] | None = None,
    cache: JobCache | None = None,
    settings: Mapping[str, str] | None = None,
    family: Mapping[str, Any] | None = None,
) -> list[ClaimRun]:
    """Run ``claims`` (or their negative controls) at ``budget`` on ``executor``: one
    configuration — ``algorithm`` substituting the algorithm under test of every claim that
    trains (claims that train nothing are skipped then), ``settings`` overriding its settings
    (validated beforehand: :func:`scb_verify.session.check_settings`) — on one instance
    ``family`` (:mod:`scb_verify.family`). :func:`run_plan` runs sweeps (:func:`plan`); the
    other arguments are its."""
    config = Configuration(algorithm, tuple(sorted((settings or {}).items())))
    planned = plan(
        claims, budget=budget, control=control, configurations=[config], families=[family or {}]
    )
    return run_plan(
        planned,
        executor=executor,
        timeout=timeout,
        job_timeout=job_timeout,
        plugins=plugins,
        on_done=on_done,
        on_progress=on_progress,
        cache=cache,
    )


def run_plan(
    planned: Sequence[Planned],
    *,
    executor: cf.Executor,
    timeout: float | None = None,
    job_timeout: float | None = None,
    plugins: Sequence[str] = (),
    on_done: Callable[[ClaimRun], None] | None = None,
    on_progress: Callable[[list[ClaimProgress]], None] | None = None,
    cache: JobCache | None = None,
) -> list[ClaimRun]:
    """Run the ``planned`` claim runs concurrently on ``executor``; one record per run, in
    plan order.

    Each claim gets ``timeout`` seconds of wall time from the start of the run, not counting
    time when all its jobs wait in the queue behind other claims' running jobs, and each job
    ``job_timeout`` seconds from the moment its future reports running (defaults:
    :data:`DEADLINES` of the budget); past either, the claim's error is ``timed out after N s``,
    its jobs are cancelled (which stops running ones on executors that can) and the other claims
    go on. A job whose worker died makes its claim's error name the signal or exit code.
    ``on_done(record)`` is called as each claim finishes, and ``on_progress(running)`` whenever
    the runner wakes with the :class:`~scb_verify.progress.ClaimProgress` of each running claim.
    With ``cache``, a job whose results it holds is not submitted, and every job that completes
    is stored (by the driver, so workers need no shared disk).

    The claims' measurement code runs one step at a time on a helper thread, so a measurement
    that never returns holds only its own claim, until its deadline; it is then abandoned (a
    Python thread cannot be stopped: it ends with the process).

    Ctrl-C and SIGTERM are deferred (:func:`scb_verify.interrupts.deferred`) and raised where
    the loop wakes, at least every :data:`SIGNAL_POLL` seconds, never inside the executor's
    or the futures' locking (with an executor that runs jobs in this thread, such as
    :class:`~scb_verify.executors.SerialExecutor`, after the job in progress).
    """
    budgets = {p.ctx.budget for p in planned} or {"smoke"}
    limits = DEADLINES[max(budgets, key=list(DEADLINES).index)]
    limits = Deadlines(
        limits.claim if timeout is None else timeout,
        limits.job if job_timeout is None else job_timeout,
    )
    with interrupts.deferred() as signals:
        driver = _Driver(executor, tuple(plugins), cache, limits, on_done or (lambda _: None))
        records = [driver.start(p) for p in planned]
        while driver.busy():
            driver.wait()
            signals.deliver()
            driver.enforce_deadlines()
            if on_progress:
                on_progress([r.progress() for r in driver.live()])
    return [r if isinstance(r, ClaimRun) else r.record for r in records]


class _Driver:
    """The loop's state: the claim runs, the steps waiting for the step thread, the steps and
    jobs in flight."""

    def __init__(self, executor, plugins, cache, limits: Deadlines, on_done):
        self.executor, self.plugins, self.cache = executor, plugins, cache
        self.limits, self.on_done = limits, on_done
        self.runs: list[_ClaimRun] = []
        self.steps: deque[tuple[_ClaimRun, list[list[RunResult]] | None]] = deque()
        self.stepping: dict[cf.Future, _ClaimRun] = {}
        self.last = time.monotonic()
        # Measurement steps of different claims overlap where the compiled kernels' thread
        # pool allows concurrent calls (a claim may sample in its measurement); otherwise
        # they take turns.
        from scb_verify import kernels

        self.overlap = kernels.concurrent_calls_safe()

    def start(self, planned: Planned) -> ClaimRun | _ClaimRun:
        claim, ctx = planned.claim, planned.ctx
        try:
            run = _ClaimRun(planned, self.limits)
        except Exception:
            record = ClaimRun.failed(
                id=claim.id,
                control=ctx.control,
                algorithm=ctx.algorithm,
                error=traceback.format_exc(),
                family=dict(ctx.family),
                configuration=planned.configuration,
                settings=dict(planned.settings),
            )
            self.on_done(record)
            return record
        self.runs.append(run)
        self.steps.append((run, None))
        return run

    def live(self) -> list[_ClaimRun]:
        return [r for r in self.runs if not r.done]

    def busy(self) -> bool:
        self._start_steps()
        return bool(self.stepping) or any(r.pending for r in self.live())

    def _start_steps(self) -> None:
        while self.steps and (self.overlap or not self.stepping):
            run, send = self.steps.popleft()
            self.stepping[_in_thread(run.step, send)] = run

    def wait(self) -> None:
        """Wait for the next step or job to finish (or a deadline) and handle what finished."""
        now = time.monotonic()
        waiting = {f: r for r in self.live() for f in r.pending}
        wake = [r.deadline for r in self.live()]
        for f, r in waiting.items():
            if f not in r.started and f.running():
                r.started[f] = now
            if f in r.started:
                wake.append(r.started[f] + self.limits.job)
            elif math.isfinite(self.limits.job) or math.isfinite(self.limits.claim):
                wake.append(now + JOB_START_POLL)  # to notice when the job starts
        done, _ = cf.wait(
            [*waiting, *self.stepping],
            timeout=min(SIGNAL_POLL, max(0.0, min(wake) - now)),
            return_when=cf.FIRST_COMPLETED,
        )
        self._count_queued(waiting)
        for future in [f for f in done if f in self.stepping]:
            self._stepped(self.stepping.pop(future), future)
        for future in done:
            run = waiting.get(future)
            if run is not None and not run.done and future in run.pending:
                self._job_done(run, future)

    def _count_queued(self, waiting: dict[cf.Future, _ClaimRun]) -> None:
        """Add the time since the last wake to the queue time of each claim whose jobs all wait
        behind other claims' running jobs (its deadline moves by as much). An executor whose
        futures never report running (no job seen started) moves no deadline."""
        now = time.monotonic()
        busy = {r for f, r in waiting.items() if f in r.started}
        if busy:
            for run in {r for r in waiting.values()} - busy - set(self.stepping.values()):
                run.queued += now - self.last
        self.last = now

    def _stepped(self, run: _ClaimRun, future: cf.Future) -> None:
        try:
            jobs = run.stepped(*future.result())
        except OutcomeError as e:
            self._fail(run, f"its outcome cannot be recorded: {e}")
            return
        except FamilyError as e:
            self._fail(run, str(e))
            return
        except Exception:
            self._fail(run, traceback.format_exc())
            return
        if run.done:
            self.on_done(run.record)
            return
        run.jobs, run.results, run.keys = jobs, [None] * len(jobs), [None] * len(jobs)
        for i, job in enumerate(jobs):
            if self.cache is not None:
                run.keys[i], run.results[i] = _lookup(self.cache, job, self.plugins)
            if run.results[i] is None:
                run.pending[self.executor.submit(execute_job, job, self.plugins)] = i
            else:
                run.account(run.results[i])
        if not run.pending:
            self.steps.append((run, run.results))

    def _job_done(self, run: _ClaimRun, future: cf.Future) -> None:
        idx = run.pending.pop(future)
        run.started.pop(future, None)
        try:
            run.results[idx] = future.result()
        except Exception as e:
            death = worker_death(e)
            if death is not None:
                self._fail(run, f"{run.job_name(idx)}: worker process died ({death})")
            else:
                self._fail(run, f"{run.job_name(idx)} raised:\n{traceback.format_exc()}")
            return
        run.account(run.results[idx])
        if self.cache is not None and run.keys[idx] is not None:
            self.cache.put(run.keys[idx], run.results[idx])
        if not run.pending:
            self.steps.append((run, run.results))

    def enforce_deadlines(self) -> None:
        now = time.monotonic()
        for run in self.live():
            if now >= run.deadline:
                self._fail(run, f"timed out after {self.limits.claim:g} s")
                continue
            late = [f for f, t in run.started.items() if now >= t + self.limits.job]
            if late:
                name = run.job_name(run.pending[late[0]])
                self._fail(run, f"{name} timed out after {self.limits.job:g} s")

    def _fail(self, run: _ClaimRun, message: str) -> None:
        run.fail(message)
        self.steps = deque(s for s in self.steps if s[0] is not run)
        # A step still running is abandoned: its thread ends with the process.
        self.stepping = {f: r for f, r in self.stepping.items() if r is not run}
        self.on_done(run.record)


def _lookup(
    cache: JobCache, job: Job, plugins: tuple[str, ...]
) -> tuple[str | None, list[RunResult] | None]:
    """``(key, cached results or None)``; no key when the job names an algorithm or settings
    that do not resolve (its worker then raises the error)."""
    try:
        algorithm = registry(plugins).algorithm(job.algorithm)
    except KeyError:
        return None, None
    try:
        return cache.lookup(algorithm, job)
    except SettingsError:
        return None, None


#: The name of the threads that run claims' steps (:func:`steps_running`).
STEP_THREAD = "scb-verify claim step"


def steps_running() -> bool:
    """Whether a claim's step still runs on its thread: one abandoned at its claim's deadline
    or by Ctrl-C (a step cannot be stopped from outside)."""
    return any(t.name == STEP_THREAD and t.is_alive() for t in threading.enumerate())


def _in_thread(fn: Callable[..., Any], *args: Any) -> cf.Future:
    """``fn(*args)`` on a new daemon thread, as a future (a thread that never returns does not
    keep the process alive, though ending it takes care: :func:`scb_verify.cli.script`)."""
    future: cf.Future = cf.Future()
    future.set_running_or_notify_cancel()

    def target() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as e:
            future.set_exception(e)

    threading.Thread(target=target, daemon=True, name=STEP_THREAD).start()
    return future
