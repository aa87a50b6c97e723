"""The sampler draws SCB data with the law of docs/reference.md §1, reproducibly and per run.

Frequency tests compare counts with their exact expectations: a count of n Bernoulli(p) events
has sd √(n p (1 − p)); see conftest.assert_within for the z threshold.
"""

import numpy as np
import pytest
import torch
from conftest import assert_within, sample_batches
from hypothesis import given
from hypothesis import strategies as st

from scb_verify import kernels, tensor_kernels
from scb_verify import strategies as scb
from scb_verify.sampler import Batch, Sampler, token_dtype
from scb_verify.task import SCBTask, bigram_task, make_task

SMALL = dict(N=st.integers(2, 3), T=st.integers(1, 4), concentration=st.floats(1.0, 10.0))
M = 40_000


@st.composite
def sparse_tasks(draw):
    """Tasks from explicit arrays: P with structural zeros, Q* with 1..Q nonzeros."""
    N, T, Q = draw(scb.task_sizes(N=st.integers(2, 3), T=st.integers(1, 4)))
    P = draw(scb.transition_matrices(N=N))
    return SCBTask.from_arrays(P, draw(scb.sparse_attention(T=T, N=N, Q=Q)), Q=Q)


def assert_counts(observed, expected, var, what: str) -> None:
    """Counts (or sums of centred indicators) against their expectation: exactly where the
    variance is 0, within z·sd where it is ≥ 10 (there the normal approximation of the binomial
    is good); cells in between carry too little information to test."""
    use = (var == 0) | (var >= 10)
    assert use.any()
    assert_within(observed[use], np.broadcast_to(expected, var.shape)[use], np.sqrt(var[use]), what)


def one_hot(idx: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n)[idx]


def draw(task, m: int = M, seed: int = 0):
    """m samples of one run as numpy arrays x (m, T), k (m,), o (m,)."""
    b = Sampler([task], [seed]).sample(m)
    return b.x[0].numpy(), b.k[0].numpy(), b.o[0].numpy()


@given(st.one_of(scb.tasks(**SMALL), sparse_tasks()), st.integers(0, 2**16))
def test_output_has_the_conditional_law_P_X_q_k(task, seed):
    """Given (X, k) the output is o ~ p = P X q_k = Σ_s q_k[s] P[:, x_s]. For every query k₀,
    position t, context token i and output j, S = Σ_samples 1[k = k₀, x_t = i](1[o = j] − p_j)
    has mean 0 and variance Σ 1[k = k₀, x_t = i] p_j(1 − p_j) given the contexts."""
    N = task.N
    x, k, o = draw(task, seed=seed)
    p = np.einsum("mt,nmt->mn", task.Qstar[:, k].T, task.P[:, x])
    np.testing.assert_allclose(p.sum(1), 1.0)
    cell = np.einsum("mk,mti->mkti", one_hot(k, N), one_hot(x, N))  # 1[k = k₀, x_t = i]
    S = np.einsum("mkti,mj->ktij", cell, one_hot(o, N) - p)
    var = np.einsum("mkti,mj->ktij", cell, p * (1 - p))
    assert_counts(S, 0.0, var, "o | X, k")


@given(st.integers(2, 5), st.integers(1, 6), st.integers(0, 2**16))
def test_bigram_output_follows_the_column_of_the_last_token(N, T, seed):
    task = bigram_task(N, T, seed=seed, concentration=2.0)
    x, _, o = draw(task, seed=seed)
    counts = one_hot(x[:, -1], N).T @ one_hot(o, N)  # counts[i, j]: x_T = i, o = j
    n_i = counts.sum(1, keepdims=True)
    expected = n_i * task.P.T  # given x_T = i, o ~ P[:, i]
    assert_counts(counts, expected, n_i * task.P.T * (1 - task.P.T), "o | x_T")


@given(scb.tasks(**SMALL), st.integers(0, 2**16))
def test_context_and_query_tokens_are_iid_from_mu(task, seed):
    """Each of the T + 1 tokens has law μ, and adjacent pairs (including (x_T, k)) have law
    μμᵀ, which independence implies."""
    N, mu = task.N, task.mu
    x, k, _ = draw(task, seed=seed)
    tokens = one_hot(np.concatenate([x, k[:, None]], axis=1), N)  # (m, T + 1, N)
    singles = tokens.sum(0)
    assert_counts(singles, M * mu, np.broadcast_to(M * mu * (1 - mu), singles.shape), "tokens")
    pairs = np.einsum("mti,mtj->tij", tokens[:, :-1], tokens[:, 1:])
    pp = np.outer(mu, mu)
    assert_counts(pairs, M * pp, np.broadcast_to(M * pp * (1 - pp), pairs.shape), "pairs")


