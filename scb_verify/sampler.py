"""Seeded sampling of SCB data as compact index arrays (docs/reference.md §1).

One sample: context tokens x_1..x_T and the query token k = x_{T+1}, all i.i.d. ~ μ; a position
s ~ q_k; the output o ~ P[:, x_s]. Samples are integer index tensors — never dense one-hot —
drawn by one of two engines (:data:`ENGINES`) that give the same bits:

- ``compiled`` (the default on the CPU): the compiled loop :func:`scb_verify.kernels.draw_samples`,
  per token one 32-bit uniform mapped through the inverse CDF of μ with a guide table (Chen &
  Asau 1974: a table lookup and on average one comparison); per sample one more word for the
  position and the output;
- ``tensor`` (the default on an accelerator): :func:`scb_verify.tensor_kernels.draw_samples`,
  the same counter-based draws as tensor operations on the batch's own device, so nothing is
  drawn on the host and copied.

A :class:`Sampler` serves R runs at once (tasks stacked along a leading axis). Each run has its
own counter-based stream, keyed by its seed: a run's data depend on its seed alone — not on
what it is batched with, the thread count, the engine or the device (tests assert the two
engines bit-identical).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from scb_verify import kernels, tensor_kernels
from scb_verify.task import SCBTask

#: The sampling engines (module docstring).
ENGINES = ("compiled", "tensor")


def default_engine(device: torch.device | str) -> str:
    """``compiled`` on the CPU, ``tensor`` on any other device."""
    return "compiled" if torch.device(device).type == "cpu" else "tensor"


@dataclass(frozen=True)
class Batch:
    """m samples for each of R runs: ``x`` (R, m, T) context tokens in the smallest integer
    dtype that holds N (uint8 up to N = 256: see :func:`token_dtype`), ``k`` (R, m) query and
    ``o`` (R, m) output, int64; ``counts`` (R, N), int64, the histogram of the batch's context
    and query tokens, or None (computed on demand by :meth:`token_counts`); ``engine`` the
    engine that drew it (:data:`ENGINES`), whose gradient kernels consume it
    (:func:`scb_verify.gradients.minibatch_gradients`)."""

    x: torch.Tensor
    k: torch.Tensor
    o: torch.Tensor
    counts: torch.Tensor | None = None
    engine: str = "compiled"

    @property
    def size(self) -> int:
        """Samples per run (m)."""
        return self.k.shape[-1]

    def rows(self, idx: torch.Tensor) -> Batch:
        """The batch of the runs ``idx`` only."""
        idx = idx.to(self.k.device)
        counts = None if self.counts is None else self.counts[idx]
        return Batch(self.x[idx], self.k[idx], self.o[idx], counts=counts, engine=self.engine)

    def token_counts(self, N: int) -> torch.Tensor:
        """(R, N) int64: how often each token occurs among the contexts and queries."""
        if self.counts is not None:
            return self.counts
        tokens = torch.cat([self.x.flatten(1).long(), self.k], 1)
        counts = torch.zeros(tokens.shape[0], N, dtype=torch.int64, device=tokens.device)
        return counts.scatter_add_(1, tokens, torch.ones_like(tokens))


def token_dtype(N: int) -> torch.dtype:
    """The dtype of context tokens over N states: uint8, int16 or int32."""
    if N <= 256:
        return torch.uint8
    return torch.int16 if N <= 1 << 15 else torch.int32


def _integer_cdf(w: np.ndarray) -> np.ndarray:
    """Row-wise CDF of weights w, scaled to 2^32 and rounded, its last entry 2^32: outcome j has
    probability (c_j − c_{j−1})/2^32, within 2^-32 of w_j / Σw."""
    c = np.cumsum(w, axis=-1)
    c = np.rint(c / c[..., -1:] * kernels.SCALE).astype(np.int64)
    c[..., -1] = kernels.SCALE
    return c


def _guide_table(cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Guide tables for R integer CDFs over n outcomes (Chen & Asau 1974): [0, 2^32) cut into
    K = 2^b equal cells (K the smallest power of two ≥ 8n, at least 256, at most 2^16).
    Returns (count, next, shift): ``count[r, c]`` = #{j : c_j ≤ left end of cell c}, or
    −(that + 1) where the cell holds more than one CDF entry (the sampler then searches);
    ``next[r, c]`` the first entry above the left end; shift = 32 − b maps a draw to its cell."""
    n = cdf.shape[-1]
    b = min(16, max(8, (8 * n - 1).bit_length()))
    shift = 32 - b
    left = np.arange(1 << b, dtype=np.int64) << shift
    count = np.stack([np.searchsorted(row, left, side="right") for row in cdf])
    inside = np.stack([np.searchsorted(row, left + (1 << shift) - 1, side="right") for row in cdf])
    following = np.take_along_axis(cdf, count, axis=1)  # count ≤ n − 1: the last entry is 2^32
    count = np.where(inside - count > 1, -count - 1, count)
    return count.astype(np.int64), following.astype(np.int64), shift


