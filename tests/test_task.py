"""SCB instances (docs/reference.md §1): generated tasks meet the definitions, and every input that
breaks
them is rejected with a TaskError naming the problem."""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scb_verify import strategies as scb
from scb_verify.metrics import task_correlation
from scb_verify.task import SCBTask, TaskError, bigram_task, make_task, related_task

SEEDS = st.integers(0, 2**32 - 2)


def assert_columns_are_distributions(M: np.ndarray) -> None:
    assert (M >= 0).all()
    np.testing.assert_allclose(M.sum(axis=0), 1.0, rtol=0, atol=1e-12)


def assert_stationary(task: SCBTask) -> None:
    assert (task.mu > 0).all()
    assert math.isclose(task.mu.sum(), 1.0, abs_tol=1e-12)
    np.testing.assert_allclose(task.P @ task.mu, task.mu, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- generated tasks


@given(scb.tasks())
def test_generated_tasks_meet_the_definitions(task):
    assert task.P.shape == (task.N, task.N) and task.Qstar.shape == (task.T, task.N)
    assert_columns_are_distributions(task.P)
    assert_columns_are_distributions(task.Qstar)
    nnz = (task.Qstar > 0).sum(axis=0)
    assert (nnz == task.Q).all()  # make_task puts exactly Q positive weights on every column
    assert [s.tolist() for s in task.supports] == [
        np.flatnonzero(task.Qstar[:, k]).tolist() for k in range(task.N)
    ]
    assert_stationary(task)
    with pytest.raises(ValueError, match="read-only"):
        task.P[0, 0] = 0.5


@given(scb.task_sizes(), SEEDS)
def test_a_seed_fixes_the_instance_and_another_seed_changes_it(sizes, seed):
    a, b, other = (make_task(*sizes, seed=s) for s in (seed, seed, seed + 1))
    assert np.array_equal(a.P, b.P) and np.array_equal(a.Qstar, b.Qstar) and a.meta == b.meta
    assert a.meta["seed"] == seed
    assert not np.array_equal(a.P, other.P)


@given(scb.task_sizes(), SEEDS, st.data())
def test_window_supports_lie_in_the_last_window_positions(sizes, seed, data):
    N, T, Q = sizes
    window = data.draw(st.integers(Q, T), label="window")
    for w, task in (
        (window, make_task(N, T, Q, seed=seed, support="window", window=window)),
        (min(T, 2 * Q), make_task(N, T, Q, seed=seed, support="window")),
    ):
        assert task.meta["window"] == w
        assert all(s.size == Q and s.min() >= T - w for s in task.supports)


@given(scb.tasks(support="shared"))
def test_shared_support_is_the_same_for_every_token(task):
    assert all(np.array_equal(s, task.supports[0]) for s in task.supports)


@given(scb.tasks(weights="uniform"))
def test_uniform_weights_are_one_over_Q(task):
    np.testing.assert_allclose(task.Qstar[task.Qstar > 0], 1.0 / task.Q, rtol=1e-15)


@given(st.integers(2, 8), st.integers(1, 32), SEEDS)
def test_bigram_task_attends_to_the_last_position_only(N, T, seed):
    task = bigram_task(N, T, seed=seed)
    expected = np.zeros((T, N))
    expected[-1] = 1.0
    assert np.array_equal(task.Qstar, expected) and task.Q == 1
    assert_stationary(task)


# --------------------------------------------------------------------------- related tasks


@given(scb.tasks(), SEEDS)
def test_related_task_keeping_every_position_keeps_the_attention(task, seed):
    same = related_task(task, keep=task.Q, seed=seed)
    np.testing.assert_allclose(same.Qstar, task.Qstar, rtol=0, atol=1e-15)  # renormalized
    assert np.array_equal(same.P, task.P)
    assert math.isclose(task_correlation(task, same), 1.0, rel_tol=1e-12)
    assert same.meta["keep"] == task.Q and same.meta["related_to_seed"] == task.meta["seed"]


@given(st.integers(2, 6), st.integers(1, 6), st.integers(0, 8), SEEDS)
def test_task_correlation_falls_as_fewer_positions_are_kept(N, Q, extra, seed):
    """With uniform weights, keeping j of Q positions (the others moved outside the support,
    T ≥ 2Q) gives per token cos = j/(Q²‖q′‖√(1/Q)) with 1/Q ≤ ‖q′‖² ≤ j/Q² + (1 − j/Q)², i.e.
    j/(√Q·√(j + (Q − j)²)) ≤ ρ_j ≤ j/Q; for Q ≤ 6 these intervals are ordered in j, so ρ strictly
    increases with j, from 0 to 1."""
    task = make_task(N, 2 * Q + extra, Q, seed=seed, weights="uniform")
    rho = []
    for j in range(Q + 1):
        rel = related_task(task, keep=j, seed=seed)
        assert_columns_are_distributions(rel.Qstar)
        r = task_correlation(task, rel)
        low, high = j / math.sqrt(Q * (j + (Q - j) ** 2)), j / Q
        assert low - 1e-12 <= r <= high + 1e-12, (j, r, low, high)
        rho.append(r)
    assert rho[0] == 0.0 and math.isclose(rho[-1], 1.0, rel_tol=1e-12)
    assert all(np.diff(rho) > 0), rho


@given(scb.tasks(), SEEDS | st.none(), st.floats(0.01, 1.0))
@example(task=make_task(4, 5, 1, seed=0), seed=None, delta=0.5)
def test_perturbed_P_is_a_mixture_with_a_fresh_stochastic_matrix(task, seed, delta):
    """P′ = (1 − δ)P + δD with D column-stochastic and not P — also when the downstream seed
    is the task's own (seed=None below), where D once repeated P's draws."""
    seed = task.meta["seed"] if seed is None else seed
    rel = related_task(task, keep=task.Q, seed=seed, perturb_P=delta)
    D = task.P + (rel.P - task.P) / delta  # P′ = (1 − δ)P + δD
    assert (D >= -1e-9).all()
    np.testing.assert_allclose(D.sum(axis=0), 1.0, atol=1e-9)
    assert not np.allclose(D, task.P)
    assert_stationary(rel)


# --------------------------------------------------------------------------- invalid inputs

VALID_P = np.array([[0.5, 0.2], [0.5, 0.8]])
VALID_Q = np.array([[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: make_task(1, 4, 2), r"N must be at least 2, got N=1", id="N<2"),
        pytest.param(
            lambda: SCBTask.from_arrays([[1.0]], [[1.0]]), r"N must be at least 2", id="1x1 P"
        ),
        pytest.param(lambda: make_task(3, 0, 1), r"T must be at least 1, got T=0", id="T<1"),
        pytest.param(lambda: make_task(3, 4, 5), r"1 <= Q <= T=4, got Q=5", id="Q>T"),
        pytest.param(lambda: make_task(3, 4, 0), r"1 <= Q <= T=4, got Q=0", id="Q<1"),
        pytest.param(
            lambda: SCBTask.from_arrays(VALID_P, VALID_Q, Q=3),
            r"1 <= Q <= T=2, got Q=3",
            id="from_arrays Q>T",
        ),
        pytest.param(
            lambda: SCBTask.from_arrays(VALID_P, [[0.5, 0.5], [0.5, 0.5]], Q=1),
            r"column 0 of Q\* has 2 nonzeros, more than the sparsity Q=1",
            id="too many nonzeros",
        ),
        pytest.param(
            lambda: SCBTask.from_arrays([[0.0, 1.0], [1.0, 0.0]], VALID_Q),
            r"P is periodic with period 2; cyclic classes of states: \[\[0\], \[1\]\]",
            id="2-cycle",
        ),
        pytest.param(
            lambda: SCBTask.from_arrays(np.eye(2), VALID_Q),
            r"P is reducible: states \[1\] cannot be reached from state 0; "
            r"states \[1\] cannot reach state 0",
            id="identity P",
        ),
        pytest.param(
            lambda: SCBTask.from_arrays([[1.0, 0.5], [0.0, 0.5]], VALID_Q),
            r"P is reducible: states \[1\] cannot be reached from state 0$",
            id="transient state",
        ),
        pytest.param(
            lambda: SCBTask.from_arrays(VALID_P[0], VALID_Q), r"P must be a 2-d array", id="1-d"
        ),
        pytest.param(
            lambda: SCBTask.from_arrays(np.full((2, 3), 0.5), VALID_Q),
            r"P must be square",
            id="non-square P",
        ),
        pytest.param(
            lambda: SCBTask.from_arrays(VALID_P, np.ones((1, 3))),
            r"one column per token \(N=2 columns\)",
            id="Q* columns",
        ),
        pytest.param(
            lambda: make_task(3, 4, 2, concentration=0.0), r"concentration", id="concentration"
        ),
        pytest.param(
            lambda: make_task(3, 4, 2, concentration=math.inf), r"concentration", id="inf conc"
        ),
        pytest.param(lambda: make_task(3, 4, 2, support="diagonal"), r"support", id="support"),
        pytest.param(lambda: make_task(3, 4, 2, weights="peaked"), r"weights", id="weights"),
        pytest.param(
            lambda: make_task(3, 8, 2, support="window", window=1),
            r"window must satisfy Q <= window <= T \(2..8\), got 1",
            id="window<Q",
        ),
        pytest.param(
            lambda: related_task(make_task(3, 4, 2), keep=3),
            r"keep must be between 0 and Q=2",
            id="keep>Q",
        ),
        pytest.param(
            lambda: related_task(make_task(3, 4, 2), keep=1, perturb_P=1.5),
            r"perturb_P must be in \[0, 1\]",
            id="perturb_P",
        ),
        pytest.param(
            lambda: related_task(make_task(3, 2, 2), keep=0),
            r"keep=0 leaves token 0 nowhere to move: its support fills all T=2 positions",
            id="keep=0 with T=Q",
        ),
    ],
)
def test_invalid_input_is_a_task_error_naming_the_problem(build, message):
    with pytest.raises(TaskError, match=message):
        build()


def _valid_pair(draw, N):
    P = draw(scb.transition_matrices(N=N))
    Qstar = draw(scb.sparse_attention(T=draw(st.integers(1, 8)), N=N, Q=1))
    return P, Qstar


@given(st.data(), st.sampled_from(["P", "Q*"]))
def test_a_column_that_does_not_sum_to_one_is_named_with_its_sum(data, name):
    P, Qstar = _valid_pair(data.draw, data.draw(st.integers(2, 6)))
    M = P if name == "P" else Qstar
    j = data.draw(st.integers(0, M.shape[1] - 1), label="column")
    M[:, j] *= data.draw(st.floats(0.5, 0.999) | st.floats(1.001, 2.0), label="factor")
    total = re.escape(f"{M[:, j].sum():.6g}")
    with pytest.raises(
        TaskError,
        match=rf"column {j} of {re.escape(name)} is not a distribution: it sums to "
        rf"{total}, not 1",
    ):
        SCBTask.from_arrays(P, Qstar)


@given(st.data(), st.sampled_from(["P", "Q*"]))
def test_a_negative_entry_is_named(data, name):
    P, Qstar = _valid_pair(data.draw, data.draw(st.integers(2, 6)))
    M = P if name == "P" else Qstar
    if M.shape[0] < 2:
        M = Qstar = np.vstack([Qstar, np.zeros((1, Qstar.shape[1]))])
    i, j = data.draw(st.integers(0, M.shape[0] - 1)), data.draw(st.integers(0, M.shape[1] - 1))
    other = (i + 1) % M.shape[0]
    delta = data.draw(st.floats(1e-6, 1.0))
    M[other, j] += M[i, j] + delta  # the column still sums to one
    M[i, j] = -delta
    with pytest.raises(
        TaskError,
        match=rf"column {j} of {re.escape(name)} is not a distribution: entry {i} "
        r"is negative",
    ):
        SCBTask.from_arrays(P, Qstar)


@given(st.data(), st.sampled_from(["P", "Q*"]), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_non_finite_entry_is_named(data, name, value):
    P, Qstar = _valid_pair(data.draw, data.draw(st.integers(2, 6)))
    M = P if name == "P" else Qstar
    i, j = data.draw(st.integers(0, M.shape[0] - 1)), data.draw(st.integers(0, M.shape[1] - 1))
    M[i, j] = value
    with pytest.raises(
        TaskError,
        match=rf"{re.escape(name)} has a non-finite entry \({value}\) at row {i}, "
        rf"column {j}",
    ):
        SCBTask.from_arrays(P, Qstar)


@given(scb.task_sizes(T=st.integers(2, 12)), st.data())
def test_a_column_with_more_than_Q_nonzeros_is_named(sizes, data):
    N, T, Q = sizes
    if Q == T:
        Q -= 1
    P = data.draw(scb.transition_matrices(N=N))
    Qstar = data.draw(scb.sparse_attention(T=T, N=N, Q=Q))
    k = data.draw(st.integers(0, N - 1), label="column")
    Qstar[:, k] = 0.0
    Qstar[data.draw(st.permutations(range(T)))[: Q + 1], k] = 1.0 / (Q + 1)
    with pytest.raises(
        TaskError, match=rf"column {k} of Q\* has {Q + 1} nonzeros, more than the sparsity Q={Q}"
    ):
        SCBTask.from_arrays(P, Qstar, Q=Q)
    assert SCBTask.from_arrays(P, Qstar).Q == Q + 1  # Q defaults to the largest support


@given(st.integers(1, 4), st.integers(1, 4), st.permutations(range(8)), st.data())
def test_a_reducible_P_names_the_states_cut_off(n1, n2, perm, data):
    """Two closed classes: from state 0 the other class can be neither reached nor left for 0."""
    P = np.zeros((n1 + n2, n1 + n2))
    P[:n1, :n1] = np.eye(1) if n1 == 1 else data.draw(scb.transition_matrices(N=n1))
    P[n1:, n1:] = np.eye(1) if n2 == 1 else data.draw(scb.transition_matrices(N=n2))
    perm = [p for p in perm if p < n1 + n2]  # relabel the states at random
    P = P[np.ix_(perm, perm)]
    blocks = [{i for i, p in enumerate(perm) if p < n1}, {i for i, p in enumerate(perm) if p >= n1}]
    cut = sorted(blocks[1] if 0 in blocks[0] else blocks[0])
    with pytest.raises(
        TaskError, match=re.escape(f"P is reducible: states {cut} cannot be reached from state 0")
    ):
        SCBTask.from_arrays(P, np.ones((1, n1 + n2)))


@given(st.integers(2, 4), st.data())
def test_a_periodic_P_names_its_period_and_cyclic_classes(period, data):
    """States in `period` nonempty classes; every transition goes from class c to class c+1."""
    n = data.draw(st.integers(period, 7), label="N")
    rest = data.draw(st.lists(st.integers(0, period - 1), min_size=n - period, max_size=n - period))
    labels = np.array(data.draw(st.permutations([*range(period), *rest]), label="classes"))
    weights = data.draw(scb.transition_matrices(N=n))  # positive weights where allowed
    P = np.where(labels[:, None] == (labels[None, :] + 1) % period, weights + 0.1, 0.0)
    P /= P.sum(axis=0, keepdims=True)
    with pytest.raises(TaskError, match=rf"P is periodic with period {period}; ") as err:
        SCBTask.from_arrays(P, np.ones((1, n)))
    reported = re.search(r"cyclic classes of states: (.*)$", str(err.value)).group(1)
    classes = {frozenset(c) for c in json.loads(reported)}
    assert classes == {frozenset(np.flatnonzero(labels == c).tolist()) for c in range(period)}
