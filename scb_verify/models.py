"""The one-layer transformers of docs/reference.md §2, batched over R independent runs.

Linear: f(X, k; V, A) = V X a_k with a_k = A[:, k]; the softmax transformer (a_k =
softmax(W[:, k])) is the ``softmax`` algorithm, ``plugins/softmax.py``.
X is never formed: with context tokens x (…, T), the attention feature h = X a_k is a
scatter-add of a_k's entries into the token slots, O(T) per sample instead of O(NT).

Shapes: V (R, N, N), A or W (R, T, N), x (R, m, T), k (R, m) → predictions (R, m, N).
"""

from __future__ import annotations

import torch
from torch import nn


def attention_features(A: torch.Tensor, x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """h_i = X_i a_{k_i} ∈ ℝ^N for every sample: h[r, i, x[r, i, t]] += A[r, t, k[r, i]]."""
    return _features(A.transpose(-1, -2).contiguous(), x, k)[0]


def _features(At: torch.Tensor, x: torch.Tensor, k: torch.Tensor):
    """(h, rows, a_sel) from the transposed attention At = Aᵀ (R, N, T), contiguous: the
    features (R, m, N); for each sample the row r·N + k_i of At viewed as (R·N, T); and that
    row, a_sel = a_{k_i} (R·m, T), whose buffer the A-gradient reuses.

    Copying whole rows of a contiguous Aᵀ (``index_select``) is several times faster than
    indexing the strided columns of A."""
    R, m, T = x.shape
    N = At.shape[-2]
    x = x.long()  # batches hold compact tokens; scatter indices are int64
    rows = (torch.arange(R, device=x.device).unsqueeze(1) * N + k).view(-1)
    a_sel = At.view(R * N, T).index_select(0, rows)
    h = torch.zeros(R * m, N, dtype=At.dtype, device=At.device)
    h.scatter_add_(1, x.reshape(R * m, T), a_sel)
    return h.view(R, m, N), rows, a_sel


def predict(V: torch.Tensor, A: torch.Tensor, x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """V X a_k for every sample: (R, m, N)."""
    return attention_features(A, x, k) @ V.transpose(-1, -2)


class LinearTransformer(nn.Module):
    """One-layer linear transformer with merged key–query: parameters V (R, N, N), A (R, T, N)."""

    def __init__(self, V: torch.Tensor, A: torch.Tensor):
        super().__init__()
        self.V = nn.Parameter(V)
        self.A = nn.Parameter(A)

    def attention(self) -> torch.Tensor:
        """The position-attention matrix (R, T, N); its columns are the a_k."""
        return self.A

    def forward(self, x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return predict(self.V, self.attention(), x, k)
