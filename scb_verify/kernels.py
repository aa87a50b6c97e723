"""The CPU hot loops, compiled with numba: drawing samples and accumulating minibatch gradients.

Both loops touch every one of a sample's T context tokens, so they carry almost all of a
training step's work (docs/reference.md §1, §5.1). Written as plain loops over samples and fused, a
sample's tokens stay in the L1 cache between their uses instead of streaming through a dozen
tensor operations (what ``scb_verify.gradients.reference_gradients`` does, and what runs on an
accelerator).

Random numbers: SplitMix64 (Steele, Lea & Flood 2014; it passes BigCrush), whose word i ≥ 0 is
``mix64(key + (i + 1)·γ)`` — a function of (key, i) alone. Sample n of a run reads the words
n·W … n·W + W − 1 of its stream (W = :func:`words_per_sample`), so the data do not depend on how
samples are split into chunks, on the number of threads, or on which runs share a batch.

Parallelism: both kernels split the work into (run, chunk) jobs over numba's threads
(:func:`set_threads`). Chunk boundaries depend on m only, and partial sums are added up in a
fixed order, so results are bit-identical whatever the thread count.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from numba import njit, prange

#: SplitMix64's increment, ⌊2^64/φ⌋.
GAMMA = np.uint64(0x9E3779B97F4A7C15)
#: A uniform draw is a 32-bit half of a word: u ∈ {0, …, 2^32 − 1}; a CDF entry c is stored as
#: round(c·2^32), the last one as 2^32, so outcome j = #{entries ≤ u} has probability exact to
#: 2^-32.
SCALE = 1 << 32


@njit(inline="always")
def _mix64(z):
    """SplitMix64's output function (a bijection of 64-bit words)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int) -> int:
    """The key of a run's stream: SplitMix64's first output from state ``seed`` (mod 2^64)."""
    return int(_mix64(np.uint64((int(seed) + int(GAMMA)) % (1 << 64))))


@njit(inline="always")
def words_per_sample(T):
    """Words a sample consumes: ⌈(T + 1)/2⌉ for the T + 1 tokens (two 32-bit draws a word),
    one for the position and the output."""
    return (T + 2) // 2 + 1


