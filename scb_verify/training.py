"""The training loop shared by every algorithm: R runs stacked, one fresh batch per step.

    for t in 1..steps:
        batch = stream.next()                  # fresh samples, per-run seeds
        algorithm.step(state, batch, t)        # the plugin's update
        V, A = algorithm.linear_view(state)
        metrics → trajectory (log-spaced), milestones, divergence

Runs that diverge (NaN/inf) or reach all their milestones (with ``stop_at_milestones``) are
finished and dropped from the stack; the others go on. Data flow: task → sampler → algorithm →
trajectory (docs/reference.md §4, §5).

Where the loop looks (issue 23): the milestones, divergence and each run's end are tracked
where the parameters live (:class:`_Ends`: tensors on the device), so a step needs nothing from
the host. The host reads them at the recorded steps, at the last step, and when it learns that
a run ended: with the ``compiled`` engine (the CPU's) at once, every step (the tensors are host
memory); with the ``tensor`` engine (an accelerator's, :mod:`scb_verify.sampler`) from a flag
copied asynchronously and read :data:`LAG` steps later, so the device never waits for the host.
A run that ends between two looks keeps its parameters of the step where it ended (a copy on
the device), and its result is what it would have been had the loop stopped it there: the same
steps, samples, milestones, metrics and trajectory as with immediate looks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from scb_verify.algorithm import Algorithm, Withheld
from scb_verify.cost import check_memory, estimate
from scb_verify.metrics import all_metrics, correlation, dist_A, dist_V, support_recovery
from scb_verify.population import Population
from scb_verify.runs import Params, RunResult, RunSpec, initial_params
from scb_verify.sampler import BatchStream, Sampler, default_engine

#: progress(samples_done_per_run, samples_total_per_run) is called after every step.
Progress = Callable[[int, int], None]

#: With the tensor engine, the host reads step t's "a run ended" flag at step t + LAG: the device
#: may run this many steps ahead of the host, and a run that ended is noticed that much later.
LAG = 8

_DEFAULT_DEVICE = torch.device("cpu")
_DEFAULT_ENGINE: str | None = None


def set_default_device(device: torch.device | str, engine: str | None = None) -> None:
    """The device (and sampling engine, default: the device's) of :func:`train` calls in this
    process that name none: a device executor's worker sets them once, as the local pool's
    worker sets its thread count."""
    global _DEFAULT_DEVICE, _DEFAULT_ENGINE
    _DEFAULT_DEVICE, _DEFAULT_ENGINE = torch.device(device), engine


def default_device() -> torch.device:
    """The device of :func:`train` calls that name none (the CPU unless set)."""
    return _DEFAULT_DEVICE


def record_steps(steps: int, points: int) -> np.ndarray:
    """Step indices 0..steps, log-spaced, always including 0 and the last step."""
    if points < 2:
        return np.array([0, steps])
    inner = np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), points - 1)).astype(int))
    return np.unique(np.concatenate([[0], inner, [steps]]))


#: The §4 metrics one at a time, so that the per-step milestone check evaluates only those it
#: watches (``all_metrics`` is evaluated at the recorded steps and where a run ends).
METRICS: dict[str, Callable[[Population, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "correlation": lambda pop, V, A: correlation(pop, A),
    "dist_V": lambda pop, V, A: dist_V(pop, V),
    "dist_A": lambda pop, V, A: dist_A(pop, A),
    "excess_risk": lambda pop, V, A: pop.excess_risk(V, A),
    "support_recovery": lambda pop, V, A: support_recovery(pop, A),
}


def metric_subset(
    pop: Population, V: torch.Tensor, A: torch.Tensor, names: Sequence[str]
) -> dict[str, torch.Tensor]:
    """The metrics ``names`` at (V, A) (all of them if one is not in :data:`METRICS`)."""
    if all(n in METRICS for n in names):
        return {n: METRICS[n](pop, V, A) for n in names}
    return all_metrics(pop, V, A)


def train(
    algorithm: Algorithm,
    specs: Sequence[RunSpec],
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    progress: Progress | None = None,
    engine: str | None = None,
) -> list[RunResult]:
    """Run ``specs`` with ``algorithm``; compatible specs are stacked into one computation.

    ``device`` defaults to :func:`default_device`, ``engine`` (how samples are drawn,
    :data:`scb_verify.sampler.ENGINES`) to the one set with it, else to the device's default.
    Results come back in the order of ``specs``. Settings are validated before anything runs;
    a stack whose estimated memory (:func:`scb_verify.cost.estimate`) exceeds what the machine
    has is refused with :class:`~scb_verify.cost.CostError` before it allocates anything.
    """
    if device is None:
        device, engine = default_device(), engine or _DEFAULT_ENGINE
    device = torch.device(device)
    engine = engine or default_engine(device)
    results: list[RunResult | None] = [None] * len(specs)
    groups: dict[tuple, list[int]] = {}
    for i, spec in enumerate(specs):
        algorithm.resolve_settings(spec.settings)
        groups.setdefault(spec.stack_key(), []).append(i)
    for idx in groups.values():
        stack = _train_stack(algorithm, [specs[i] for i in idx], device, dtype, progress, engine)
        for i, res in zip(idx, stack, strict=True):
            results[i] = res
    return results  # type: ignore[return-value]


class _Ends:
    """Where each run of a stack stands, as tensors on the parameters' device.

    ``hit[r, j]``: the first step at which milestone j was reached (−1: not yet); ``end[r]``:
    the step at which run r ended (−1: running), by divergence (a non-finite V or A) or, with
    ``stop``, by reaching every milestone. With ``lagging`` (the host looks late, so an ended
    run stays in the stack a few steps), ``V``/``A`` hold each ended run's parameters of its end
    step and later steps leave its record alone; without, the host drops a run at the step it
    ends. The per-step work is a handful of small operations (it is the CPU loop's overhead)."""

    def __init__(self, R: int, milestones, device: torch.device, stop: bool, lagging: bool):
        self.milestones, self.stop, self.lagging = milestones, stop, lagging
        self.hit = torch.full((R, len(milestones)), -1, dtype=torch.int64, device=device)
        self.end = torch.full((R,), -1, dtype=torch.int64, device=device)
        self.V: torch.Tensor | None = None
        self.A: torch.Tensor | None = None

    def update(self, t: int, V: torch.Tensor, A: torch.Tensor, watch: dict) -> torch.Tensor:
        """Account for step t (after its update); returns the device flag "a run ended at t"."""
        running = self.end < 0 if self.lagging else None
        for j, ms in enumerate(self.milestones):
            first = ms.reached(watch[ms.metric]) & (self.hit[:, j] < 0)
            if running is not None:
                first &= running
            self.hit[:, j] = torch.where(first, t, self.hit[:, j])
        ending = ~finite_runs(V, A)
        if self.stop:
            ending |= (self.hit >= 0).all(1)
        if running is not None:
            ending &= running
        self.end = torch.where(ending, t, self.end)
        if self.lagging:
            if self.V is None:
                self.V, self.A = V.clone(), A.clone()
            self.V = torch.where(ending.view(-1, 1, 1), V, self.V)
            self.A = torch.where(ending.view(-1, 1, 1), A, self.A)
        return ending.any()

    def ended(self, V: torch.Tensor, A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The parameters of every run at its end (the current ones for runs still going)."""
        if self.V is None:
            return V, A
        done = (self.end >= 0).view(-1, 1, 1)
        return torch.where(done, self.V, V), torch.where(done, self.A, A)

    def select(self, idx: torch.Tensor) -> None:
        """Keep the rows ``idx`` only."""
        self.hit, self.end = self.hit[idx], self.end[idx]
        if self.V is not None:
            self.V, self.A = self.V[idx], self.A[idx]


def finite_runs(V: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """(R,) bool: every entry of run r's V and A is finite."""
    return torch.isfinite(V).all((1, 2)) & torch.isfinite(A).all((1, 2))


class _Looks:
    """The host's view of the per-step "a run ended" flags: read at once (``lag`` 0), or
    ``lag`` steps later from an asynchronous copy (on CUDA into pinned memory, with an event)."""

    def __init__(self, device: torch.device, lag: int):
        self.lag, self.cuda = lag, device.type == "cuda"
        self.queue: list[tuple[torch.Tensor, torch.cuda.Event | None]] = []

    def push(self, flag: torch.Tensor) -> bool:
        """Queue step t's flag; True if the flag of step t − lag says a run ended."""
        event = None
        if self.cuda:
            host = torch.empty((), dtype=torch.bool, pin_memory=True)
            host.copy_(flag, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
            flag = host
        self.queue.append((flag, event))
        if len(self.queue) <= self.lag:
            return False
        flag, event = self.queue.pop(0)
        if event is not None:
            event.synchronize()
        return bool(flag)

    def clear(self) -> None:
        """Forget the queued flags (the host has just read everything)."""
        self.queue.clear()


def _train_stack(
    algorithm: Algorithm,
    specs: list[RunSpec],
    device: torch.device,
    dtype: torch.dtype,
    progress: Progress | None,
    engine: str,
) -> list[RunResult]:
    t0 = time.perf_counter()
    spec0 = specs[0]
    settings = algorithm.resolve_settings(spec0.settings)
    R, m, steps = len(specs), spec0.batch, spec0.steps
    N, T = spec0.task.N, spec0.task.T
    check_memory(estimate(N, T, batch=m, samples=spec0.samples, runs=R, float_bytes=dtype.itemsize))
    tasks = [s.task for s in specs]
    pop = Population.of(tasks, dtype=dtype, device=device)
    inits = [initial_params(s) for s in specs]
    V = torch.as_tensor(np.stack([p.V for p in inits]), dtype=dtype, device=device)
    A = torch.as_tensor(np.stack([p.A for p in inits]), dtype=dtype, device=device)
    if algorithm.reference:
        state = algorithm.init_state(V, A, spec0, settings, pop)
    else:
        task = spec0.task
        shape = Withheld(algorithm.name, "spec.task", N=task.N, T=task.T, Q=task.Q)
        observed = dataclasses.replace(spec0, task=shape)
        state = algorithm.init_state(V, A, observed, settings, Withheld(algorithm.name, "truth"))
    # With a second thread, the next batch is drawn while the current step runs.
    stream = (
        BatchStream(Sampler(tasks, [s.seed for s in specs], device=device, engine=engine), m, steps)
        if not algorithm.reference
        else None
    )
    record_at = set(record_steps(steps, spec0.record_points).tolist())
    milestones = spec0.milestones
    lag = LAG if engine == "tensor" else 0
    stop = bool(spec0.stop_at_milestones and milestones)
    ends = _Ends(R, milestones, device, stop, lagging=lag > 0)
    looks = _Looks(device, lag)
    alive = list(range(R))  # original run index of each row still in the stack
    traj: list[dict[str, list[float]]] = [{} for _ in range(R)]
    results: list[RunResult | None] = [None] * R
    watched = sorted({ms.metric for ms in milestones})

    def record(row: int, t: int, metrics: dict) -> None:
        rec = traj[alive[row]]
        rec.setdefault("step", []).append(t)
        rec.setdefault("samples", []).append(t * m)
        for k, v in metrics.items():
            rec.setdefault(k, []).append(float(v[row]))

    def finish(row: int, t: int, status: str, metrics: dict, V, A, hit) -> None:
        r = alive[row]
        results[r] = RunResult(
            algorithm=algorithm.name,
            settings=settings,
            task=specs[r].task.describe(),
            seed=specs[r].seed,
            batch=m,
            status=status,
            samples=t * m,
            steps=t,
            final={k: float(v[row]) for k, v in metrics.items()},
            milestones={
                ms.name: (int(hit[row, j]) * m if hit[row, j] >= 0 else None)
                for j, ms in enumerate(milestones)
            },
            trajectory=traj[r],
            params=Params(
                V[row].detach().cpu().numpy().copy(), A[row].detach().cpu().numpy().copy()
            ),
            wall_time=time.perf_counter() - t0,
            stopped_early=t < steps,
            read_truth=algorithm.reference,
        )

    with stream or contextlib.nullcontext():
        for t in range(steps + 1):
            if t > 0:
                batch = stream.next() if stream is not None else None
                algorithm.step(state, batch, t, settings)
                del batch  # before the next one is drawn: one batch alive at a time
            with torch.no_grad():
                V, A = algorithm.linear_view(state)
                watch = metric_subset(pop, V, A, watched)  # milestones are checked at every step
                flag = ends.update(t, V, A, watch)
            if not (looks.push(flag) or t in record_at or t == steps):
                if progress is not None:
                    progress(t * m, steps * m)
                continue
            # The host looks: every run that ended so far, the metrics where they are needed.
            looks.clear()
            end, hit = ends.end.cpu().numpy(), ends.hit.cpu().numpy()
            done = [row for row in range(len(alive)) if end[row] >= 0]
            with torch.no_grad():
                # Every metric, only where it is recorded or where a run ends.
                now = (
                    {k: v.cpu().numpy() for k, v in all_metrics(pop, V, A).items()}
                    if t in record_at or t == steps or (done and lag == 0)
                    else None
                )
                V_end, A_end = ends.ended(V, A)
                diverged = (~finite_runs(V_end, A_end)).cpu().numpy()
                at_end = (
                    {k: v.cpu().numpy() for k, v in all_metrics(pop, V_end, A_end).items()}
                    if done and lag > 0
                    else now
                )
            for row in range(len(alive)):
                s = int(end[row])
                # Log-spaced points, plus the step where a run stops at its milestones.
                if t in record_at and s in (-1, t):
                    record(row, t, now)
                elif s >= 0 and not diverged[row] and s not in record_at:
                    record(row, s, at_end)
                if s >= 0:
                    status = "diverged" if diverged[row] else "completed"
                    finish(row, s, status, at_end, V_end, A_end, hit)
                elif t == steps:
                    finish(row, t, "completed", now, V, A, hit)
            if t == steps:
                break
            if done:
                keep = torch.from_numpy(end < 0)
                if not keep.any():
                    break
                alive = [r for row, r in enumerate(alive) if keep[row]]
                idx = torch.nonzero(keep).flatten().to(device)
                state = {k: v[idx] for k, v in state.items()}
                ends.select(idx)
                pop = Population.of([tasks[r] for r in alive], dtype=dtype, device=device)
                if stream is not None:
                    stream.select(keep)
            if progress is not None:
                progress(t * m, steps * m)
    return results  # type: ignore[return-value]
