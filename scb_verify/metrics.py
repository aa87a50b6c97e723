"""Distances to the ground truth and the other metrics of docs/reference.md §4.

Every function takes the ground truth as a :class:`~scb_verify.population.Population` and
broadcasts over leading batch dims of V (…, N, N) and A (…, T, N). Metrics read the ground truth;
algorithms never call them (they only *evaluate* a trajectory).
"""

from __future__ import annotations

import numpy as np
import torch

from scb_verify.population import Population
from scb_verify.task import SCBTask


def dist_V(pop: Population, V: torch.Tensor) -> torch.Tensor:
    """‖V − P‖_F."""
    return torch.linalg.matrix_norm(V - pop.P)


def dist_A(pop: Population, A: torch.Tensor) -> torch.Tensor:
    """‖A − Q*‖_F."""
    return torch.linalg.matrix_norm(A - pop.Qstar)


def column_cosines(pop: Population, A: torch.Tensor) -> torch.Tensor:
    """cos(a_k, q_k) = ⟨a_k, q_k⟩ / (‖a_k‖‖q_k‖) for every token k, shape (…, N); a zero column
    counts 0."""
    num = (A * pop.Qstar).sum(-2)
    den = torch.linalg.vector_norm(A, dim=-2) * torch.sqrt(pop.q_norm2)
    return torch.where(den > 0, num / den.clamp_min(torch.finfo(A.dtype).tiny), 0.0)


def correlation(pop: Population, A: torch.Tensor) -> torch.Tensor:
    """ρ(A) = Σ_k μ_k ⟨a_k, q_k⟩ / (‖a_k‖‖q_k‖); ρ at uniform A lies in [1/√T, √(Q/T)]."""
    return (pop.mu * column_cosines(pop, A)).sum(-1)


def min_cosine(pop: Population, A: torch.Tensor) -> torch.Tensor:
    """min_k cos(a_k, q_k): the worst column's cosine with its own target. It reaches a level
    ρ₁ only when *every* token's attention has (docs/reference.md §6.3: the per-column end of
    stage 1); ρ(A) ≥ min_k cos(a_k, q_k) always, since ρ is a μ-weighted mean of the cosines."""
    return column_cosines(pop, A).amin(-1)


def support_recovery(pop: Population, A: torch.Tensor) -> torch.Tensor:
    """Share of tokens k whose |supp q_k| largest entries of |a_k| are exactly supp q_k.

    Equivalent test: the smallest |a_k| on the support strictly exceeds the largest off it.
    """
    supp = pop.Qstar > 0
    mag = A.abs()
    inf = torch.tensor(float("inf"), dtype=A.dtype, device=A.device)
    on = torch.where(supp, mag, inf).amin(-2)
    off = torch.where(supp, -inf, mag).amax(-2)
    return (on > off).to(A.dtype).mean(-1)


def all_metrics(pop: Population, V: torch.Tensor, A: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every §4 metric that depends on the iterate (samples are counted by the training loop)."""
    return {
        "correlation": correlation(pop, A),
        "min_cosine": min_cosine(pop, A),
        "dist_V": dist_V(pop, V),
        "dist_A": dist_A(pop, A),
        "excess_risk": pop.excess_risk(V, A),
        "support_recovery": support_recovery(pop, A),
    }


def task_correlation(a: SCBTask, b: SCBTask) -> float:
    """ρ(Q*, Q′) = Σ_k μ_k ⟨q_k, q′_k⟩ / (‖q_k‖‖q′_k‖), μ of the first task (docs/reference.md
    §5.5)."""
    if a.Qstar.shape != b.Qstar.shape:
        raise ValueError(f"tasks differ in shape: {a.Qstar.shape} vs {b.Qstar.shape}")
    num = (a.Qstar * b.Qstar).sum(0)
    den = np.linalg.norm(a.Qstar, axis=0) * np.linalg.norm(b.Qstar, axis=0)
    return float((a.mu * num / den).sum())
