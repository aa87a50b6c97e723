"""Seeded, vectorized sampling of SCB data as index arrays (SCB_SPEC §1).

One sample: context tokens x_1..x_T and the query token k = x_{T+1}, all i.i.d. ~ μ; a position
s ~ q_k; the output o ~ P[:, x_s]. Samples are integer index tensors — never dense one-hot —
drawn by inverse-CDF lookups in precomputed tables (no per-sample Python).

A :class:`Sampler` serves R runs at once (tasks stacked along a leading axis, each run with its
own ``torch.Generator``), so a run's data depend on its seed alone, not on what it is batched with.

Each sample of run r consumes T + 3 float64 uniforms of that run's generator — T + 1 tokens, then
the position and the output draws — mapped through the inverse CDFs exactly: a draw u gives the
number of CDF entries ≤ u (what ``searchsorted(cdf, u, right=True)`` returns). The T + 1 token
draws dominate the cost; they go through a :class:`GuideTable` (two table reads and a comparison
per token instead of a binary search). On the CPU a batch is drawn in cache-sized blocks of
samples (:func:`blocks`): a run's generator fills the uniforms of one block at a time — the same
stream as one call for the whole batch — and every temporary stays block-sized.
"""

from __future__ import annotations

import ctypes
import os
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


class GuideTable:
    """Exact inverse-CDF lookup for R distributions over n outcomes (a guide table, or "indexed
    search", Chen & Asau 1974).

    ``draw`` returns, for every uniform u ∈ [0, 1) of run r, the number of entries of
    ``cdf[r]`` that are ≤ u — bit for bit what ``searchsorted(cdf[r], u, right=True)`` returns —
    without a binary search. [0, 1) is cut into K = 2^b equal cells; for cell c the answer is
    ``lo[c]`` (the entries ≤ c/K) plus one for each of the at most ``depth`` CDF entries inside
    the cell that u reaches. u·K is exact (K is a power of two), so the cell is exact too. K is
    the smallest power of two ≥ 8n (and ≥ 256) that puts at most one CDF entry in each cell
    (``depth`` 1: one comparison per draw), up to 2^14 (beyond, tiny probabilities cost one more
    comparison each rather than a larger table).
    """

    def __init__(self, cdf: torch.Tensor):
        R, n = cdf.shape
        for b in range(min(14, max(8, (8 * n - 1).bit_length())), 15):  # K = 2^b ≤ 2^14
            K = 1 << b
            edges = torch.arange(K + 1, dtype=cdf.dtype, device=cdf.device) / K
            lo = torch.searchsorted(cdf, edges[:-1].expand(R, K).contiguous(), right=True)
            hi = torch.searchsorted(cdf, edges[1:].expand(R, K).contiguous(), right=False)
            depth = max(1, int((hi - lo).max()))
            if depth == 1:
                break
        self.K, self.depth = K, depth
        # thresholds[j][r, c] = cdf[r, lo + j]; past the last entry, 2 (never reached by u < 1).
        pad = torch.full((R, self.depth), 2.0, dtype=cdf.dtype, device=cdf.device)
        padded = torch.cat([cdf, pad], 1)
        self.lo = lo.flatten()  # run r's table is entries r·K … r·K + K − 1
        self.thresholds = [padded.gather(1, lo + j).flatten() for j in range(self.depth)]

    def draw(
        self, u: torch.Tensor, base: torch.Tensor, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Uniforms u (R′, …) in [0, 1) → int64 outcomes of the same shape (written into ``out``,
        contiguous, if given); ``base`` (R′, 1, …) is where each run's table starts (run · K)."""
        scaled = u * self.K
        cell = scaled.long().add_(base).view(-1)
        if out is None:
            out = torch.empty(u.shape, dtype=torch.int64, device=u.device)
        torch.index_select(self.lo, 0, cell, out=out.view(-1))
        for thr in self.thresholds:  # the thresholds reuse the buffer of u·K
            out += u >= torch.index_select(thr, 0, cell, out=scaled.view(-1)).view(u.shape)
        return out

    def select(self, idx: torch.Tensor) -> None:
        """Keep only the distributions (runs) listed in ``idx``."""
        cells = (idx.unsqueeze(-1) * self.K + torch.arange(self.K, device=idx.device)).flatten()
        self.lo = self.lo[cells]
        self.thresholds = [thr[cells] for thr in self.thresholds]


def blocks(runs: int, m: int, per_sample: int, device: torch.device) -> list[tuple[slice, slice]]:
    """Split (runs, samples) = (R, m) into blocks (runs, rows) of about :data:`CHUNK` elements
    when each sample has ``per_sample`` of them: groups of whole runs, or, when one run is too
    large, row ranges of one run — so ``x[runs, rows]`` is always contiguous. On the CPU this
    keeps a step's temporaries cache-sized and its peak memory small; an accelerator takes
    everything at once."""
    if device.type != "cpu" or runs * m * per_sample <= CHUNK:
        return [(slice(0, runs), slice(0, m))]
    if m * per_sample <= CHUNK:  # groups of whole runs
        step = _even(runs, CHUNK // (m * per_sample))
        return [(slice(r, min(r + step, runs)), slice(0, m)) for r in range(0, runs, step)]
    step = _even(m, max(1, CHUNK // per_sample))  # row ranges of one run
    return [
        (slice(r, r + 1), slice(i, min(i + step, m)))
        for r in range(runs)
        for i in range(0, m, step)
    ]


def _even(n: int, about: int) -> int:
    """The step that splits n into near-equal parts of about ``about`` each."""
    parts = max(1, round(n / about))
    return -(-n // parts)


#: Elements per block on the CPU (512 KiB per 8-byte temporary, about an L2 cache). 2^17 is
#: as fast at the reference size but doubles the temporaries.
CHUNK = 1 << 16


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the
    kernel (once per process; a no-op elsewhere, or when any ``MALLOC_*`` variable is set, i.e.
    the allocator is being configured by hand). Returns whether the setting is in force.

    A training step allocates the same few large buffers again and again. By default glibc
    serves blocks ≥ 128 KiB–32 MiB with fresh ``mmap`` s and returns freed heap tops, so each step
    page-faults its buffers in anew; on a VM a fault costs microseconds, which made the CPU
    engine spend up to half its time in the kernel. Equivalent to running with
    ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<huge>``; the cost is that the process keeps its
    peak heap until it exits.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED is None:
        _MALLOC_TUNED = False
        if not any(k.startswith("MALLOC_") for k in os.environ):
            try:
                mallopt = ctypes.CDLL(None).mallopt  # glibc only
                M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
                _MALLOC_TUNED = bool(mallopt(M_TRIM_THRESHOLD, 1 << 30) and mallopt(M_MMAP_MAX, 0))
            except (AttributeError, OSError, TypeError):
                pass
    return _MALLOC_TUNED


_MALLOC_TUNED: bool | None = None


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
        keep_freed_memory()
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
        mu_cdf = torch.as_tensor(np.stack([_cumulative(t.mu) for t in tasks]), **f64)
        self._tokens = GuideTable(mu_cdf)
        self._pos = torch.as_tensor(pos, device=self.device)
        self._pos_cdf = torch.as_tensor(cdf, **f64)
        # Row j of _next_cdf is the CDF of column j of P (the law of the token after j).
        self._next_cdf = torch.as_tensor(np.stack([_cumulative(t.P.T) for t in tasks]), **f64)
        self._gens = []
        for s in seeds:
            g = torch.Generator(device=self.device)
            g.manual_seed(int(s))
            self._gens.append(g)
        self._u: torch.Tensor | None = None  # uniforms of one block, reused

    @property
    def runs(self) -> int:
        """Number of stacked runs R."""
        return len(self._gens)

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the runs where the boolean mask ``keep`` (R,) is true."""
        idx = torch.nonzero(keep.to(self.device)).flatten()
        self._tokens.select(idx)
        self._pos = self._pos[idx]
        self._pos_cdf = self._pos_cdf[idx]
        self._next_cdf = self._next_cdf[idx]
        self._gens = [self._gens[i] for i in idx.tolist()]
        self._u = None

    def _uniforms(self, runs: slice, rows: slice) -> torch.Tensor:
        """(R′, m′, T + 3) float64: for each run of ``runs``, the next m′ rows of
        ``torch.rand(m, T + 3)`` from its generator (in a reused buffer)."""
        shape = (runs.stop - runs.start, rows.stop - rows.start, self.T + 3)
        size = shape[0] * shape[1] * shape[2]
        if self._u is None or self._u.numel() < size:
            self._u = torch.empty(size, dtype=torch.float64, device=self.device)
        u = self._u[:size].view(shape)
        for j, r in enumerate(range(runs.start, runs.stop)):
            torch.rand(shape[1:], generator=self._gens[r], dtype=torch.float64, out=u[j])
        return u

    def sample(self, m: int) -> Batch:
        """Draw m fresh samples for every run."""
        R, T = self.runs, self.T
        x = torch.empty((R, m, T), dtype=torch.int64, device=self.device)
        last = torch.empty((R, m, 3), dtype=torch.float64, device=self.device)  # k, s, o draws
        ridx = torch.arange(R, device=self.device).unsqueeze(1)
        base = ridx * self._tokens.K  # where each run's guide table starts
        for runs, rows in blocks(R, m, T + 3, self.device):
            u = self._uniforms(runs, rows)
            self._tokens.draw(u[..., :T], base[runs].unsqueeze(-1), out=x[runs, rows])
            last[runs, rows] = u[..., T:]
        k = self._tokens.draw(last[..., 0], base)
        j = (last[..., 1:2] >= self._pos_cdf[ridx, k]).sum(-1)
        s = self._pos[ridx, k].gather(-1, j.unsqueeze(-1))
        xs = x.gather(-1, s).squeeze(-1)
        o = (last[..., 2:3] >= self._next_cdf[ridx, xs]).sum(-1)
        return Batch(x=x, k=k, o=o)