@given(scb.tasks(**SMALL), st.integers(0, 2**16), st.integers(1, 50))
def test_a_seed_fixes_the_stream(task, seed, m):
    a, b = Sampler([task], [seed]), Sampler([task], [seed])
    for _ in range(2):
        left, right = a.sample(m), b.sample(m)
        for name in ("x", "k", "o"):
            assert torch.equal(getattr(left, name), getattr(right, name))
    # Another seed gives another stream. Checked on a well-mixed task (N = 5, T = 8): on a
    # drawn task μ can be near-degenerate (0.995, 0.005), where 1000 equal tokens are not rare.
    mixed = make_task(5, 8, 2, seed=0)
    first, other = Sampler([mixed], [seed]), Sampler([mixed], [seed + 1])
    assert not torch.equal(first.sample(500).x, other.sample(500).x)


@given(scb.task_sizes(N=st.integers(2, 4), T=st.integers(1, 6)), st.data())
def test_a_run_does_not_depend_on_what_it_is_stacked_with(sizes, data):
    """Tasks of different sparsity (different padding), drawn twice; then runs are dropped and
    the remaining ones continue their own streams."""
    N, T, _ = sizes
    R = data.draw(st.integers(2, 4), label="R")
    tasks = [
        make_task(N, T, data.draw(st.integers(1, T)), seed=data.draw(st.integers(0, 2**16)))
        for _ in range(R)
    ]
    seeds = data.draw(st.lists(st.integers(0, 2**16), min_size=R, max_size=R, unique=True))
    keep = torch.tensor(data.draw(st.lists(st.booleans(), min_size=R, max_size=R)))
    keep[data.draw(st.integers(0, R - 1), label="a survivor")] = True
    stacked = Sampler(tasks, seeds)
    alone = [Sampler([t], [s]) for t, s in zip(tasks, seeds, strict=True)]
    for _ in range(2):
        batch = stacked.sample(7)
        for r, single in enumerate(alone):
            one = single.sample(7)
            assert torch.equal(batch.x[r], one.x[0]) and torch.equal(batch.o[r], one.o[0])
            assert torch.equal(batch.k[r], one.k[0])
    stacked.select(keep)
    batch = stacked.sample(7)
    survivors = [single for single, kept in zip(alone, keep, strict=True) if kept]
    assert stacked.runs == len(survivors)
    for r, single in enumerate(survivors):
        assert torch.equal(batch.o[r], single.sample(7).o[0])


@given(scb.tasks(**SMALL), st.integers(1, 3), st.integers(1, 20))
def test_batches_are_compact_index_arrays_with_their_token_histogram(task, R, m):
    batch = sample_batches(task, R, m)
    assert batch.x.shape == (R, m, task.T) and batch.k.shape == batch.o.shape == (R, m)
    assert batch.size == m
    assert batch.x.dtype == token_dtype(task.N) == torch.uint8
    assert batch.k.dtype == batch.o.dtype == torch.int64
    for t in (batch.x, batch.k, batch.o):
        assert int(t.min()) >= 0 and int(t.max()) < task.N
    recount = Batch(batch.x, batch.k, batch.o).token_counts(task.N)  # from the tokens
    assert torch.equal(batch.counts, recount) and int(recount.sum()) == R * m * (task.T + 1)


def test_token_dtype_holds_every_state():
    assert token_dtype(256) == torch.uint8 and token_dtype(257) == torch.int16
    assert token_dtype(1 << 15) == torch.int16 and token_dtype((1 << 15) + 1) == torch.int32


def test_mismatched_arguments_are_errors():
    task = make_task(3, 4, 2)
    with pytest.raises(ValueError, match="got 1 tasks but 2 seeds"):
        Sampler([task], [0, 1])
    with pytest.raises(ValueError, match="must share N and T"):
        Sampler([task, make_task(3, 5, 2)], [0, 1])


