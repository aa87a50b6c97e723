"""The sampler of :mod:`scb_verify.kernels` as tensor operations: the same bits on any device.

:func:`draw_samples` draws what :func:`scb_verify.kernels.draw_samples` draws — sample n of a
run is a function of (its stream key, n) alone (docs/reference.md §1.2) — with torch operations
on whatever device its tensors live on, so that on an accelerator the batch is made where it is
used instead of being drawn by the CPU and copied (issue 23).

64-bit words: torch has no unsigned 64-bit arithmetic, so a word is an int64 holding the same
bits (two's complement). Addition and multiplication wrap modulo 2^64 in both types alike, XOR
and AND act on bits; only the right shift differs (torch's is arithmetic, it copies the sign
bit), so :func:`_shr` masks the bits shifted in. Constants ≥ 2^63 are written as their signed
counterparts (:func:`_signed`).

Inverse CDFs: a draw u ∈ {0, …, 2^32 − 1} maps to #{j : c_j ≤ u} for an integer CDF c whose
last entry is 2^32 > u — what the compiled kernel's guide table and binary searches compute.
Here one sorted search serves every (run, row) at once: row ρ of a table of CDFs is shifted by
ρ·2^33 (its entries stay inside [ρ·2^33, ρ·2^33 + 2^32]), the shifted table read as one sorted
vector, and u looked up as u + ρ·2^33; subtracting ρ·n (the entries of the rows before ρ) leaves
the count within row ρ.

Memory: a chunk of samples is drawn at a time so that its int64 temporaries hold at most
:data:`CHUNK_TOKENS` tokens, whatever the batch.
"""

from __future__ import annotations

import torch

from scb_verify import kernels

#: Tokens per chunk: the int64 temporaries of a chunk (words, draws, counts) take a few times
#: 8·CHUNK_TOKENS bytes (about 0.5 GiB at 2^24).
CHUNK_TOKENS = 1 << 24
#: Row ρ of a table of CDFs is shifted by ρ·ROW_SHIFT (> 2^32, the largest CDF entry).
ROW_SHIFT = 1 << 33
_LOW32 = 0xFFFFFFFF


def _signed(word: int) -> int:
    """The int64 with the bits of the 64-bit word ``word`` (0 ≤ word < 2^64)."""
    return word - (1 << 64) if word >= 1 << 63 else word


GAMMA = _signed(int(kernels.GAMMA))
_M1 = _signed(0xBF58476D1CE4E5B9)
_M2 = _signed(0x94D049BB133111EB)


def _shr(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 words by 0 < s < 64 (torch's ``>>`` is arithmetic)."""
    return (z >> s) & ((1 << (64 - s)) - 1)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's output function on int64 words, bit for bit :func:`kernels._mix64`."""
    z = (z ^ _shr(z, 30)) * _M1
    z = (z ^ _shr(z, 27)) * _M2
    return z ^ _shr(z, 31)


def stream_keys(seeds: list[int], device: torch.device | str = "cpu") -> torch.Tensor:
    """Each run's stream key (:func:`kernels.stream_key`) as an int64 tensor of its bits."""
    return torch.tensor([_signed(kernels.stream_key(s)) for s in seeds], device=device)


def count_le(table: torch.Tensor, row: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """#{j : table[ρ, j] ≤ u} for every draw u and its row ρ = ``row`` (same shape as u), the
    rows of ``table`` (…, n) being nondecreasing integer CDFs with last entry 2^32 > u. One
    sorted search over the shifted table (module docstring)."""
    n = table.shape[-1]
    flat = table.reshape(-1, n)
    offset = torch.arange(flat.shape[0], device=flat.device) * ROW_SHIFT
    shifted = (flat + offset.unsqueeze(-1)).flatten()
    return torch.searchsorted(shifted, u + row * ROW_SHIFT, right=True) - row * n


def draw_samples(
    keys: torch.Tensor,
    first: torch.Tensor,
    token_cdf: torch.Tensor,
    pos: torch.Tensor,
    pos_cdf: torch.Tensor,
    next_cdf: torch.Tensor,
    x: torch.Tensor,
    k: torch.Tensor,
    o: torch.Tensor,
    counts: torch.Tensor,
) -> None:
    """Fill x (R, m, T), k (R, m), o (R, m) with the samples ``first[r]``, ``first[r] + 1``, …
    of run r's stream ``keys[r]``, and add each run's context-and-query token histogram into
    counts (R, N): the same values as :func:`scb_verify.kernels.draw_samples` given the same
    keys and CDFs (``token_cdf`` (R, N), ``pos``/``pos_cdf`` (R, N, qmax), ``next_cdf`` (R, N, N)).

    Sample n reads the words n·W + 1 … n·W + W (W = ⌈(T + 1)/2⌉ + 1): token j from the low
    (j even) or high (j odd) 32-bit half of word n·W + 1 + ⌊j/2⌋, the context x_1..x_T then the
    query k; the last word's low half picks the position s ~ q_k, its high half the output
    o ~ P[:, x_s]. Every tensor is on one device; nothing is copied to the host."""
    R, m, T = x.shape
    N = counts.shape[-1]
    W = kernels.words_per_sample(T)
    device = x.device
    runs = torch.arange(R, device=device)
    word = torch.arange(1, W + 1, device=device)
    step = max(1, CHUNK_TOKENS // max(1, R * (T + 1)))
    for lo in range(0, m, step):
        c = min(step, m - lo)
        n = first.unsqueeze(-1) + torch.arange(lo, lo + c, device=device)  # (R, c)
        z = mix64(keys.view(R, 1, 1) + (n.unsqueeze(-1) * W + word) * GAMMA)  # (R, c, W)
        halves = torch.stack((z[..., :-1] & _LOW32, _shr(z[..., :-1], 32)), -1)
        u = halves.view(R, c, 2 * (W - 1))[..., : T + 1]
        tok = count_le(token_cdf, runs.view(R, 1, 1), u)  # (R, c, T + 1)
        slot = (tok + (runs * N).view(R, 1, 1)).flatten()  # (r, token) → r·N + token
        # scatter_add_, not bincount: CUDA's bincount reads the indices' range back to the host.
        counts.view(-1).scatter_add_(
            0, slot, torch.ones((), dtype=counts.dtype, device=device).expand(slot.shape)
        )
        query = tok[..., T]
        u_pos, u_out = z[..., -1] & _LOW32, _shr(z[..., -1], 32)
        row = runs.view(R, 1) * N + query  # row (r, k) of the (R·N, qmax) tables
        j = count_le(pos_cdf, row, u_pos)
        s = pos.view(R * N, -1)[row, j]
        x_s = tok.gather(-1, s.unsqueeze(-1)).squeeze(-1)
        x[:, lo : lo + c] = tok[..., :T]
        k[:, lo : lo + c] = query
        o[:, lo : lo + c] = count_le(next_cdf, runs.view(R, 1) * N + x_s, u_out)
