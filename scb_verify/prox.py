"""The proximal step with projection of SCB_SPEC §5.1, exact and vectorized.

Affine variant:   a = argmin_a ½‖a − z‖² + τ‖a‖₁  s.t. 1ᵀa = 1   ⇒  a = soft(z − ν, τ)
Simplex variant:  a = argmin_a ½‖a − z‖² + τ‖a‖₁  s.t. a ≥ 0, 1ᵀa = 1
                  (on the simplex ‖a‖₁ = 1 is constant, so this is the Euclidean projection
                  a = (z − ν)₊, which is itself sparse)

In both, ν is the root of φ(ν) = Σ_t ψ(z_t − ν) − 1 for a non-decreasing piecewise-linear ψ
(ψ = soft(·, τ) or ψ = (·)₊). φ is continuous and non-increasing, so we evaluate it at every
breakpoint with sorted prefix sums (O(T log T)), find the segment where it crosses 1, and solve
the linear piece exactly: no iterative search, exact to rounding.

Columns run along dim −2: z has shape (…, T, N), one constraint per column.
"""

from __future__ import annotations

from typing import Literal

import torch

Variant = Literal["affine", "simplex"]


def soft_threshold(z: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """soft(z, τ) = sign(z)·max(|z| − τ, 0)."""
    return torch.sign(z) * torch.clamp(z.abs() - tau, min=0.0)


def _sum_relu_at(sorted_u: torch.Tensor, nu: torch.Tensor) -> torch.Tensor:
    """Σ_t max(u_t − ν, 0) for each query ν, with u sorted ascending along the last dim."""
    T = sorted_u.shape[-1]
    suffix = torch.flip(torch.cumsum(torch.flip(sorted_u, [-1]), -1), [-1])
    suffix = torch.cat([suffix, torch.zeros_like(suffix[..., :1])], -1)  # suffix[j] = Σ_{t≥j} u_t
    j = torch.searchsorted(sorted_u.contiguous(), nu.contiguous(), right=True)
    return suffix.gather(-1, j) - (T - j) * nu


def _root(upper: torch.Tensor, lower: torch.Tensor | None) -> torch.Tensor:
    """ν solving Σ max(u_t − ν, 0) − Σ max(ν − l_t, 0) = 1 (rows along the last dim).

    ``upper`` are the u_t (z − τ for soft, z for relu); ``lower`` the l_t (z + τ) or None.
    """
    u = torch.sort(upper, -1).values
    if lower is None:
        breaks = u
        phi = _sum_relu_at(u, breaks)
    else:
        l_neg = torch.sort(-lower, -1).values  # Σ max(ν − l, 0) = Σ max((−l) − (−ν), 0)
        breaks = torch.sort(torch.cat([u, lower], -1), -1).values
        phi = _sum_relu_at(u, breaks) - _sum_relu_at(l_neg, -breaks)
    T = upper.shape[-1]
    # φ is non-increasing along the sorted breakpoints: count those with φ ≥ 1.
    idx = (phi >= 1.0).sum(-1, keepdim=True)
    hi = idx.clamp(max=breaks.shape[-1] - 1)
    lo = (idx - 1).clamp(min=0)
    b_lo, b_hi = breaks.gather(-1, lo), breaks.gather(-1, hi)
    f_lo, f_hi = phi.gather(-1, lo), phi.gather(-1, hi)
    # Inside a segment φ is linear; left of the first breakpoint its slope is −T.
    inside = b_lo + (f_lo - 1.0) * (b_hi - b_lo) / (f_lo - f_hi).clamp_min(1e-300)
    left = b_hi - (1.0 - f_hi) / T
    return torch.where(idx == 0, left, inside).squeeze(-1)


def prox_columns(z: torch.Tensor, tau: float | torch.Tensor, variant: Variant) -> torch.Tensor:
    """Apply the constrained ℓ1 prox to every column of z (…, T, N) with threshold τ ≥ 0."""
    zt = z.transpose(-1, -2)  # (…, N, T): one row per constraint
    if variant == "affine":
        tau_t = torch.as_tensor(tau, dtype=z.dtype, device=z.device)
        while tau_t.dim() and tau_t.dim() < zt.dim():
            tau_t = tau_t.unsqueeze(-1)
        nu = _root(zt - tau_t, zt + tau_t)
        out = soft_threshold(zt - nu.unsqueeze(-1), tau_t)
    elif variant == "simplex":
        nu = _root(zt, None)
        out = torch.clamp(zt - nu.unsqueeze(-1), min=0.0)
    else:
        raise ValueError(f"variant must be 'affine' or 'simplex', got {variant!r}")
    return out.transpose(-1, -2)
