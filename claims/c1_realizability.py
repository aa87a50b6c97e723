"""C1 realizability: (P, Q*) is a minimizer of the population loss (docs/reference.md §2, §3, §6).

At the ground truth the exact gradients vanish, the loss equals ½σ² (excess risk 0), and no
feasible direction (V, A) ↦ (P + δU, Q* + δW) with 1ᵀw_k = 0 lowers the loss. Checked with the
closed forms of §3 in float64 on random instances; the tolerance is a few hundred ulps of the
loss's scale (the terms are O(1), so rounding is ~1e-15).

Negative control: the same three identities at a wrong candidate (P, Q′), Q′ a downstream
attention sharing no support position with Q*: the gradient is nonzero there, so the check
must come out violated.
"""

from __future__ import annotations

import numpy as np
import sympy
import torch

from scb_verify import (
    Claim,
    ClaimContext,
    ClaimOutcome,
    Grid,
    Population,
    TaskError,
    hookimpl,
    related_task,
    task_from_spec,
    threshold_check,
)

N, T, Q = sympy.symbols("N T Q", positive=True, integer=True)

#: float64 rounding on O(1) terms, with room for the O(N²T) sums: 1e-12 ≫ 1e-16·N²T here.
TOLERANCE = 1e-12


class RealizabilityGrid(Grid):
    """C1's parameters: the instance sizes (N, T, Q), instances per size, descent directions."""

    sizes: tuple[tuple[int, int, int], ...]
    seeds: int
    directions: int


class Realizability(Claim[RealizabilityGrid]):
    id = "C1"
    title = "realizability: (P, Q*) minimizes the population loss"
    paper = "S1/S2"
    statement = (
        "The ground truth (V, A) = (P, Q*) realizes E[e_o | X, k] exactly: the population "
        "gradient vanishes there, the loss equals ½σ², and feasible perturbations do not "
        "lower it."
    )
    bounds = {
        "excess_risk_at_truth": sympy.Integer(0),
        "gradient_norm_at_truth": sympy.Integer(0),
    }
    algorithm = None
    control = "the same identities at (P, Q′) with Q′ ⟂ Q* in support: must be violated"
    grids = RealizabilityGrid.budgets(
        smoke={"sizes": ((3, 4, 1), (5, 16, 2)), "seeds": 3, "directions": 4},
        ci={
            "sizes": ((3, 4, 1), (5, 16, 2), (8, 64, 4), (20, 128, 8)),
            "seeds": 8,
            "directions": 16,
        },
        full={
            "sizes": ((3, 4, 1), (5, 16, 2), (8, 64, 4), (20, 256, 8), (50, 512, 16)),
            "seeds": 32,
            "directions": 64,
        },
    )

    def measure(self, ctx: ClaimContext):
        grid = self.grid(ctx.budget)
        grad, excess, descent, cases = [], [], [], []
        for n, t, q in grid.sizes:
            for seed in range(grid.seeds):
                task = ctx.task(n, t, q, seed=seed)
                pop = Population.of(task)
                V, A = pop.P, pop.Qstar
                if ctx.control:
                    A = Population.of(related_task(task, keep=0, seed=seed)).Qstar
                grad.append(constrained_gradient_norm(pop, V, A))
                excess.append(abs(float(pop.excess_risk(V, A))))
                descent.append(_best_descent(pop, V, A, grid.directions, seed))
                cases.append({"N": n, "T": t, "Q": q, "seed": seed})
        checks = [
            threshold_check(grad, TOLERANCE, direction="<=", label="‖∇L‖ at truth"),
            threshold_check(excess, TOLERANCE, direction="<=", label="|excess risk|"),
            threshold_check(descent, TOLERANCE, direction="<=", label="best descent"),
        ]
        return ClaimOutcome(
            checks=checks,
            measurements={
                "cases": cases,
                "gradient_norm": grad,
                "excess_risk": excess,
                "best_descent": descent,
                "tolerance": TOLERANCE,
            },
        )

    def falsifier(self, algorithm: str | None):
        return _falsifier()


def constrained_gradient_norm(pop: Population, V: torch.Tensor, A: torch.Tensor) -> float:
    """‖∇L(V, A)‖ on the constraint set 1ᵀa_k = 1: the constraint only sees the attention
    gradient's component with 1ᵀg_k = 0."""
    gV, gA = pop.grad_V(V, A), pop.grad_A(V, A)
    gA = gA - gA.mean(0, keepdim=True)
    return float(torch.sqrt((gV**2).sum() + (gA**2).sum()))


def identities(instance: dict) -> dict[str, float]:
    """The three quantities of C1 on one instance (``task``: make_task kwargs or arrays P,
    Qstar, Q; ``V``, ``A``: a feasible point): the constrained gradient norm and |excess risk|
    at (P, Q*) — at (P, A) with ``control`` — and −excess risk at (V, A)."""
    pop = Population.of(task_from_spec(instance["task"]))
    V = torch.tensor(instance["V"], dtype=torch.float64)
    A = torch.tensor(instance["A"], dtype=torch.float64)
    at = (pop.P, A) if instance.get("control") else (pop.P, pop.Qstar)
    return {
        "gradient_norm": constrained_gradient_norm(pop, *at),
        "abs_excess_at_truth": abs(float(pop.excess_risk(*at))),
        "negative_excess_elsewhere": -float(pop.excess_risk(V, A)),
    }


