"""The engine's minibatch gradients (docs/reference.md §5.1): the compiled CPU loop, the tensor
reference and autograd on the textbook model agree on the same batch; the sampler's streams are
counter-based, so neither chunking, thread count nor the split of draws into calls changes them.
"""

import numpy as np
import pytest
import torch
from conftest import sample_batches
from hypothesis import given
from hypothesis import strategies as st

from scb_verify import kernels
from scb_verify import strategies as scb
from scb_verify.gradients import minibatch_gradients, reference_gradients
from scb_verify.models import LinearTransformer
from scb_verify.sampler import Sampler
from scb_verify.task import make_task


def autograd_gradients(V, A, batch):
    """Gradients of the mean of ½‖e_o − V X a_k‖² by loss.backward() on the nn.Module."""
    model = LinearTransformer(V.clone(), A.clone())
    pred = model(batch.x, batch.k)
    target = torch.nn.functional.one_hot(batch.o, V.shape[-1]).to(V.dtype)
    loss = 0.5 * (pred - target).square().sum(-1).mean(-1)
    loss.sum().backward()
    return model.V.grad, model.A.grad, loss.detach()


def assert_close(got, want, rtol):
    """Entrywise |got − want| ≤ rtol·max|want| (gradients have entries that cancel to ~0)."""
    scale = float(want.abs().max()) or 1.0
    assert float((got - want).abs().max()) <= rtol * scale


@given(
    scb.tasks(N=st.integers(2, 6), T=st.integers(1, 9)),
    st.integers(1, 3),
    st.sampled_from([1, 7, 255, 256, 600, 1100]),  # 1, 2 and 4 chunks per run
    st.data(),
)
def test_compiled_reference_and_autograd_gradients_agree(task, R, m, data):
    batch = sample_batches(task, R, m, seed=data.draw(st.integers(0, 99)))
    params = [data.draw(scb.linear_params(N=task.N, T=task.T)) for _ in range(R)]
    V = torch.tensor(np.stack([p[0] for p in params]))
    A = torch.tensor(np.stack([p[1] for p in params]))
    fast, ref = minibatch_gradients(V, A, batch), reference_gradients(V, A, batch)
    auto = autograd_gradients(V, A, batch)
    for got, want, alt in zip(fast, ref, auto, strict=True):
        assert got.dtype == torch.float64 and got.shape == want.shape
        assert_close(got, want, 1e-12)
        assert_close(got, alt, 1e-12)


def test_float32_gradients_are_float64_sums_rounded_once():
    task = make_task(6, 32, 3, seed=1)
    batch = sample_batches(task, 2, 700)
    gen = torch.Generator().manual_seed(0)
    V, A = torch.randn(2, 6, 6, generator=gen), torch.rand(2, 32, 6, generator=gen)
    g32 = minibatch_gradients(V, A, batch)
    g64 = minibatch_gradients(V.double(), A.double(), batch)
    for got, want in zip(g32, g64, strict=True):
        assert got.dtype == torch.float32
        assert_close(got.double(), want, 2**-23)


def test_thread_count_changes_neither_data_nor_gradients():
    task = make_task(8, 40, 3, seed=2)
    V = torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    A = torch.full((3, 40, 8), 1 / 40, dtype=torch.float64)
    out = []
    for threads in (1, 2):
        kernels.set_threads(threads)
        try:
            batch = Sampler([task] * 3, [5, 6, 7]).sample(1024)
            out.append((batch, minibatch_gradients(V, A, batch)))
        finally:
            kernels.set_threads(1)
    (b1, g1), (b2, g2) = out
    for name in ("x", "k", "o", "counts"):
        assert torch.equal(getattr(b1, name), getattr(b2, name))
    for left, right in zip(g1, g2, strict=True):
        assert torch.equal(left, right)


@given(st.lists(st.integers(1, 300), min_size=2, max_size=4))
def test_draws_split_into_calls_continue_one_stream(sizes):
    task = make_task(4, 6, 2, seed=3)
    whole = Sampler([task], [11]).sample(sum(sizes))
    split = Sampler([task], [11])
    parts = [split.sample(n) for n in sizes]
    for name in ("x", "k", "o"):
        assert torch.equal(torch.cat([getattr(p, name) for p in parts], 1), getattr(whole, name))


def test_stream_keys_are_splitmix64():
    """SplitMix64 seeded with 1234567 first outputs 6457827717110365317 (the reference
    implementation's published sequence)."""
    assert kernels.stream_key(1234567) == 6457827717110365317
    assert kernels.stream_key(0) != kernels.stream_key(1)


@pytest.mark.parametrize("m", [0, 1, 255, 256, 1024, 1025, 5000])
def test_chunks_split_a_run_in_at_most_four_parts_of_256_or_more(m):
    c = kernels.chunks(m)
    assert 1 <= c <= 4 and (c == 1 or m // c >= 256)


def test_vocabularies_beyond_256_tokens_use_int16_batches():
    task = make_task(300, 3, 2, seed=0)
    batch = Sampler([task], [0]).sample(64)
    assert batch.x.dtype == torch.int16 and int(batch.x.max()) < 300
    V = torch.randn(1, 300, 300, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    A = torch.full((1, 3, 300), 1 / 3, dtype=torch.float64)
    for got, want in zip(
        minibatch_gradients(V, A, batch), reference_gradients(V, A, batch), strict=True
    ):
        assert_close(got, want, 1e-12)
