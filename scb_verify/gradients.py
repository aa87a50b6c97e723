"""Closed-form minibatch gradients of the per-sample loss ℓ = ½‖e_o − V X a_k‖² (docs/reference.md
§5.1).

    G_V = (1/m) Σ_i (V h_i − e_{o_i}) h_iᵀ,            h_i = X_i a_{k_i}
    g_k = (1/m) Σ_{i: k_i = k} X_iᵀ Vᵀ (V h_i − e_{o_i})

in O(m (T + N²)) per run, batched over R runs (leading axis), without one-hot X or autograd.
For a batch of the compiled sampling engine (the CPU's) the sums run in the compiled loop
:func:`scb_verify.kernels.minibatch_gradients` (one pass per sample, partial sums in float64);
for the tensor engine's (any device, :mod:`scb_verify.sampler`) :func:`reference_gradients`
computes them with gathers and scatter-adds — four passes over (m, T) arrays: copy the rows
a_{k_i} of Aᵀ, scatter-add them into h, gather u_i[x_{i,t}] with u_i = Vᵀ(V h_i − e_{o_i}),
index-add those rows into G_Aᵀ; the rest is O(m N²) matmuls — over chunks of samples of at
most :data:`scb_verify.tensor_kernels.CHUNK_TOKENS` tokens, so that its temporaries stay
bounded. The two agree to rounding (tests).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from scb_verify import kernels, tensor_kernels
from scb_verify.models import _features
from scb_verify.sampler import Batch


class MinibatchGradients(NamedTuple):
    """G_V (R, N, N), G_A (R, T, N) and the minibatch loss (R,)."""

    V: torch.Tensor
    A: torch.Tensor
    loss: torch.Tensor


@torch.no_grad()
def minibatch_gradients(V: torch.Tensor, A: torch.Tensor, batch: Batch) -> MinibatchGradients:
    """Exact gradients of the mean squared loss over ``batch`` at (V, A), in V's dtype."""
    if V.device.type != "cpu" or batch.engine == "tensor":
        return reference_gradients(V, A, batch)
    R, _, T = batch.x.shape
    N = V.shape[-1]
    out = MinibatchGradients(V.new_empty(R, N, N), V.new_empty(R, T, N), V.new_empty(R))
    At = A.transpose(-1, -2).contiguous()
    kernels.minibatch_gradients(
        V.contiguous().numpy(),
        At.numpy(),
        batch.x.numpy(),
        batch.k.numpy(),
        batch.o.numpy(),
        *(g.numpy() for g in out),
    )
    return out


@torch.no_grad()
def reference_gradients(V: torch.Tensor, A: torch.Tensor, batch: Batch) -> MinibatchGradients:
    """The same gradients as tensor operations (any device): the accelerator path, and the
    reference the compiled loop is tested against."""
    R, m, T = batch.x.shape
    At = A.transpose(-1, -2).contiguous()
    step = max(1, tensor_kernels.CHUNK_TOKENS // max(1, R * T))
    sums = [_sums(V, At, batch.x[:, i : i + step], batch.k[:, i : i + step],
                  batch.o[:, i : i + step]) for i in range(0, m, step)]  # fmt: skip
    G_V, G_At, loss = (sum(parts[1:], parts[0]) for parts in zip(*sums, strict=True))
    return MinibatchGradients(G_V / m, (G_At / m).transpose(-1, -2), loss / m)


def _sums(V: torch.Tensor, At: torch.Tensor, x: torch.Tensor, k: torch.Tensor, o: torch.Tensor):
    """Σ_i r_i h_iᵀ (R, N, N), the Σ_{i: k_i = k} of Aᵀ's gradient rows (R, N, T) and Σ_i ℓ_i
    (R,) over the samples (x, k, o) given; ``At`` = Aᵀ, contiguous."""
    x = x.long()
    R, m, T = x.shape
    N = V.shape[-1]
    h, rows, a_sel = _features(At, x, k)  # h (R, m, N)
    resid = h @ V.transpose(-1, -2)  # V h_i − e_{o_i}, after subtracting the one-hot below
    resid.scatter_add_(-1, o.unsqueeze(-1), resid.new_full((R, m, 1), -1.0))
    loss = 0.5 * resid.square().sum((-2, -1))
    G_V = resid.transpose(-1, -2) @ h
    u = (resid @ V).view(R * m, N)  # row i is (Vᵀ resid_i)ᵀ
    w = torch.gather(u, 1, x.reshape(R * m, T), out=a_sel)  # (X_iᵀ Vᵀ resid_i)_t = u_i[x_{i,t}]
    G_At = V.new_zeros(R * N, T).index_add_(0, rows, w).view(R, N, T)
    return G_V, G_At, loss
