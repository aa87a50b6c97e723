"""Closed-form minibatch gradients of the per-sample loss ℓ = ½‖e_o − V X a_k‖² (SCB_SPEC §5.1).

    G_V = (1/m) Σ_i (V h_i − e_{o_i}) h_iᵀ,            h_i = X_i a_{k_i}
    g_k = (1/m) Σ_{i: k_i = k} X_iᵀ Vᵀ (V h_i − e_{o_i})

computed with gathers and scatter-adds on index batches — no one-hot X, no autograd — in
O(m (T + N²)) per run. Batched over R runs (leading axis).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from scb_verify.models import attention_features
from scb_verify.sampler import Batch


class MinibatchGradients(NamedTuple):
    """G_V (R, N, N), G_A (R, T, N) and the minibatch loss (R,)."""

    V: torch.Tensor
    A: torch.Tensor
    loss: torch.Tensor


def minibatch_gradients(V: torch.Tensor, A: torch.Tensor, batch: Batch) -> MinibatchGradients:
    """Exact gradients of the mean squared loss over ``batch`` at (V, A)."""
    x, k, o = batch.x, batch.k, batch.o
    R, m, T = x.shape
    N = V.shape[-1]
    h = attention_features(A, x, k)  # (R, m, N)
    resid = h @ V.transpose(-1, -2)
    resid = resid.scatter_add(-1, o.unsqueeze(-1), torch.full_like(resid[..., :1], -1.0))
    loss = 0.5 * (resid**2).sum(-1).mean(-1)
    G_V = resid.transpose(-1, -2) @ h / m
    u = resid @ V  # row i is (Vᵀ resid_i)ᵀ
    w = u.gather(-1, x)  # (R, m, T): (X_iᵀ Vᵀ resid_i)_t = u_i[x_{i,t}]
    rows = (torch.arange(R, device=x.device).unsqueeze(1) * N + k).flatten()
    G_At = torch.zeros(R * N, T, dtype=V.dtype, device=V.device)
    G_At.index_add_(0, rows, w.reshape(R * m, T))
    G_A = G_At.view(R, N, T).transpose(-1, -2) / m
    return MinibatchGradients(G_V, G_A, loss)
