"""C2 bigram: with q_k = e_T the algorithm recovers the bigram P (S1; docs/reference.md §1, §4, §6).

The classical bigram is the SCB instance whose attention is the last position for every token
(:func:`~scb_verify.task.bigram_task`). From uniform initialization (V = 0, a_k = 1/T) the algorithm
must find both the position and P, from samples only. Measured: the final dist_V = ‖V − P‖_F
over a geometric grid of sample budgets n, several seeds per budget (seed s: instance s, data
stream s).

Checks:

- **rate** — the log–log slope of dist_V in n, with its t interval paired by seed (seed s is the
  same instance and data stream at every budget), lies in the range of the
  bound C·N·n^(−γ), γ ≥ γ_min = 1/10: dist_V → 0 polynomially. The paper states no rate, so γ is
  measured; the CLT rate γ = 1/2 of an efficient estimator is reported alongside. A slope above
  −γ_min gains less than 2× accuracy per 1000× samples — no budget tells it from a stall (a
  algorithm that does not move measures exactly 0).
- **accuracy** — at the largest budget the geometric mean of the relative error ‖V − P‖_F / ‖P‖_F
  (the initial error is 1; a distance, so on the log scale) is at most ε, stated per budget in the
  grid (10% at ci).

The algorithm runs at its own default settings. Recovery *as samples grow* needs a step that
decays (η_t → 0): a constant step stalls at a noise floor (docs/reference.md §5.1), which the rate
check
is there to catch; pppd's defaults decay. Negative control: the ``null`` algorithm, which never
moves: dist_V = ‖P‖_F at every budget, slope 0 — violated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy

from scb_verify import (
    Claim,
    ClaimContext,
    ClaimOutcome,
    Grid,
    Job,
    RunResult,
    SCBTask,
    TaskError,
    bigram_task,
    final_value,
    hookimpl,
    local_exponent,
    median_curves,
    scaling_check,
    threshold_check,
)

N, n = sympy.symbols("N n", positive=True, integer=True)
C, gamma = sympy.symbols("C gamma", positive=True)
DIST_V = C * N * n**-gamma
#: Slowest rate that counts as recovery (see the module docstring).
GAMMA_MIN = sympy.Rational(1, 10)


class BigramGrid(Grid):
    """C2's parameters: the bigram's size, the batch, the sample budgets n, seeds, ε."""

    N: int
    T: int
    batch: int
    samples: tuple[int, ...]
    seeds: int
    epsilon: float


class Bigram(Claim[BigramGrid]):
    id = "C2"
    title = "bigram: with q_k = e_T the algorithm recovers P"
    paper = "S1"
    statement = (
        "On the classical bigram (q_k = e_T for every k), trained from uniform initialization, "
        "the final ‖V − P‖_F decreases polynomially in the number of samples n (slope ≤ −1/10 "
        "in log–log), and at the largest budget the relative error ‖V − P‖_F/‖P‖_F is ≤ ε."
    )
    bounds = {"dist_V": DIST_V}
    algorithm = "pppd"
    control = "the null algorithm (never moves): dist_V = ‖P‖_F at every budget, slope 0"
    grids = BigramGrid.budgets(
        smoke={
            "N": 3,
            "T": 4,
            "batch": 64,
            "samples": (1024, 4096, 16384),
            "seeds": 6,
            "epsilon": 0.3,
        },
        ci={
            "N": 5,
            "T": 16,
            "batch": 128,
            "samples": (8192, 32768, 131072, 524288, 2097152),
            "seeds": 24,
            "epsilon": 0.1,
        },
        full={
            "N": 10,
            "T": 64,
            "batch": 256,
            "samples": (2**15, 2**17, 2**19, 2**21, 2**23),
            "seeds": 32,
            "epsilon": 0.05,
        },
    )

    def excludes(self, family):
        other = sorted(set(family) - {"concentration"})
        if other:
            return f"its instances are bigrams (q_k = e_T): {', '.join(other)} cannot vary"
        return None

    def measure(self, ctx: ClaimContext):
        grid = self.grid(ctx.budget)
        algorithm = "null" if ctx.control else ctx.algorithm
        seeds = range(grid.seeds)
        tasks = [bigram_task(grid.N, grid.T, seed=s, **ctx.family) for s in seeds]
        pairs = list(zip(seeds, tasks, strict=True))
        results = yield [
            budget_job(algorithm, pairs, grid.batch, budget) for budget in grid.samples
        ]
        budgets = np.array([runs[0].samples for runs in results], dtype=float)
        dist = np.array([final_distances(runs) for runs in results])
        p_norm = np.array([np.linalg.norm(task.P) for task in tasks])
        relative = dist / p_norm
        hi = local_exponent(DIST_V, n, at={gamma: GAMMA_MIN})
        rate = scaling_check(
            budgets,
            dist,
            (-math.inf, hi),
            design="paired",
            expr=DIST_V,
            label="rate of ‖V − P‖_F in n",
            axis="n",
        )
        accuracy = threshold_check(
            relative[-1],
            grid.epsilon,
            direction="<=",
            scale="log",
            label=f"‖V − P‖/‖P‖ at n = {int(budgets[-1])}",
        )
        return ClaimOutcome(
            checks=[rate, accuracy],
            measurements={
                "algorithm": algorithm,
                "settings": {} if ctx.control else dict(ctx.settings),
                "samples": budgets.tolist(),
                "dist_V": dist.tolist(),
                "relative_error": relative.tolist(),
                "median_dist_V": np.median(dist, axis=1).tolist(),
                "fitted_slope": rate.evidence.get("slope"),
                "slope_ci": rate.evidence.get("ci"),
                "clt_slope": -0.5,
                "diverged": [sum(r.status == "diverged" for r in runs) for runs in results],
            },
            artifacts={"learning_curve": median_curves(results[-1], ["dist_V", "dist_A"])},
        )

    def falsifier(self, algorithm: str | None):
        return _falsifier(self, algorithm or self.algorithm)


#: Trajectory points recorded per run (the final value of a diverged run reads them).
RECORD_POINTS = 40


def budget_job(
    algorithm: str,
    tasks: Sequence[tuple[int, SCBTask]],
    batch: int,
    samples: int,
) -> Job:
    """One run per (data seed, task) pair at a budget of ``samples``, from uniform init."""
    shared = {"batch": batch, "samples": samples, "record_points": RECORD_POINTS}
    return Job.per_seed(algorithm, tasks, f"n={samples}", **shared)


def final_distances(runs: Sequence[RunResult]) -> list[float]:
    """Final ‖V − P‖_F of each run (a diverged run: its worst recorded value)."""
    return [final_value(r, "dist_V") for r in runs]


def _falsifier(claim: Bigram, algorithm: str):
    """The final error against C·N·n^(−1/10) (C2's bound at its slowest admitted rate),
    C calibrated (:func:`scb_verify.falsify.kit.calibrated_falsifier`). Needs hypothesis."""
    from hypothesis import strategies as st

    from scb_verify.falsify import instance as schema
    from scb_verify.falsify.engine import bound_function
    from scb_verify.falsify.kit import (
        DATA_SEEDS,
        SEED,
        SEEDS,
        calibrated_falsifier,
        data_seeds,
        run_one,
    )

    grid, settings = claim.grid("smoke"), claim.settings_for(algorithm)
    ctx = ClaimContext(algorithm=algorithm, settings=settings)
    bound = bound_function(DIST_V, (N, n), {C: 1, gamma: GAMMA_MIN})
    budgets = (1024, 2048, 4096)

    def measured(instance: dict) -> list[float]:
        task = bigram_task(**instance["task"])
        pairs = [(seed, task) for seed in data_seeds(instance, grid.seeds)]
        job = budget_job(algorithm, pairs, grid.batch, instance["samples"])
        return final_distances(run_one(job, ctx))

    return calibrated_falsifier(
        "C2",
        algorithm,
        f"for every bigram instance (q_k = e_T) in the class and every budget n: the final "
        f"‖V − P‖_F of {algorithm} from uniform init is ≤ C·N·n^(−1/10) (C2's bound at its "
        "slowest admitted rate γ = 1/10), C calibrated",
        {
            "N": "2..6",
            "T": f"{grid.T} (C2's smoke grid; the bound has no T, so C is per T)",
            "P": "Dirichlet(0.5) columns (C2's), any instance seed",
            "n": f"{', '.join(map(str, budgets))} samples (C2's smoke range)",
            "runs": f"{algorithm}, batch {grid.batch}, settings {settings}, "
            f"{grid.seeds} data seeds per instance",
            "calibration": f"N = {grid.N}, instance seeds 0..2, n = {budgets[0]} and {budgets[-1]}",
        },
        st.fixed_dictionaries(
            {
                "task": st.fixed_dictionaries(
                    {
                        "N": st.integers(2, 6),
                        "T": st.just(grid.T),
                        "seed": SEEDS,
                        "concentration": st.just(0.5),
                    }
                ),
                "samples": st.sampled_from(budgets),
                "seed": SEEDS,
            }
        ),
        [
            {
                "task": {"N": grid.N, "T": grid.T, "seed": s, "concentration": 0.5},
                "samples": size,
                "seed": s,
            }
            for s in range(3)
            for size in (budgets[0], budgets[-1])
        ],
        measured,
        lambda instance: bound(instance["task"]["N"], instance["samples"]),
        "‖V − P‖_F",
        schema.record(
            {
                "task": schema.built(
                    schema.record(
                        {
                            "N": schema.integer(2, 6),
                            "T": schema.one_of(grid.T),
                            "seed": SEED,
                            "concentration": schema.one_of(0.5),
                        }
                    ),
                    lambda task: bigram_task(**task),
                    (TaskError,),
                ),
                "samples": schema.one_of(*budgets),
                "seed": SEED,
            },
            DATA_SEEDS,
        ),
    )


@hookimpl
def register_claims():
    return [Bigram()]