class Sampler:
    """Draws :class:`Batch` es for R stacked tasks (same N and T) with per-run seeds, on
    ``device`` with ``engine`` (default :func:`default_engine`; the ``compiled`` engine draws on
    the CPU and moves the batch to ``device``)."""

    def __init__(
        self,
        tasks: Sequence[SCBTask],
        seeds: Sequence[int],
        *,
        device: torch.device | str = "cpu",
        engine: str | None = None,
    ):
        if len(tasks) != len(seeds):
            raise ValueError(f"got {len(tasks)} tasks but {len(seeds)} seeds")
        if len({(t.N, t.T) for t in tasks}) != 1:
            raise ValueError("stacked tasks must share N and T")
        self.engine = engine or default_engine(device)
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; allowed: {', '.join(ENGINES)}")
        self.device = torch.device(device)
        self.N, self.T = tasks[0].N, tasks[0].T
        qmax = max(int((t.Qstar > 0).sum(0).max()) for t in tasks)
        # Support positions and their CDF per (run, token), padded to qmax with CDF 2^32.
        pos = np.zeros((len(tasks), self.N, qmax), dtype=np.int64)
        pos_cdf = np.full((len(tasks), self.N, qmax), kernels.SCALE, dtype=np.int64)
        for r, t in enumerate(tasks):
            for k, s in enumerate(t.supports):
                pos[r, k, : s.size] = s
                pos[r, k, s.size :] = s[-1]
                pos_cdf[r, k, : s.size] = _integer_cdf(t.Qstar[s, k])
        token_cdf = _integer_cdf(np.stack([t.mu for t in tasks]))
        self._token_cdf = token_cdf
        self._pos, self._pos_cdf = pos, pos_cdf
        # Row j of _next_cdf is the CDF of column j of P (the law of the token after j).
        self._next_cdf = _integer_cdf(np.stack([t.P.T for t in tasks]))
        self._keys = np.array([kernels.stream_key(s) for s in seeds], dtype=np.uint64)
        self._drawn = np.zeros(len(tasks), dtype=np.uint64)  # samples drawn so far, per run
        self._tables = ("_token_cdf", "_pos", "_pos_cdf", "_next_cdf", "_keys", "_drawn")
        if self.engine == "tensor":  # the tables on the device, the keys as int64 bits
            for name in self._tables[:-2]:
                setattr(self, name, torch.as_tensor(getattr(self, name), device=self.device))
            self._keys = tensor_kernels.stream_keys(list(seeds), self.device)
            self._drawn = torch.zeros(len(tasks), dtype=torch.int64, device=self.device)
        else:
            self._guide, self._guide_cdf, self._shift = _guide_table(token_cdf)
            self._tables += ("_guide", "_guide_cdf")

    @property
    def runs(self) -> int:
        """Number of stacked runs R."""
        return len(self._keys)

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the runs where the boolean mask ``keep`` (R,) is true."""
        if self.engine == "tensor":
            idx = torch.nonzero(keep.to(self.device)).flatten()
        else:
            idx = np.flatnonzero(keep.cpu().numpy())
        for name in self._tables:
            setattr(self, name, getattr(self, name)[idx])

    def sample(self, m: int) -> Batch:
        """Draw m fresh samples for every run."""
        if self.engine == "tensor":
            return self._sample_tensor(m)
        R = self.runs
        x = torch.empty((R, m, self.T), dtype=token_dtype(self.N))
        k = torch.empty((R, m), dtype=torch.int64)
        o = torch.empty((R, m), dtype=torch.int64)
        counts = torch.zeros((R, self.N), dtype=torch.int64)
        kernels.draw_samples(
            self._keys, self._drawn, self._guide, self._guide_cdf, self._shift, self._token_cdf,
            self._pos, self._pos_cdf, self._next_cdf,
            x.numpy(), k.numpy(), o.numpy(), counts.numpy(),
        )  # fmt: skip
        self._drawn += np.uint64(m)
        if self.device.type != "cpu":
            x, k, o, counts = (t.to(self.device) for t in (x, k, o, counts))
        return Batch(x=x, k=k, o=o, counts=counts)

    def _sample_tensor(self, m: int) -> Batch:
        """The ``tensor`` engine's batch, drawn on the device without a host round-trip."""
        R, dev = self.runs, self.device
        x = torch.empty((R, m, self.T), dtype=token_dtype(self.N), device=dev)
        k = torch.empty((R, m), dtype=torch.int64, device=dev)
        o = torch.empty((R, m), dtype=torch.int64, device=dev)
        counts = torch.zeros((R, self.N), dtype=torch.int64, device=dev)
        tensor_kernels.draw_samples(
            self._keys, self._drawn, self._token_cdf, self._pos, self._pos_cdf, self._next_cdf,
            x, k, o, counts,
        )  # fmt: skip
        self._drawn += m
        return Batch(x=x, k=k, o=o, counts=counts, engine="tensor")


