"""Seeded, vectorized sampling of SCB data as index arrays (SCB_SPEC §1).

One sample: context tokens x_1..x_T and the query token k = x_{T+1}, all i.i.d. ~ μ; a position
s ~ q_k; the output o ~ P[:, x_s]. Samples are integer index tensors — never dense one-hot —
drawn with inverse-CDF lookups in precomputed cumulative tables (no per-sample Python).

A :class:`Sampler` serves R runs at once (tasks stacked along a leading axis, each run with its
own ``torch.Generator``), so a run's data depend on its seed alone, not on what it is batched with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from scb_verify.task import SCBTask


@dataclass(frozen=True)
class Batch:
    """m samples for each of R runs: ``x`` (R, m, T) context, ``k`` (R, m) query, ``o`` (R, m)
    output token, all int64."""

    x: torch.Tensor
    k: torch.Tensor
    o: torch.Tensor

    @property
    def size(self) -> int:
        """Samples per run (m)."""
        return self.k.shape[-1]


def _cumulative(w: np.ndarray) -> np.ndarray:
    """Row-wise CDF whose last entry is exactly 1, so a uniform draw in [0, 1) never overflows."""
    c = np.cumsum(w, axis=-1)
    c /= c[..., -1:]
    c[..., -1] = 1.0
    return c


class Sampler:
    """Draws :class:`Batch` es for R stacked tasks (same N and T) with per-run seeds."""

    def __init__(
        self,
        tasks: Sequence[SCBTask],
        seeds: Sequence[int],
        *,
        device: torch.device | str = "cpu",
    ):
        if len(tasks) != len(seeds):
            raise ValueError(f"got {len(tasks)} tasks but {len(seeds)} seeds")
        if len({(t.N, t.T) for t in tasks}) != 1:
            raise ValueError("stacked tasks must share N and T")
        self.device = torch.device(device)
        self.N, self.T = tasks[0].N, tasks[0].T
        qmax = max(int((t.Qstar > 0).sum(0).max()) for t in tasks)
        # Support positions and their CDF per (run, token), padded to qmax with CDF 1.
        pos = np.zeros((len(tasks), self.N, qmax), dtype=np.int64)
        cdf = np.ones((len(tasks), self.N, qmax))
        for r, t in enumerate(tasks):
            for k, s in enumerate(t.supports):
                pos[r, k, : s.size] = s
                pos[r, k, s.size :] = s[-1]
                cdf[r, k, : s.size] = _cumulative(t.Qstar[s, k])
        f64 = dict(dtype=torch.float64, device=self.device)
        self._mu_cdf = torch.as_tensor(np.stack([_cumulative(t.mu) for t in tasks]), **f64)
        self._pos = torch.as_tensor(pos, device=self.device)
        self._pos_cdf = torch.as_tensor(cdf, **f64)
        # Row j of _next_cdf is the CDF of column j of P (the law of the token after j).
        self._next_cdf = torch.as_tensor(np.stack([_cumulative(t.P.T) for t in tasks]), **f64)
        self._gens = []
        for s in seeds:
            g = torch.Generator(device=self.device)
            g.manual_seed(int(s))
            self._gens.append(g)

    @property
    def runs(self) -> int:
        """Number of stacked runs R."""
        return len(self._gens)

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the runs where the boolean mask ``keep`` (R,) is true."""
        idx = torch.nonzero(keep.to(self.device)).flatten()
        self._mu_cdf = self._mu_cdf[idx]
        self._pos = self._pos[idx]
        self._pos_cdf = self._pos_cdf[idx]
        self._next_cdf = self._next_cdf[idx]
        self._gens = [self._gens[i] for i in idx.tolist()]

    def sample(self, m: int) -> Batch:
        """Draw m fresh samples for every run."""
        T = self.T
        u = torch.stack(
            [
                torch.rand(m, T + 3, generator=g, dtype=torch.float64, device=self.device)
                for g in self._gens
            ]
        )  # (R, m, T + 3): T + 1 tokens, then the position and the output draws
        tokens = torch.searchsorted(self._mu_cdf, u[..., : T + 1].flatten(1), right=True).view(
            -1, m, T + 1
        )
        x, k = tokens[..., :T], tokens[..., T]
        R = x.shape[0]
        ridx = torch.arange(R, device=self.device).unsqueeze(1)
        pos_cdf = self._pos_cdf[ridx, k]  # (R, m, qmax)
        j = (u[..., T + 1 : T + 2] >= pos_cdf).sum(-1)
        s = self._pos[ridx, k].gather(-1, j.unsqueeze(-1)).squeeze(-1)
        xs = x.gather(-1, s.unsqueeze(-1)).squeeze(-1)
        o = (u[..., T + 2 : T + 3] >= self._next_cdf[ridx, xs]).sum(-1)
        return Batch(x=x, k=k, o=o)
