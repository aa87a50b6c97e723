"""Preconditioners of the paper's algorithm (docs/reference.md §5.1).

V-step: the population curvature of L in V is H(A) = Σ_k μ_k [s_k² μμᵀ + ‖a_k‖² Σ]
= c·diag(μ) + (b − c)·μμᵀ with b = Σ_k μ_k s_k², c = Σ_k μ_k ‖a_k‖². By Sherman–Morrison

    H⁻¹ = (1/c)·diag(1/μ) − (b − c)/(b c) · 11ᵀ,

so G ↦ G H⁻¹ costs O(N²). At uniform A the centred curvature is c = 1/T: unpreconditioned steps
on V would be T times too slow.

A-step: column k is scaled by 1 / (μ_k ‖V‖²_Σ), the curvature of L in a_k, floored so that the
step stays finite while V ≈ 0. That is the whole curvature only under 1ᵀa_k = 1; with a free
sum the a_k-Hessian is μ_k(α 11ᵀ + β I) with α = ‖Vμ‖², β = ‖V‖²_Σ, T times stiffer along 1
(:func:`attention_curvature` gives μ_k β and κ = α/β, used by the sparse variant's exact step,
:func:`scb_verify.prox.newton_step_nonneg`).
"""

from __future__ import annotations

import torch

from scb_verify.population import sigma_inner, sigma_matrix


def apply_inverse_curvature(
    G: torch.Tensor, mu: torch.Tensor, A: torch.Tensor, floor: float = 0.0
) -> torch.Tensor:
    """G H(A)⁻¹ for G (R, N, N), μ (R, N), A (R, T, N); b and c floored at ``floor`` (with a
    free attention sum A may reach 0, where H(A) = 0; H stays positive definite for b, c > 0:
    its smallest eigenvalue ratio is b/c)."""
    s = A.sum(-2)
    b = (mu * s**2).sum(-1)[:, None, None].clamp_min(floor)
    c = (mu * (A**2).sum(-2)).sum(-1)[:, None, None].clamp_min(floor)
    return G / (c * mu.unsqueeze(-2)) - ((b - c) / (b * c)) * G.sum(-1, keepdim=True)


def attention_scale(V: torch.Tensor, mu: torch.Tensor, floor: float) -> torch.Tensor:
    """μ_k · max(‖V‖²_Σ, floor) for every token k: (R, N)."""
    return mu * _floored_beta(V, mu, floor).unsqueeze(-1)


def _floored_beta(V: torch.Tensor, mu: torch.Tensor, floor: float) -> torch.Tensor:
    """β = max(‖V‖²_Σ, floor): (R,)."""
    return sigma_inner(V, V, sigma_matrix(mu)).clamp_min(floor)


def attention_curvature(
    V: torch.Tensor, mu: torch.Tensor, floor: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(μ_k · max(β, floor) for every k: (R, N); κ = α / max(β, floor): (R,)), with
    α = ‖Vμ‖² and β = ‖V‖²_Σ: the a_k-Hessian μ_k(α11ᵀ + βI) = μ_k β (I + κ11ᵀ)."""
    beta = _floored_beta(V, mu, floor)
    alpha = ((V @ mu.unsqueeze(-1)).squeeze(-1) ** 2).sum(-1)
    return mu * beta.unsqueeze(-1), alpha / beta
