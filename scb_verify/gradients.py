"""Closed-form minibatch gradients of the per-sample loss ℓ = ½‖e_o − V X a_k‖² (SCB_SPEC §5.1).

    G_V = (1/m) Σ_i (V h_i − e_{o_i}) h_iᵀ,            h_i = X_i a_{k_i}
    g_k = (1/m) Σ_{i: k_i = k} X_iᵀ Vᵀ (V h_i − e_{o_i})

computed with gathers and scatter-adds on index batches — no one-hot X, no autograd — in
O(m (T + N²)) per run. Batched over R runs (leading axis). The O(mT) part is four passes over
(m, T) arrays: copy the rows a_{k_i} of Aᵀ, scatter-add them into h, gather u_i[x_{i,t}] with
u_i = Vᵀ(V h_i − e_{o_i}) (into the same buffer), index-add those rows into G_Aᵀ; the rest is
O(m N²) matmuls.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from scb_verify.models import _features
from scb_verify.sampler import Batch, blocks


class MinibatchGradients(NamedTuple):
    """G_V (R, N, N), G_A (R, T, N) and the minibatch loss (R,)."""

    V: torch.Tensor
    A: torch.Tensor
    loss: torch.Tensor


@torch.no_grad()
def minibatch_gradients(V: torch.Tensor, A: torch.Tensor, batch: Batch) -> MinibatchGradients:
    """Exact gradients of the mean squared loss over ``batch`` at (V, A).

    The sums over samples run block by block (:func:`~scb_verify.sampler.blocks`), so the
    O(mT) temporaries stay cache-sized."""
    x, k, o = batch.x, batch.k, batch.o
    R, m, T = x.shape
    N = V.shape[-1]
    G_V = V.new_zeros(R, N, N)
    G_At = V.new_zeros(R, N, T)  # Aᵀ-shaped: row k collects the samples with query k
    loss = V.new_zeros(R)
    At = A.transpose(-1, -2).contiguous()
    for runs, rows in blocks(R, m, T, x.device):
        sums = G_V[runs], G_At[runs], loss[runs]
        _accumulate(V[runs], At[runs], x[runs, rows], k[runs, rows], o[runs, rows], *sums)
    return MinibatchGradients(G_V / m, (G_At / m).transpose(-1, -2), loss / m)


def _accumulate(V, At, x, k, o, G_V, G_At, loss) -> None:
    """Add the sums over the samples (x, k, o) of one block into G_V, G_Aᵀ, loss (in place)."""
    R, m, T = x.shape
    N = V.shape[-1]
    h, rows, a_sel = _features(At, x, k)  # h (R, m, N)
    resid = h @ V.transpose(-1, -2)  # V h_i − e_{o_i}, after subtracting the one-hot below
    resid.scatter_add_(-1, o.unsqueeze(-1), resid.new_full((R, m, 1), -1.0))
    loss += 0.5 * resid.square().sum((-2, -1))
    G_V.baddbmm_(resid.transpose(-1, -2), h)
    u = (resid @ V).view(R * m, N)  # row i is (Vᵀ resid_i)ᵀ
    w = torch.gather(u, 1, x.reshape(R * m, T), out=a_sel)  # (X_iᵀ Vᵀ resid_i)_t = u_i[x_{i,t}]
    G_At.view(R * N, T).index_add_(0, rows, w)
