"""Closed-form minibatch gradients of the per-sample loss ℓ = ½‖e_o − V X a_k‖² (SCB_SPEC §5.1).

    G_V = (1/m) Σ_i (V h_i − e_{o_i}) h_iᵀ,            h_i = X_i a_{k_i}
    g_k = (1/m) Σ_{i: k_i = k} X_iᵀ Vᵀ (V h_i − e_{o_i})

computed with gathers and scatter-adds on index batches — no one-hot X, no autograd — in
O(m (T + N²)) per run. Batched over R runs (leading axis).

All of it is in one pass of each of: gather a_{k_i} (index_select of rows of Aᵀ), scatter-add into
h, gather u_i[x_{i,t}] (into a_{k_i}'s buffer), index-add into G_Aᵀ; the rest is O(m N²) matmuls.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from scb_verify.models import _features
from scb_verify.sampler import Batch, chunks


class MinibatchGradients(NamedTuple):
    """G_V (R, N, N), G_A (R, T, N) and the minibatch loss (R,)."""

    V: torch.Tensor
    A: torch.Tensor
    loss: torch.Tensor


def minibatch_gradients(V: torch.Tensor, A: torch.Tensor, batch: Batch) -> MinibatchGradients:
    """Exact gradients of the mean squared loss over ``batch`` at (V, A).

    Runs are processed in cache-sized groups (:func:`~scb_verify.sampler.chunks`)."""
    x, k, o = batch.x, batch.k, batch.o
    R, m, T = x.shape
    parts = [
        _gradients(V[rs], A[rs], x[rs], k[rs], o[rs])
        for rs in chunks(R, m * T, x.device)
    ]
    if len(parts) == 1:
        return parts[0]
    return MinibatchGradients(*(torch.cat(p) for p in zip(*parts, strict=True)))


def _gradients(V, A, x, k, o) -> MinibatchGradients:
    R, m, T = x.shape
    N = V.shape[-1]
    h, rows, a_sel = _features(A, x, k)  # h (R, m, N)
    resid = h @ V.transpose(-1, -2)  # V h_i − e_{o_i}, after subtracting the one-hot below
    resid.view(R * m, N).scatter_add_(1, o.reshape(R * m, 1), resid.new_full((R * m, 1), -1.0))
    loss = 0.5 * resid.square().sum(-1).mean(-1)
    G_V = resid.transpose(-1, -2) @ h / m
    u = (resid @ V).view(R * m, N)  # row i is (Vᵀ resid_i)ᵀ
    w = torch.gather(u, 1, x.reshape(R * m, T), out=a_sel)  # (X_iᵀ Vᵀ resid_i)_t = u_i[x_{i,t}]
    G_At = torch.zeros(R * N, T, dtype=V.dtype, device=V.device).index_add_(0, rows, w)
    return MinibatchGradients(G_V, (G_At / m).view(R, N, T).transpose(-1, -2), loss)
