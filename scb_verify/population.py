"""Exact population loss and gradients of the linear transformer (docs/reference.md §3).

With Σ = diag(μ) − μμᵀ, ⟨U, W⟩_Σ = tr(U Σ Wᵀ), s_k = 1ᵀa_k, r_k = 1ᵀq_k:

    L(V, A) = ½ Σ_k μ_k [ ‖s_k Vμ − r_k Pμ‖² + ‖a_k‖²‖V‖²_Σ − 2(a_k·q_k)⟨V, P⟩_Σ + ‖q_k‖²‖P‖²_Σ ]
              + ½σ²,      σ² = 1 − Σ_k μ_k (r_k²‖Pμ‖² + ‖q_k‖²‖P‖²_Σ)
    ∂L/∂V   = Σ_k μ_k [ s_k(s_k Vμ − r_k Pμ)μᵀ + ‖a_k‖² VΣ − (a_k·q_k) PΣ ]
    ∂L/∂a_k = μ_k [ ((s_k Vμ − r_k Pμ)·Vμ) 1 + ‖V‖²_Σ a_k − ⟨V, P⟩_Σ q_k ]

:class:`Population` holds one task's constants — or R tasks' stacked along a leading axis — as
torch tensors; every method broadcasts over leading batch dimensions of V (…, N, N) and
A (…, T, N), so R runs are evaluated in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from scb_verify.task import SCBTask


def sigma_matrix(mu: torch.Tensor) -> torch.Tensor:
    """Σ = diag(μ) − μμᵀ, the covariance of a one-hot token drawn from μ (batched over μ's
    leading dims)."""
    return torch.diag_embed(mu) - mu.unsqueeze(-1) * mu.unsqueeze(-2)


def sigma_inner(U: torch.Tensor, W: torch.Tensor, Sigma: torch.Tensor) -> torch.Tensor:
    """⟨U, W⟩_Σ = tr(U Σ Wᵀ) over the last two dims."""
    return ((U @ Sigma) * W).sum(dim=(-2, -1))


class Population:
    """Exact population quantities for one task, or R tasks stacked (all with the same N, T).

    Built with :meth:`of`. Tensors: ``P`` (…, N, N), ``Qstar`` (…, T, N), ``mu`` (…, N),
    ``Sigma`` (…, N, N), and the constants of the loss that do not depend on (V, A).
    """

    def __init__(self, P: torch.Tensor, Qstar: torch.Tensor, mu: torch.Tensor):
        self.P, self.Qstar, self.mu = P, Qstar, mu
        self.Sigma = sigma_matrix(mu)
        self.Pmu = (P @ mu.unsqueeze(-1)).squeeze(-1)
        self.r = Qstar.sum(dim=-2)
        self.q_norm2 = (Qstar**2).sum(dim=-2)
        self.P_norm2_sigma = sigma_inner(P, P, self.Sigma)
        pmu2 = (self.Pmu**2).sum(-1)
        self.noise = 1.0 - (
            mu * (self.r**2 * pmu2.unsqueeze(-1) + self.q_norm2 * self.P_norm2_sigma.unsqueeze(-1))
        ).sum(-1)

    @classmethod
    def of(
        cls,
        tasks: SCBTask | Sequence[SCBTask],
        *,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> Population:
        """Constants for one task (no batch axis) or a sequence of tasks (leading axis R)."""

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.tensor(np.array(a), dtype=dtype, device=device)

        if isinstance(tasks, SCBTask):
            return cls(t(tasks.P), t(tasks.Qstar), t(tasks.mu))
        shapes = {(tk.N, tk.T) for tk in tasks}
        if len(shapes) != 1:
            raise ValueError(f"stacked tasks must share (N, T); got {sorted(shapes)}")
        return cls(
            t(np.stack([tk.P for tk in tasks])),
            t(np.stack([tk.Qstar for tk in tasks])),
            t(np.stack([tk.mu for tk in tasks])),
        )

    # ---- pieces shared by the loss and the gradients

    def _terms(self, V: torch.Tensor, A: torch.Tensor):
        mu = self.mu
        s = A.sum(dim=-2)
        Vmu = (V @ mu.unsqueeze(-1)).squeeze(-1)
        a_norm2 = (A**2).sum(dim=-2)
        aq = (A * self.Qstar).sum(dim=-2)
        VS = sigma_inner(V, V, self.Sigma)
        VPS = sigma_inner(V, self.P, self.Sigma)
        return s, Vmu, a_norm2, aq, VS, VPS

    def loss(self, V: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """Population loss L(V, A) (without the ℓ1 term), batched over leading dims."""
        s, Vmu, a_norm2, aq, VS, VPS = self._terms(V, A)
        diff = s.unsqueeze(-1) * Vmu.unsqueeze(-2) - self.r.unsqueeze(-1) * self.Pmu.unsqueeze(-2)
        per_k = (
            (diff**2).sum(-1)
            + a_norm2 * VS.unsqueeze(-1)
            - 2 * aq * VPS.unsqueeze(-1)
            + self.q_norm2 * self.P_norm2_sigma.unsqueeze(-1)
        )
        return 0.5 * (self.mu * per_k).sum(-1) + 0.5 * self.noise

    def excess_risk(self, V: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """L(V, A) − ½σ² ≥ 0, zero at the ground truth (P, Q*)."""
        return self.loss(V, A) - 0.5 * self.noise

    def grad_V(self, V: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """∂L/∂V (…, N, N)."""
        s, Vmu, a_norm2, aq, _, _ = self._terms(V, A)
        mu = self.mu
        left = (mu * s**2).sum(-1, keepdim=True) * Vmu - (mu * s * self.r).sum(
            -1, keepdim=True
        ) * self.Pmu
        c = (mu * a_norm2).sum(-1)[..., None, None]
        rho = (mu * aq).sum(-1)[..., None, None]
        return (
            left.unsqueeze(-1) * mu.unsqueeze(-2)
            + c * (V @ self.Sigma)
            - rho * (self.P @ self.Sigma)
        )

    def grad_A(self, V: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """∂L/∂A (…, T, N): column k is ∂L/∂a_k."""
        s, Vmu, _, _, VS, VPS = self._terms(V, A)
        diff = s.unsqueeze(-1) * Vmu.unsqueeze(-2) - self.r.unsqueeze(-1) * self.Pmu.unsqueeze(-2)
        shift = (diff * Vmu.unsqueeze(-2)).sum(-1)  # (…, N)
        g = shift.unsqueeze(-2) + VS[..., None, None] * A - VPS[..., None, None] * self.Qstar
        return self.mu.unsqueeze(-2) * g
