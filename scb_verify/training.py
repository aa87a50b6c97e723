"""The training loop shared by every algorithm: R runs stacked, one fresh batch per step.

    for t in 1..steps:
        batch = stream.next()                  # fresh samples, per-run seeds
        algorithm.step(state, batch, t)        # the plugin's update
        V, A = algorithm.linear_view(state)
        metrics → trajectory (log-spaced), milestones, divergence

Runs that diverge (NaN/inf) or reach all their milestones (with ``stop_at_milestones``) are
finished and dropped from the stack; the others go on. Data flow: task → sampler → algorithm →
trajectory (docs/reference.md §4, §5).
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
from scb_verify.sampler import BatchStream, Sampler

#: progress(samples_done_per_run, samples_total_per_run) is called after every step.
Progress = Callable[[int, int], None]


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
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    progress: Progress | None = None,
) -> list[RunResult]:
    """Run ``specs`` with ``algorithm``; compatible specs are stacked into one computation.

    Results come back in the order of ``specs``. Settings are validated before anything runs;
    a stack whose estimated memory (:func:`scb_verify.cost.estimate`) exceeds what the machine
    has is refused with :class:`~scb_verify.cost.CostError` before it allocates anything.
    """
    results: list[RunResult | None] = [None] * len(specs)
    groups: dict[tuple, list[int]] = {}
    for i, spec in enumerate(specs):
        algorithm.resolve_settings(spec.settings)
        groups.setdefault(spec.stack_key(), []).append(i)
    for idx in groups.values():
        for i, res in zip(
            idx,
            _train_stack(algorithm, [specs[i] for i in idx], device, dtype, progress),
            strict=True,
        ):
            results[i] = res
    return results  # type: ignore[return-value]


def _train_stack(
    algorithm: Algorithm,
    specs: list[RunSpec],
    device: torch.device | str,
    dtype: torch.dtype,
    progress: Progress | None,
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
        BatchStream(Sampler(tasks, [s.seed for s in specs], device=device), m, steps)
        if not algorithm.reference
        else None
    )
    record_at = set(record_steps(steps, spec0.record_points).tolist())
    milestones = spec0.milestones
    alive = list(range(R))  # original run index of each row still in the stack
    traj: list[dict[str, list[float]]] = [{} for _ in range(R)]
    hit: list[dict[str, int | None]] = [{ms.name: None for ms in milestones} for _ in range(R)]
    results: list[RunResult | None] = [None] * R

    def finish(rows: list[int], t: int, status: str, metrics: dict, V, A, early: bool):
        for row in rows:
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
                milestones=hit[r],
                trajectory=traj[r],
                params=Params(
                    V[row].detach().cpu().numpy().copy(), A[row].detach().cpu().numpy().copy()
                ),
                wall_time=time.perf_counter() - t0,
                stopped_early=early,
                read_truth=algorithm.reference,
            )

    watched = sorted({ms.metric for ms in milestones})
    with stream or contextlib.nullcontext():
        for t in range(steps + 1):
            if t > 0:
                batch = stream.next() if stream is not None else None
                algorithm.step(state, batch, t, settings)
                del batch  # before the next one is drawn: one batch alive at a time
            with torch.no_grad():
                V, A = algorithm.linear_view(state)
                finite = torch.isfinite(V).flatten(1).all(1) & torch.isfinite(A).flatten(1).all(1)
                finite_np = finite.cpu().numpy()
                watch = metric_subset(pop, V, A, watched)  # milestones are checked at every step
            all_hit = np.ones(len(alive), dtype=bool)
            for ms in milestones:
                reached = ms.reached(watch[ms.metric]).cpu().numpy()
                for row, r in enumerate(alive):
                    if reached[row] and hit[r][ms.name] is None:
                        hit[r][ms.name] = t * m
                all_hit &= np.array([hit[r][ms.name] is not None for r in alive])
            diverged = [row for row in range(len(alive)) if not finite_np[row]]
            stopped = []
            if spec0.stop_at_milestones and milestones:
                stopped = [row for row in range(len(alive)) if all_hit[row] and finite_np[row]]
            if t in record_at or diverged or stopped or t == steps:
                # Every metric, only where it is recorded or where a run ends.
                with torch.no_grad():
                    metrics_np = {k: v.cpu().numpy() for k, v in all_metrics(pop, V, A).items()}
                # Log-spaced points, plus the step where a run stops at its milestones.
                for row in range(len(alive)) if t in record_at else stopped:
                    rec = traj[alive[row]]
                    rec.setdefault("step", []).append(t)
                    rec.setdefault("samples", []).append(t * m)
                    for k, v in metrics_np.items():
                        rec.setdefault(k, []).append(float(v[row]))
                finish(diverged, t, "diverged", metrics_np, V, A, early=True)
                finish(stopped, t, "completed", metrics_np, V, A, early=t < steps)
                done_rows = diverged + stopped
                if t == steps:
                    rest = [row for row in range(len(alive)) if row not in done_rows]
                    finish(rest, t, "completed", metrics_np, V, A, early=False)
                    break
                if done_rows:
                    keep = torch.ones(len(alive), dtype=torch.bool)
                    keep[done_rows] = False
                    if not keep.any():
                        break
                    alive = [r for row, r in enumerate(alive) if keep[row]]
                    idx = torch.nonzero(keep).flatten().to(device)
                    state = {k: v[idx] for k, v in state.items()}
                    pop = Population.of([tasks[r] for r in alive], dtype=dtype, device=device)
                    if stream is not None:
                        stream.select(keep)
            if progress is not None:
                progress(t * m, steps * m)
    return results  # type: ignore[return-value]