def _falsifier():
    """C1 exact: at (P, Q*) the constrained gradient vanishes and L = ½σ²; at any feasible
    (V, A) the excess risk is ≥ 0; all to C1's tolerance. Needs hypothesis (the test extra)."""
    from hypothesis import strategies as st

    from scb_verify.falsify import instance as schema
    from scb_verify.falsify.engine import Evaluation, Falsifier
    from scb_verify.falsify.kit import task_schema
    from scb_verify.strategies import (
        MAX_T,
        linear_params,
        sparse_attention,
        task_sizes,
        tasks,
        transition_matrices,
    )

    @st.composite
    def draw_instance(draw) -> dict:
        if draw(st.booleans()):
            task = draw(tasks())
            spec = task.describe()
        else:
            n, t, q = draw(task_sizes())
            spec = {
                "P": draw(transition_matrices(N=n)).tolist(),
                "Qstar": draw(sparse_attention(T=t, N=n, Q=q)).tolist(),
                "Q": q,
            }
            task = task_from_spec(spec)
        V, A = draw(linear_params(N=task.N, T=task.T))
        return {"task": spec, "V": V.tolist(), "A": A.tolist()}

    fields = schema.record(
        {
            "task": schema.either(
                (
                    "make_task arguments",
                    task_schema(
                        N=schema.integer(2, 8),
                        T=schema.integer(1, MAX_T),
                        Q=schema.integer(1, MAX_T),
                    ),
                ),
                (
                    "explicit arrays",
                    schema.built(
                        schema.record(
                            {
                                "P": schema.matrix(rows=8, columns=8, lo=0.0, hi=1.0),
                                "Qstar": schema.matrix(rows=MAX_T, columns=8, lo=0.0, hi=1.0),
                                "Q": schema.integer(1, MAX_T),
                            }
                        ),
                        task_from_spec,
                        (TaskError,),
                    ),
                ),
            ),
            "V": schema.matrix(rows=8, columns=8, lo=-2.0, hi=2.0),
            "A": schema.matrix(rows=MAX_T, columns=8),
        }
    )

    def check_instance(instance: dict, where: str) -> None:
        """The class: a task (make_task arguments or arrays), V (N×N, entries in [−2, 2]) and
        a feasible A (T×N, every column summing to one)."""
        fields(instance, where)
        task = task_from_spec(instance["task"])
        V, A = np.array(instance["V"]), np.array(instance["A"])
        if V.shape != (task.N, task.N) or A.shape != (task.T, task.N):
            raise schema.InstanceError(
                f"V must be {task.N}×{task.N} and A {task.T}×{task.N} (the task's N, T), "
                f"got {V.shape[0]}×{V.shape[1]} and {A.shape[0]}×{A.shape[1]}"
            )
        sums = A.sum(axis=0)
        if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-9):
            raise schema.InstanceError(
                f"A must be feasible (every column summing to 1), got column sums {sums.tolist()}"
            )

    def evaluate(instance: dict, control: bool) -> Evaluation:
        parts = identities({**instance, "control": control})
        worst = max(parts, key=parts.get)
        measured = parts[worst]
        holds = measured <= TOLERANCE
        text = f"{worst} = {measured:.3g} {'<=' if holds else '>'} tolerance {TOLERANCE:g}"
        return Evaluation(measured, TOLERANCE, holds, text, parts)

    return Falsifier(
        claim="C1",
        algorithm=None,
        statement="for every SCB instance (P, Q*) and every feasible (V, A) (1ᵀa_k = 1): "
        "‖∇L(P, Q*)‖ = 0 on the constraint set, L(P, Q*) − ½σ² = 0, "
        "L(V, A) − ½σ² ≥ 0 — exact, to C1's tolerance",
        parameters={
            "task": "tasks(): N 2..8, T 1..32, Q 1..T, Dirichlet concentration 0.1..10 (log "
            "scale), supports random/window/shared, weights dirichlet/uniform, any seed; or "
            "transition_matrices(N) (any ergodic P, zeros allowed) with "
            "sparse_attention(T, N, Q)",
            "(V, A)": "linear_params(N, T): V entries in [−2, 2], columns of A summing to 1",
            "tolerance": f"{TOLERANCE:g} (C1's)",
        },
        instances=draw_instance(),
        evaluate=evaluate,
        measurement=identities,
        control="the identities at (P, A) with A the drawn attention instead of Q*",
        stochastic=False,
        schema=check_instance,
    )


def _best_descent(pop: Population, V, A, directions: int, seed: int) -> float:
    """Largest loss decrease L(V, A) − L(V + δU, A + δW) over random feasible directions."""
    rng = np.random.default_rng(seed)
    base = float(pop.loss(V, A))
    best = -np.inf
    for _ in range(directions):
        U = torch.as_tensor(rng.standard_normal(V.shape))
        W = torch.as_tensor(rng.standard_normal(A.shape))
        W = W - W.mean(0, keepdim=True)
        for delta in (1e-3, 1e-1):
            best = max(best, base - float(pop.loss(V + delta * U, A + delta * W)))
    return max(best, 0.0)


@hookimpl
def register_claims():
    return [Realizability()]