@njit(inline="always")
def chunks(m):
    """Jobs a run's m samples are split into: up to 4, of at least 256 samples each."""
    return max(1, min(4, m // 256))


@njit(inline="always")
def _count_le(c, u):
    """#{j : c[j] ≤ u} for a nondecreasing c whose last entry exceeds u (binary search)."""
    lo, hi = 0, c.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if c[mid] <= u:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(parallel=True, cache=True, nogil=True)
def draw_samples(
    keys, first, guide, guide_cdf, shift, token_cdf, pos, pos_cdf, next_cdf, x, k, o, counts
):
    """Fill x (R, m, T), k (R, m), o (R, m) with m SCB samples per run, and add each run's
    token histogram (context and query) into counts (R, N).

    Run r draws its samples ``first[r]``, ``first[r] + 1``, … of stream ``keys[r]``. Tokens:
    the inverse CDF ``token_cdf[r]`` through a guide table over the cells u >> shift: in a cell
    with at most one CDF entry, ``guide[r, cell]`` counts the entries below the cell and
    ``guide_cdf[r, cell]`` is the next one, so the token is one comparison away (no branch);
    a cell with more entries is marked by ``guide = −(count + 1)`` and searched from there.
    Position s ~ q_k: ``pos[r, k, j]`` with j from ``pos_cdf[r, k]``; output o ~ P[:, x_s]
    from ``next_cdf[r, x_s]``."""
    R, m, T = x.shape
    N = counts.shape[1]
    W = words_per_sample(T)
    nch = chunks(m)
    part = np.zeros((R * nch, N), dtype=np.int64)
    for job in prange(R * nch):
        r, c = job // nch, job % nch
        key, cdf, table, above, hist = keys[r], token_cdf[r], guide[r], guide_cdf[r], part[job]
        lo_i, hi_i = (m * c) // nch, (m * (c + 1)) // nch
        for i in range(lo_i, hi_i):
            base = (np.uint64(first[r]) + np.uint64(i)) * np.uint64(W)
            query = 0
            for w in range(W - 1):
                z = _mix64(key + (base + np.uint64(w + 1)) * GAMMA)
                for half in range(2):
                    j = 2 * w + half
                    if j > T:
                        break
                    u = np.int64((z >> np.uint64(32 * half)) & np.uint64(0xFFFFFFFF))
                    cell = u >> shift
                    tok = table[cell]
                    if tok >= 0:
                        tok += u >= above[cell]
                    else:
                        tok = -tok - 1
                        while cdf[tok] <= u:
                            tok += 1
                    hist[tok] += 1
                    if j < T:
                        x[r, i, j] = tok
                    else:
                        query = tok
            z = _mix64(key + (base + np.uint64(W)) * GAMMA)
            u_pos = np.int64(z & np.uint64(0xFFFFFFFF))
            u_out = np.int64(z >> np.uint64(32))
            s = pos[r, query, _count_le(pos_cdf[r, query], u_pos)]
            k[r, i] = query
            o[r, i] = _count_le(next_cdf[r, x[r, i, s]], u_out)
    for job in range(R * nch):
        counts[job // nch] += part[job]


@njit(parallel=True, cache=True, nogil=True)
def minibatch_gradients(V, At, x, k, o, G_V, G_A, loss):
    """Mean gradients over the samples (x, k, o) of every run r (docs/reference.md §5.1):

        h_i = X_i a_{k_i},  r_i = V h_i − e_{o_i},  ℓ_i = ½‖r_i‖²,
        G_V = (1/m) Σ_i r_i h_iᵀ,   G_A[t, k] = (1/m) Σ_{i: k_i = k} (Vᵀ r_i)[x_{i,t}]

    written into G_V (R, N, N), G_A (R, T, N) and loss (R,) (the mean ℓ). ``At`` is Aᵀ (R, N, T).
    Sums run in float64: one partial sum per (run, chunk) job, added up in job order."""
    R, m, T = x.shape
    N = V.shape[1]
    nch = chunks(m)
    part_V = np.empty((R * nch, N, N))
    part_At = np.empty((R * nch, N, T))
    part_loss = np.empty(R * nch)
    for job in prange(R * nch):
        r, c = job // nch, job % nch
        Vr, Ar, gv, ga = V[r], At[r], part_V[job], part_At[job]
        gv[:] = 0.0
        ga[:] = 0.0
        h, res, back = np.empty(N), np.empty(N), np.empty(N)
        total = 0.0
        for i in range((m * c) // nch, (m * (c + 1)) // nch):
            q, xi = k[r, i], x[r, i]
            h[:] = 0.0
            for t in range(T):
                h[xi[t]] += Ar[q, t]
            for a in range(N):
                acc = 0.0
                for b in range(N):
                    acc += Vr[a, b] * h[b]
                if a == o[r, i]:
                    acc -= 1.0
                res[a] = acc
                total += 0.5 * acc * acc
                for b in range(N):
                    gv[a, b] += acc * h[b]
            for b in range(N):
                acc = 0.0
                for a in range(N):
                    acc += Vr[a, b] * res[a]
                back[b] = acc
            for t in range(T):
                ga[q, t] += back[xi[t]]
        part_loss[job] = total
    for r in prange(R):
        for job in range(r * nch + 1, (r + 1) * nch):
            part_V[r * nch] += part_V[job]
            part_At[r * nch] += part_At[job]
            part_loss[r * nch] += part_loss[job]
        G_V[r] = part_V[r * nch] / m
        G_A[r] = part_At[r * nch].T / m
        loss[r] = part_loss[r * nch] / m


@njit(parallel=True, cache=True)
def _start_pool(out):
    for i in prange(out.shape[0]):
        out[i] = i


def concurrent_calls_safe() -> bool:
    """Whether the kernels may run on two threads at once: numba's OpenMP and TBB thread pools
    allow it; its fallback (workqueue) aborts the process instead. Starts the pool to find out."""
    _start_pool(np.empty(1))
    return numba.threading_layer() in ("omp", "tbb")


def set_threads(n: int) -> None:
    """Use n threads in torch and in the compiled kernels called from this thread."""
    torch.set_num_threads(n)
    set_kernel_threads(n)


def set_kernel_threads(n: int) -> None:
    """Threads of the compiled kernels called from this thread (at most numba's pool size)."""
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))


def kernel_threads() -> int:
    """Threads of the compiled kernels called from this thread."""
    return numba.get_num_threads()
