"""The proximal step with projection of docs/reference.md §5.1, exact and vectorized.

Affine variant:   a = argmin_a ½‖a − z‖² + τ‖a‖₁  s.t. 1ᵀa = 1   ⇒  a = soft(z − ν, τ)
Simplex variant:  a = argmin_a ½‖a − z‖² + τ‖a‖₁  s.t. a ≥ 0, 1ᵀa = 1
                  (on the simplex ‖a‖₁ = 1 is constant, so this is the Euclidean projection
                  a = (z − ν)₊, which is itself sparse)

In both, ν is the root of the continuous, non-increasing, piecewise-linear
φ(ν) = Σ_t ψ(z_t − ν) − 1, with ψ = soft(·, τ) or ψ = (·)₊. One sort of z per column gives every
breakpoint and, through prefix sums, φ at all of them in O(T); the root lies on the segment
where φ crosses 1, on which φ is linear and is solved exactly: no iterative search, exact to
rounding.

- Simplex: the breakpoints are the z_t; this is the classic sort + cumsum projection (Held et al.
  1974; Duchi et al. 2008): with z sorted decreasingly and c_j = Σ_{i≤j} z_(i), ρ = #{j:
  z_(j) > (c_j − 1)/j} and ν = (c_ρ − 1)/ρ.
- Affine: the breakpoints are z_t − τ (where a term becomes positive) and z_t + τ (negative), two
  lists sorted by the same order of z. At a breakpoint b, φ(b) + 1 = Σ_{z_t > b+τ}(z_t − τ − b)
  − Σ_{z_t < b−τ}(b − τ − z_t); the counts of each sum come from one ``searchsorted`` per list.

Columns run along dim −2: z has shape (…, T, N), one constraint per column.

The sparse variant's step (:func:`newton_step_nonneg`) is a different subproblem: a ≥ 0 with a
free sum, and a metric that is not the identity but the diagonal-plus-rank-one curvature of the
loss in a_k (docs/reference.md §5.1). Its solution has the same shape a = (b − ν)₊ with one
scalar per column, found by the same sort + cumsum argument.
"""

from __future__ import annotations

from typing import Literal

import torch

Variant = Literal["affine", "simplex"]


def soft_threshold(z: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """soft(z, τ) = sign(z)·max(|z| − τ, 0)."""
    return torch.sign(z) * torch.clamp(z.abs() - tau, min=0.0)


def _sorted_shift(z: torch.Tensor, s0: float | torch.Tensor, inv_kappa: float | torch.Tensor):
    """ν with Σ_t max(z_t − ν, 0) = s0 + ν·inv_kappa for every row of z (…, T), by one sort.

    With z sorted decreasingly and C_j = Σ_{i≤j} z_(i), the root on the piece where the top j
    entries are positive is ν_j = (C_j − s0)/(j + inv_kappa); the active count is
    ρ = #{j : z_(j)·(j + inv_kappa) > C_j − s0}. ρ = 0 (no entry positive) leaves ν = −s0/inv_kappa.
    inv_kappa = 0, s0 = 1 is the simplex projection's shift (Held et al. 1974; Duchi et al. 2008),
    where ρ ≥ 1 always: z_(1)·1 > z_(1) − 1.
    """
    zs = torch.sort(z, -1, descending=True).values
    c = zs.cumsum(-1) - s0
    j = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device) + inv_kappa
    rho = (zs * j > c).sum(-1, keepdim=True)
    at = (rho - 1).clamp_min(0)
    nu = c.gather(-1, at) / j.expand_as(c).gather(-1, at)
    if not torch.is_tensor(inv_kappa) and inv_kappa == 0:
        return nu  # the simplex: ρ ≥ 1 for every finite row (a non-finite one stays non-finite)
    return torch.where(rho > 0, nu, -s0 / inv_kappa)


def _simplex_shift(z: torch.Tensor) -> torch.Tensor:
    """ν with Σ_t max(z_t − ν, 0) = 1 for every row of z (…, T)."""
    return _sorted_shift(z, 1.0, 0.0).squeeze(-1)


