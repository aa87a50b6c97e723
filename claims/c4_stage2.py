"""C4 stage 2: from a nontrivial correlation, accuracy ε costs poly(N, Q) samples (S3; §3, §6).

Once a_k is sparse and correlated, the attention's signal is Θ(1/Q) and the irrelevant positions
are cut away, so the noise no longer scales with T. Measured in two phases over a grid of T:
(1) from uniform initialization, each seed runs until stage 1 has ended (the hand-off, at the
smallest successful batch, as in C3): by default until *every* column has escaped,
min_k cos(a_k, q_k) ≥ ρ₁ (``reading = "per_column"``, docs/reference.md §6.3–6.4), or, in the
earlier reading kept for comparison on the same seeds, until the μ-weighted ρ(A) ≥ ρ₁
(``reading = "aggregate"``, which leaves the rarest tokens' columns in stage 1); (2) from each
seed's hand-off state, samples until accuracy ε in the same reading — every column's cosine
≥ 1 − ε (or ρ(A) ≥ 1 − ε) — again at the smallest successful batch, for several ε. Only phase-2
samples count. Under the per-column reading each phase records where ρ(A) crossed the same level
in the same runs. The hand-off
state (mean and worst column cosine, columns not escaped, off-support mass) and the batch × steps
decomposition of every cost are measurements.

Checks: every cell reaches its target (at most a quarter of the seeds censored); for each ε the
slope in T stays below 1/ln T_min, the largest local exponent in T of the upper bound
C·N^a·Q^b·ε^−c·log T on the grid (one-sided and closed: a cost that falls with T does not
contradict an upper bound, one growing exactly like it is within it); the slope in 1/ε at the
largest T lies in (0, ∞), open (local exponent c > 0). Phase 2 runs on the seeds that handed
off, which may differ between T: its slopes in T use independent grid points (Welch), the slope
in 1/ε (same seeds at every ε) is paired. Censored seeds enter at the budget, marked. Negative
control: uninformative tasks (P = μ1ᵀ: the attention gets no signal) with phase 2 started from
uniform attention — no batch reaches the accuracy, so the claim must come out unreached. (Phase 2
from uniform attention on the real tasks, i.e. stage 1 counted, grows with T at slope ≈ 0.4 at
ci, above the log-growth limit but not by enough to be decisive with the 16 seeds ci had then.)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import sympy

from scb_verify import (
    Claim,
    ClaimContext,
    ClaimOutcome,
    Grid,
    Init,
    SCBTask,
    batch_grid,
    censoring_check,
    hookimpl,
    local_exponent,
    log_growth_range,
    make_task,
    predicted_range,
    scaling_over_cells,
    seeded_cell,
    smallest_batch_search,
    uninformative_task,
)
from scb_verify.batch_rule import (
    READINGS,
    cost_series,
    local_slopes_over_cells,
    stage_milestone,
    stage_milestones,
)
from scb_verify.bounds import STAGE2, c, eps
from scb_verify.claimkit import handoff_diagnostics

inv_eps = sympy.Symbol("epsilon_inv", positive=True)
assert local_exponent(STAGE2.subs(eps, 1 / inv_eps), inv_eps) == c
#: The exponent in 1/ε is c, a positive symbol: (0, ∞), open.
C4_EPS_RANGE = predicted_range(c)


class StageTwoGrid(Grid):
    """C4's parameters: C3's (T grid, N, Q, seeds, ρ₁ and the reading of the stage milestones,
    step cap, largest batch), the support weights of the tasks and the accuracies ε of
    phase 2."""

    T: tuple[int, ...]
    N: int = 5
    Q: int = 2
    seeds: int
    weights: str = "uniform"
    rho1: float = 0.6
    reading: str = "per_column"
    eps: tuple[float, ...] = (0.1, 0.05, 0.025)
    cap: int
    max_batch: int


class StageTwo(Claim[StageTwoGrid]):
    id = "C4"
    title = "stage 2: from a correlated state, samples to accuracy ε do not grow with T"
    paper = "S3"
    statement = (
        "After the first stage (every token's attention correlated: min_k cos(a_k, q_k) ≥ ρ₁), "
        "the samples needed to reach accuracy ε "
        "(correlation ≥ 1 − ε) are poly(N, Q, 1/ε) and do not grow with T beyond logs."
    )
    bounds = {"stage2_samples": STAGE2}
    algorithm = "pppd"
    control = "uninformative tasks (P = μ1ᵀ) from uniform attention: accuracy ε is never reached"
    grids = StageTwoGrid.budgets(
        smoke={"T": (32, 64, 128), "seeds": 3, "eps": (0.1, 0.05), "cap": 30, "max_batch": 2048},
        ci={"T": (32, 64, 128, 256, 512), "seeds": 64, "cap": 50, "max_batch": 8192},
        full={
            "T": (32, 64, 128, 256, 512, 1024, 2048),
            "seeds": 64,
            "cap": 100,
            "max_batch": 16384,
        },
    )

    def measure(self, ctx: ClaimContext):
        g = self.grid(ctx.budget)
        seeds = range(g.seeds)
        tasks = {
            t: {s: ctx.task(g.N, t, g.Q, seed=s, weights=g.weights) for s in seeds} for t in g.T
        }
        batches = batch_grid(g.max_batch, control=ctx.control)
        eps_grid = g.eps[:1] if ctx.control else g.eps
        if ctx.control:  # no signal and no hand-off; one accuracy suffices (none is reached)
            tasks = {
                t: {s: uninformative_task(k) for s, k in ts.items()} for t, ts in tasks.items()
            }
        phase1, handoff, phase2 = yield from stage_two(
            ctx.algorithm, tasks, g, eps_grid, batches, from_uniform=ctx.control
        )
        end, target = stage_milestone(g.reading, g.rho1), READINGS[g.reading]
        checks = [] if phase1 is None else [censoring_check(phase1, f"hand-off {end.name}")]
        checks.append(censoring_check(phase2, f"{target} ≥ 1 − ε"))
        band = log_growth_range(STAGE2, min(g.T))
        # Per ε, phase 2's cells along T (those that ran: a T where no seed handed off has none).
        by_eps = {e: {t: phase2[t, e] for t in g.T if (t, e) in phase2} for e in eps_grid}
        for e, per_t in by_eps.items():
            checks.append(
                scaling_over_cells(per_t, band, expr=STAGE2, label=f"ε={e:g} vs T", axis="T")
            )
        t_big = max((t for (t, _), o in phase2.items() if not o.censored), default=None)
        if t_big is not None and len(eps_grid) >= 3:
            per_eps = {1 / e: phase2[t_big, e] for e in eps_grid}
            checks.append(
                scaling_over_cells(
                    per_eps, C4_EPS_RANGE, expr=STAGE2, label=f"1/ε at T={t_big}", axis="1/ε"
                )
            )
        return ClaimOutcome(
            checks=checks,
            measurements={
                "T": g.T,
                "eps": eps_grid,
                "reading": g.reading,
                "handoff_seeds": {t: sorted(h) for t, h in handoff.items()},
                # Per T (and seed, in the cell's order): the hand-off's cost as batch × steps
                # and the state it left; per T and ε: phase 2's cost as batch × steps.
                "handoff": {}
                if phase1 is None
                else {
                    t: {
                        **o.decomposition(),
                        **handoff_diagnostics(
                            o.results,
                            [not c for c in o.censored_seeds],
                            [tasks[t][s] for s in o.seeds],
                            g.rho1,
                        ),
                        "aggregate_samples": o.hits[stage_milestone("aggregate", g.rho1).name],
                    }
                    for t, o in phase1.items()
                },
                # Per T, one entry per ε in the order of "eps" (None where no seed handed off).
                "phase2": {
                    t: [
                        {
                            "eps": e,
                            **phase2[t, e].decomposition(),
                            "aggregate_samples": phase2[t, e].hits[
                                stage_milestone("aggregate", 1 - e).name
                            ],
                        }
                        if (t, e) in phase2
                        else None
                        for e in eps_grid
                    ]
                    for t in g.T
                },
                # Per ε (in the order of "eps"): the local slope at the bottom and the top of
                # the T grid (None when the seeds differ between T or there are < 4 points).
                "local_slopes": [local_slopes_over_cells(per_t) for per_t in by_eps.values()],
                "median_samples": {
                    t: [
                        float(np.median(phase2[t, e].samples))
                        if (t, e) in phase2 and not phase2[t, e].censored
                        else None
                        for e in eps_grid
                    ]
                    for t in g.T
                },
            },
            artifacts={
                "cost_decomposition": {
                    "axis": "T",
                    "series": {
                        **({} if phase1 is None else {"hand-off (stage 1)": cost_series(phase1)}),
                        **{f"stage 2, ε={e:g}": cost_series(c) for e, c in by_eps.items()},
                    },
                }
            },
        )

    def falsifier(self, algorithm: str | None):
        return _falsifier(self, algorithm or self.algorithm)


def stage_two(
    algorithm: str,
    tasks: Mapping[Hashable, Mapping[int, SCBTask]],
    grid: StageTwoGrid,
    eps_grid: Sequence[float],
    batches: Sequence[int],
    *,
    from_uniform: bool = False,
):
    """C4's measurement, a generator (``yield from``): per cell (``tasks``: cell → data seed →
    task), phase 1 from uniform init to the end of stage 1 (``grid.reading``'s milestone at
    ``grid.rho1``, :func:`~scb_verify.batch_rule.stage_milestone`) at the smallest successful
    batch, then from each seed's hand-off state phase 2 to the same reading's level 1 − ε for
    every ε, again at the smallest successful batch; each phase watches
    :func:`~scb_verify.batch_rule.stage_milestones` (``hits``). With ``from_uniform`` phase 1
    is skipped and phase 2 starts from uniform attention.
    Returns (phase-1 outcomes or None, cell → seed → hand-off init, (cell, ε) → outcome)."""
    handoff: dict[Hashable, dict[int, Init]] = {
        k: dict.fromkeys(ts, "uniform") for k, ts in tasks.items()
    }
    phase1 = None
    if not from_uniform:
        rho1 = stage_milestone(grid.reading, grid.rho1)
        phase1 = yield from smallest_batch_search(
            algorithm,
            {k: seeded_cell(list(ts), ts.__getitem__) for k, ts in tasks.items()},
            stage_milestones(grid.reading, grid.rho1),
            cap=grid.cap,
            batches=batches,
        )
        handoff = {
            k: {r.seed: r.params for r in o.results if r.milestones[rho1.name] is not None}
            for k, o in phase1.items()
        }
    cells = {
        (k, e): seeded_cell(
            sorted(handoff[k]), tasks[k].__getitem__, init_of=handoff[k].__getitem__
        )
        for k in tasks
        for e in eps_grid
        if handoff[k]
    }
    phase2 = {}
    for e in eps_grid:
        out = yield from smallest_batch_search(
            algorithm,
            {c: f for c, f in cells.items() if c[1] == e},
            stage_milestones(grid.reading, 1 - e),
            cap=grid.cap,
            batches=batches,
        )
        phase2.update(out)
    return phase1, handoff, phase2


def _falsifier(claim: StageTwo, algorithm: str):
    """Stage-2 samples against C·N^a·Q^b·ε^(−c)·log T on the class (N, Q, ε fixed: the
    smoke grid's), C calibrated. Needs hypothesis."""
    from scb_verify.falsify import kit

    grid = claim.grid("smoke")
    ctx = ClaimContext(algorithm=algorithm, settings=claim.settings_for(algorithm))
    eps_value = grid.eps[0]

    def measured(instance: dict) -> kit.Reach:
        """Per data seed, samples from the hand-off to ρ ≥ 1 − ε as C4 measures them (its
        own :func:`stage_two` on a one-cell grid; NaN for a seed that never handed off), and
        whether the seed did not reach the hand-off or the accuracy within the budget."""
        task = make_task(**instance["task"])
        seeds = kit.data_seeds(instance, kit.STAGE_DATA_SEEDS)
        _, handoff, phase2 = kit.run_serially(
            stage_two(
                algorithm,
                {0: dict.fromkeys(seeds, task)},
                grid,
                [eps_value],
                batch_grid(grid.max_batch),
            ),
            ctx,
        )
        if not phase2:
            return {"samples": [float("nan")] * len(seeds), "censored": [True] * len(seeds)}
        outcome, handed = phase2[0, eps_value], sorted(handoff[0])
        samples = dict(zip(handed, outcome.samples, strict=True))
        censored = dict(zip(handed, outcome.censored_seeds, strict=True))
        return {
            "samples": [samples.get(s, float("nan")) for s in seeds],
            "censored": [censored.get(s, True) for s in seeds],
        }

    return kit.stage_falsifier(
        claim,
        algorithm,
        grid,
        eps_value,
        "for every task in the class: the samples from the stage-1 hand-off (ρ ≥ ρ₁) to "
        "ρ ≥ 1 − ε are ≤ C·N^a·Q^b·ε^(−c)·log T (C4's bound), C calibrated",
        {
            "hand-off": f"{stage_milestone(grid.reading, grid.rho1).name} from uniform init at "
            "the smallest successful batch; seeds that never hand off are not measured",
        },
        {},
        measured,
        STAGE2,
        "stage-2 samples",
    )


@hookimpl
def register_claims():
    return [StageTwo()]