def reference_tokens(key: int, first: int, m: int, T: int, cdf: np.ndarray) -> np.ndarray:
    """The T + 1 tokens of samples first … first + m − 1, straight from the definition: token j
    of sample n is the half j mod 2 of SplitMix64 word n·W + ⌊j/2⌋ of the stream, mapped by
    searchsorted on the integer CDF."""
    W = kernels.words_per_sample(T)
    n = np.arange(first, first + m, dtype=np.uint64)[:, None]
    j = np.arange(T + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        state = np.uint64(key) + (n * np.uint64(W) + j // np.uint64(2) + 1) * kernels.GAMMA
    with np.errstate(over="ignore"):  # SplitMix64 multiplies mod 2^64
        words = np.vectorize(kernels._mix64.py_func, otypes=[np.uint64])(state)
    u = (words >> (np.uint64(32) * (j % np.uint64(2)))) & np.uint64(0xFFFFFFFF)
    return np.searchsorted(cdf, u.astype(np.int64), side="right")


@pytest.mark.parametrize("tiny", [0.0, 5e-4])
def test_tokens_follow_the_integer_inverse_cdf_of_the_stream(tiny):
    """Bit-exact against a plain reimplementation, with μ regular and with five probabilities of
    5e-4, whose CDF entries crowd into one guide cell (the searched cells)."""
    N = 6
    mu = np.full(N, 1.0 / N) if tiny == 0 else np.array([1 - 5 * tiny] + [tiny] * 5)
    task = SCBTask.from_arrays(np.tile(mu[:, None], (1, N)), np.full((3, N), 1 / 3))
    sampler = Sampler([task], [42])
    assert (sampler._guide < 0).any() == (tiny > 0)
    for first, m in ((0, 50), (50, 7)):
        batch = sampler.sample(m)
        tokens = np.concatenate([batch.x[0].numpy(), batch.k[0].numpy()[:, None]], axis=1)
        want = reference_tokens(kernels.stream_key(42), first, m, 3, sampler._token_cdf[0])
        np.testing.assert_array_equal(tokens, want)


#: Where the tensor engine is checked: torch's CPU tensors always (the operations an
#: accelerator runs), and a CUDA device where there is one (the device check of issue 23).
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def assert_same_batches(left: Batch, right: Batch) -> None:
    for name in ("x", "k", "o", "counts"):
        a, b = getattr(left, name), getattr(right, name).cpu()
        assert a.dtype == b.dtype and torch.equal(a, b), name


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "N, T, Q, seeds, first, m",
    [
        (5, 64, 2, [0], 0, 300),  # the README's instance
        (20, 33, 4, [7, 1000, 2**40], 5, 257),  # stacked, odd T (a word's high half unused)
        (7, 1, 1, [3, 4], 123_456_789, 50),  # T = 1; a stream far along
        (300, 40, 3, [2**63 + 5, 9], 2**40, 64),  # N > 256 (int16 tokens), a seed ≥ 2^63
        (6, 128, 5, [11], 0, 1),  # one sample
    ],
)
def test_the_tensor_engine_draws_the_compiled_engines_bits(N, T, Q, seeds, first, m, device):
    """Issue 23: the same samples, bit for bit, from the compiled kernel (numba) and from the
    tensor kernel on torch's CPU tensors (the code that runs on an accelerator) or a GPU:
    stacked runs of different tasks, streams started anywhere, consecutive batches."""
    tasks = [make_task(N, T, Q, seed=r) for r in range(len(seeds))]
    compiled = Sampler(tasks, seeds)
    tensor = Sampler(tasks, seeds, device=device, engine="tensor")
    compiled._drawn[:] = first
    tensor._drawn[:] = first
    for _ in range(2):
        assert_same_batches(compiled.sample(m), tensor.sample(m))


@pytest.mark.parametrize("device", DEVICES)
def test_the_tensor_engine_is_chunk_free_and_selects_runs_like_the_compiled_one(
    monkeypatch, device
):
    """Chunks of a few samples give the batch of one chunk; dropping runs keeps the streams of
    the others (as the compiled engine does)."""
    tasks = [make_task(4, 16, 2, seed=r) for r in range(3)]
    compiled = Sampler(tasks, [1, 2, 3])
    tensor = Sampler(tasks, [1, 2, 3], device=device, engine="tensor")
    monkeypatch.setattr(tensor_kernels, "CHUNK_TOKENS", 3 * 17 * 5)  # 5 samples a chunk
    assert_same_batches(compiled.sample(23), tensor.sample(23))
    keep = torch.tensor([True, False, True])
    compiled.select(keep)
    tensor.select(keep)
    assert tensor.runs == 2
    assert_same_batches(compiled.sample(9), tensor.sample(9))


def test_splitmix64_on_int64_tensors_is_the_unsigned_function():
    """mix64 on int64 bits (wrap-around products, logical shifts emulated) equals the compiled
    uint64 function, on words with the top bit set and clear."""
    words = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15], dtype=np.uint64)
    want = np.array([kernels._mix64(w) for w in words], dtype=np.uint64)
    got = tensor_kernels.mix64(torch.from_numpy(words.view(np.int64)))
    np.testing.assert_array_equal(got.numpy().view(np.uint64), want)


def test_an_unknown_engine_is_an_error():
    with pytest.raises(ValueError, match="unknown engine 'gpu'; allowed: compiled, tensor"):
        Sampler([make_task(3, 4, 2)], [0], engine="gpu")
