"""``pppd``: preconditioned projected proximal descent, the paper's algorithm (docs/reference.md
§5.1).

Per step, from a fresh batch of m samples and the token frequencies μ̂ of all samples seen
(η_t = η₀ / (1 + decay·t); every quantity is observable: the algorithm never reads P or Q*).

Variant ``sparse`` (the default, §5.1.3):

    V ← Π(V − η_V G_V H(A)⁻¹)        Π: every column of V onto the simplex (V ≥ 0, 1ᵀV = 1ᵀ)
    a_k ← argmin_{a ≥ 0} ⟨g_k + λ_k w_k, a − a_k⟩ + (1/2η_A)(a − a_k)ᵀ H_k (a − a_k)
          H_k = μ̂_k(α 11ᵀ + β I),  α = ‖Vμ̂‖²,  β = max(‖V‖²_Σ̂, floor)
          λ_k = λ·√(2 ln T)·σ̂_k       σ̂_k: the batch's per-position gradient noise (MAD)
          w_kt = ε / (a_kt + ε)         reweighted ℓ1 (ε = 0: plain ℓ1, w = 1)

The scale (cV, A/c) is fixed by V's constraint set, so A's sum is free and the ℓ1 term acts on
it; the A-step minimizes the local model in the loss's own curvature exactly
(:func:`scb_verify.prox.newton_step_nonneg`), which keeps it stable along 1, where H_k is
T times stiffer than an isotropic preconditioner assumes. The threshold is the universal level
of the noise the batch itself shows (it falls with the batch and vanishes with exact
gradients), and the weights of the log penalty λε·log(1 + a/ε) put it on entries near 0 and
hardly on the support, which keeps the ℓ1 bias off the support. ``threshold = fixed`` uses λ
in gradient units instead.

Variants ``simplex`` and ``affine`` (§5.1.4, the earlier reading; the former default is
``--set variant=simplex --set lam=0 --set decay=0.02``):

    V ← V − η_V G_V H(A)⁻¹
    z_k = a_k − η_A g_k / (μ̂_k ‖V‖²_Σ̂)
    a_k ← argmin_a ½‖a − z_k‖² + η_A λ‖a‖₁  s.t. 1ᵀa = 1 (affine)  or  a ∈ Δ^T (simplex)

Under 1ᵀa = 1 the ℓ1 term is inert on nonnegative columns (‖a‖₁ = 1 + 2‖a₋‖₁). What each
formulation does with exact gradients and with samples, and the ablations of the default, are
in §5.1.5 and ``benchmarks/recovery.py``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from scb_verify.algorithm import Algorithm, SettingsError, State, check_positive
from scb_verify.gradients import minibatch_gradients
from scb_verify.hookspecs import hookimpl
from scb_verify.precondition import apply_inverse_curvature, attention_curvature, attention_scale
from scb_verify.prox import newton_step_nonneg, prox_columns
from scb_verify.runs import RunSpec
from scb_verify.sampler import Batch

VARIANTS = ("sparse", "simplex", "affine")


def position_noise(G_A: torch.Tensor) -> torch.Tensor:
    """σ̂_k = 1.4826 · median_t |g_kt − median_t g_kt| for every column k: (R, N).

    The minibatch gradient of column k has the same mean at every position off the support
    (docs/reference.md §3: μ_k[(s_k Vμ − Pμ)·Vμ + β a_kt] with a_kt ≈ 0), so its spread across the
    T positions is sampling noise; the median absolute deviation ignores the Q ≪ T support
    positions. Observable from the batch alone; 0 for exact gradients.
    """
    med = G_A.median(dim=-2, keepdim=True).values
    return 1.4826 * (G_A - med).abs().median(dim=-2).values


class PPPD(Algorithm):
    name = "pppd"
    summary = "preconditioned projected proximal descent on the ℓ1-regularized MSE (the paper's)"
    defaults = {
        "variant": "sparse",
        "eta_V": 0.5,
        "eta_A": 0.5,
        "lam": 1.0,
        "eps": 0.003,
        "decay": 0.1,
        "threshold": "noise",
        "precond_floor": 1e-3,
    }

    def check_settings(self, settings: dict[str, Any]) -> None:
        if settings["variant"] not in VARIANTS:
            raise SettingsError(
                f"pppd: variant must be one of {', '.join(VARIANTS)}, got {settings['variant']!r}"
            )
        check_positive(self.name, settings, "eta_V", "eta_A", "precond_floor")
        if settings["lam"] < 0 or settings["decay"] < 0 or settings["eps"] < 0:
            raise SettingsError("pppd: lam, eps and decay must be >= 0")
        if settings["threshold"] not in ("noise", "fixed"):
            raise SettingsError(
                f"pppd: threshold must be 'noise' or 'fixed', got {settings['threshold']!r}"
            )

    def init_state(self, V, A, spec: RunSpec, settings, truth) -> State:
        R, N = V.shape[0], V.shape[-1]
        if settings["variant"] == "sparse":  # a projected method starts inside its constraint set
            V = prox_columns(V, 0.0, "simplex")
        return {
            "V": V.clone(),
            "A": A.clone(),
            # float64 whatever the run's dtype: float32 stops counting past 2^24 tokens
            "counts": torch.ones(R, N, dtype=torch.float64, device=V.device),
        }

    def gradients(self, state: State, batch: Batch | None):
        """(G_V, G_A, μ̂): minibatch gradients and the running token frequencies."""
        counts = state["counts"]
        counts += batch.token_counts(counts.shape[-1])
        mu_hat = (counts / counts.sum(-1, keepdim=True)).to(state["V"].dtype)
        g = minibatch_gradients(state["V"], state["A"], batch)
        return g.V, g.A, mu_hat

    def step(self, state: State, batch: Batch | None, t: int, settings: dict[str, Any]) -> None:
        G_V, G_A, mu = self.gradients(state, batch)
        V, A = state["V"], state["A"]
        scale = 1.0 / (1.0 + settings["decay"] * t)
        eta_V, eta_A = settings["eta_V"] * scale, settings["eta_A"] * scale
        floor, lam = settings["precond_floor"], settings["lam"]
        if settings["variant"] == "sparse":
            D, kappa = attention_curvature(V, mu, floor)
            eps = settings["eps"]
            w = eps / (A + eps) if eps > 0 else 1.0
            if settings["threshold"] == "noise":  # λ · √(2 ln T) · σ̂_k: the universal threshold
                T = A.shape[-2]
                lam = lam * math.sqrt(2.0 * math.log(T)) * position_noise(G_A).unsqueeze(-2)
            b = A - eta_A * (G_A + lam * w) / D.unsqueeze(-2)
            rows = newton_step_nonneg(
                b.transpose(-1, -2), A.sum(-2).unsqueeze(-1), kappa[:, None, None]
            )
            V_new = V - eta_V * apply_inverse_curvature(G_V, mu, A, floor)
            state["V"] = prox_columns(V_new, 0.0, "simplex")
            state["A"] = rows.transpose(-1, -2)
            return
        z = A - eta_A * G_A / attention_scale(V, mu, floor).unsqueeze(-2)
        state["V"] = V - eta_V * apply_inverse_curvature(G_V, mu, A)
        state["A"] = prox_columns(z, eta_A * lam, settings["variant"])


@hookimpl
def register_algorithms():
    return [PPPD()]
