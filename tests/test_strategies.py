"""The public hypothesis strategies draw what they promise and reject bad arguments eagerly."""

import numpy as np
import pytest
from conftest import BUILTIN_ALGORITHMS
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from scb_verify import strategies as scb
from scb_verify.task import SCBTask


@given(scb.task_sizes())
def test_task_sizes_respect_the_definitions(sizes):
    N, T, Q = sizes
    assert N >= 2 and 1 <= Q <= T


@given(st.data(), st.integers(2, 5), st.integers(1, 9))
def test_fixed_arguments_are_honoured(data, N, Q):
    assert data.draw(scb.task_sizes(N=N, Q=Q))[::2] == (N, Q)
    task = data.draw(scb.tasks(N=N, Q=Q, support="shared", weights="uniform", seed=3))
    assert (task.N, task.Q, task.meta["seed"], task.meta["support"]) == (N, Q, 3, "shared")


@given(st.data())
def test_arrays_are_valid_task_inputs(data):
    N, T, Q = data.draw(scb.task_sizes(N=st.integers(2, 5), T=st.integers(1, 10)))
    P = data.draw(scb.transition_matrices(N=N))
    Qstar = data.draw(scb.sparse_attention(T=T, N=N, Q=Q))
    assert (Qstar > 0).sum(0).max() <= Q
    task = SCBTask.from_arrays(P, Qstar, Q=Q)  # validates: distributions, sparsity, ergodicity
    assert (task.mu > 0).all()


@given(st.data(), st.integers(1, 5), st.integers(1, 8))
def test_linear_params_shapes_and_constraint(data, N, T):
    V, A = data.draw(scb.linear_params(N=N, T=T))
    assert V.shape == (N, N) and A.shape == (T, N)
    np.testing.assert_allclose(A.sum(0), 1.0, atol=1e-12)


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
@given(data=st.data())
def test_algorithm_settings_are_accepted_by_the_algorithm(registry, name, data):
    overrides = data.draw(scb.algorithm_settings(name))
    assert set(overrides) <= set(registry.algorithm(name).defaults)
    registry.algorithm(name).resolve_settings(overrides)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: scb.task_sizes(N=1), r"N must be at least 2, got N=1"),
        (lambda: scb.task_sizes(T=3, Q=4), r"Q <= T, got Q=4 > T=3"),
        (lambda: scb.task_sizes(Q=0), r"Q must be at least 1"),
        (lambda: scb.task_sizes(N=2.5), r"N must be an integer or a strategy"),
        (lambda: scb.tasks(concentration=0), r"concentration must be a positive finite number"),
        (lambda: scb.tasks(support="diagonal"), r"support must be one of"),
        (lambda: scb.tasks(weights="peaked"), r"weights must be one of"),
        (lambda: scb.tasks(seed=-1), r"seed must be at least 0"),
        (lambda: scb.sparse_attention(T=2, N=3, Q=3), r"Q <= T, got Q=3 > T=2"),
        (lambda: scb.transition_matrices(N=1), r"N must be at least 2"),
        (lambda: scb.linear_params(N=2, T=0), r"T must be at least 1"),
        (lambda: scb.linear_params(N=2, T=2, constrained="yes"), r"constrained must be a bool"),
        (lambda: scb.algorithm_settings("adamw"), r"no settings strategy for .*'adamw'; known: "),
    ],
)
def test_bad_arguments_fail_when_the_strategy_is_built(build, message):
    with pytest.raises(InvalidArgument, match=message):
        build()


def test_a_bad_drawn_argument_fails_when_drawn():
    @given(scb.transition_matrices(N=st.just(1)))
    def draw_one(P):
        pass

    with pytest.raises(InvalidArgument, match=r"N must be at least 2, got N=1"):
        draw_one()