class BatchStream:
    """The batches of a training loop: ``steps`` draws of m samples from ``sampler``.

    When the caller runs the kernels on two or more threads (:func:`kernels.set_threads`), the
    next batch is drawn on a helper thread while the caller works on the current one (the
    compiled sampler releases the GIL), and the caller's kernels and torch get one thread fewer
    meanwhile — only where numba's thread pool allows concurrent calls
    (:func:`~scb_verify.kernels.concurrent_calls_safe`); otherwise batches are drawn in turn.
    Either way the batches are the same: each run's data depend on its stream alone. Use as a
    context manager (it stops the helper and gives the caller's threads back)."""

    def __init__(self, sampler: Sampler, m: int, steps: int):
        self._sampler, self._m, self._left = sampler, m, steps
        self._threads = (kernels.kernel_threads(), torch.get_num_threads())
        ahead = self._threads[0] > 1 and steps > 1 and kernels.concurrent_calls_safe()
        self._pool = (
            ThreadPoolExecutor(1, initializer=kernels.set_kernel_threads, initargs=(1,))
            if ahead
            else None
        )
        self._next: Future | None = None

    def __enter__(self) -> BatchStream:
        if self._pool is not None:
            kernels.set_kernel_threads(max(1, self._threads[0] - 1))
            torch.set_num_threads(max(1, self._threads[1] - 1))
            self._next = self._draw()
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            kernels.set_kernel_threads(self._threads[0])
            torch.set_num_threads(self._threads[1])

    def _draw(self) -> Future | None:
        if self._left == 0:
            return None
        self._left -= 1
        return self._pool.submit(self._sampler.sample, self._m)

    def next(self) -> Batch:
        """The next batch."""
        if self._pool is None:
            self._left -= 1
            return self._sampler.sample(self._m)
        batch = self._next.result()
        self._next = self._draw()
        return batch

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the runs where ``keep`` (R,) is true (the batch in flight included)."""
        idx = torch.nonzero(keep).flatten()
        pending = None if self._next is None else self._next.result().rows(idx)
        self._sampler.select(keep)
        if pending is not None:
            self._next = Future()
            self._next.set_result(pending)