def _affine_shift(z: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """ν with Σ_t soft(z_t − ν, τ) = 1 for every row of z (…, T); τ ≥ 0 broadcasts as (…, 1)."""
    T = z.shape[-1]
    zs = torch.sort(z, -1).values.contiguous()  # ascending
    zero = torch.zeros_like(zs[..., :1])
    prefix = torch.cat([zero, zs.cumsum(-1)], -1)  # prefix[j] = Σ_{t<j} zs_t
    total = prefix[..., -1:]

    def phi(b: torch.Tensor) -> torch.Tensor:
        """φ(b) + 1 at the points b (…, B), exactly as the sums of the terms it counts."""
        hi = torch.searchsorted(zs, (b + tau).contiguous(), right=True)  # zs[hi:] > b + τ
        lo = torch.searchsorted(zs, (b - tau).contiguous(), right=False)  # zs[:lo] < b − τ
        pos = (total - prefix.gather(-1, hi)) - (T - hi) * (b + tau)
        neg = lo * (b - tau) - prefix.gather(-1, lo)
        return pos - neg

    breaks = torch.cat([zs - tau, zs + tau], -1)
    f = phi(breaks)
    # φ is non-increasing: the root lies between the largest breakpoint where φ + 1 ≥ 1 and the
    # smallest where it is < 1 (one always exists: at max z + τ every term is ≤ 0).
    above = f >= 1.0
    inf = torch.tensor(float("inf"), dtype=z.dtype, device=z.device)
    b_lo = torch.where(above, breaks, -inf).amax(-1, keepdim=True)
    f_lo = torch.where(above, f, inf).amin(-1, keepdim=True)
    b_hi = torch.where(above, inf, breaks).amin(-1, keepdim=True)
    f_hi = torch.where(above, -inf, f).amax(-1, keepdim=True)
    # φ is linear between the two: interpolate (the fraction is in [0, 1], so ν stays in the
    # segment whatever the rounding). Left of every breakpoint all T terms are z_t − τ − ν.
    frac = torch.where(f_lo > f_hi, (f_lo - 1.0) / (f_lo - f_hi), 0.0).clamp(0.0, 1.0)
    inside = b_lo + frac * (b_hi - b_lo)
    left = (total - T * tau - 1.0) / T
    return torch.where(above.any(-1, keepdim=True), inside, left).squeeze(-1)


def prox_columns(z: torch.Tensor, tau: float | torch.Tensor, variant: Variant) -> torch.Tensor:
    """Apply the constrained ℓ1 prox to every column of z (…, T, N) with threshold τ ≥ 0
    (a number, or a tensor broadcasting over the leading dims, e.g. one τ per run)."""
    zt = z.transpose(-1, -2)  # (…, N, T): one row per constraint
    if variant == "affine":
        tau_t = torch.as_tensor(tau, dtype=z.dtype, device=z.device)
        while tau_t.dim() and tau_t.dim() < zt.dim():
            tau_t = tau_t.unsqueeze(-1)
        tau_t = tau_t.expand(*zt.shape[:-1], 1) if tau_t.dim() else tau_t
        nu = _affine_shift(zt, tau_t)
        out = soft_threshold(zt - nu.unsqueeze(-1), tau_t)
    elif variant == "simplex":
        nu = _simplex_shift(zt)
        out = torch.clamp(zt - nu.unsqueeze(-1), min=0.0)
    else:
        raise ValueError(f"variant must be 'affine' or 'simplex', got {variant!r}")
    return out.transpose(-1, -2)


def newton_step_nonneg(b: torch.Tensor, s0: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """a = (b − ν)₊ with ν the root of Σ_t (b_t − ν)₊ = s0 + ν/κ, one row per constraint (…, T).

    This is the exact minimizer over a = a0 + d ≥ 0 of ⟨g + λw, d⟩ + (1/2η)·dᵀ(μβ)(I + κ11ᵀ)d,
    the curvature μ(α11ᵀ + βI) of docs/reference.md §5.1 with κ = α/β, written with
    b = a0 − η(g + λw)/(μβ) and s0 = 1ᵀa0: the KKT conditions give d_t = max(−a0_t,
    b_t − a0_t − κσ) with σ = 1ᵀd, i.e. a = (b − ν)₊ with ν = κσ and σ = Σ(b − ν)₊ − s0.
    The left side is non-increasing in ν and the right side increasing, so the root is unique;
    with b sorted decreasingly and C_j = Σ_{i≤j} b_(i), the root on the piece where the top j
    entries are positive is ν_j = (C_j − s0)/(j + 1/κ), and the active count is
    ρ = #{j : b_(j) > ν_j} (ν = −κ·s0 when no entry stays positive). s0 and κ broadcast as
    (…, 1); κ > 0.
    """
    nu = _sorted_shift(b, s0, 1.0 / kappa)
    return (b - nu).clamp_min(0.0)
