"""The exact population loss, gradients and metrics (docs/reference.md §3–§4) against Monte Carlo,
exact
enumeration and finite differences."""

import itertools
import math

import numpy as np
import pytest
import torch
from conftest import assert_within, f64, mean_and_se, sample_batches
from hypothesis import assume, given
from hypothesis import strategies as st

from scb_verify import strategies as scb
from scb_verify.gradients import minibatch_gradients
from scb_verify.metrics import all_metrics, correlation, dist_A, dist_V, support_recovery
from scb_verify.models import predict
from scb_verify.population import Population
from scb_verify.task import make_task

SMALL = dict(N=st.integers(2, 4), T=st.integers(1, 6))


@st.composite
def task_and_params(draw, **task_args):
    """A task and a (V, A) for it; A's columns sum to one or not."""
    task = draw(scb.tasks(**{**SMALL, **task_args}))
    V, A = draw(scb.linear_params(N=task.N, T=task.T, constrained=st.booleans()))
    return task, f64(V), f64(A)


@given(task_and_params(concentration=st.floats(0.5, 10.0)), st.booleans())
def test_monte_carlo_loss_and_gradients_agree_with_the_closed_forms(case, at_truth):
    """256 independent batches of 200 samples: their means estimate E[ℓ], E[G_V], E[G_A] with
    a standard error from the spread of the batch means (per-sample variance / 51,200).

    The sample variance only sees events that occur, so the CLT band needs every transition
    (x_s = j, o = i) to be expected ≥ 20 times: tasks with rarer ones are skipped.
    """
    task, V, A = case
    replicates, m = 256, 200
    assume(replicates * m * (task.P * task.mu).min() >= 20)
    pop = Population.of(task)
    if at_truth:
        V, A = pop.P, pop.Qstar
    batch = sample_batches(task, replicates, m)
    g = minibatch_gradients(V.expand(replicates, -1, -1), A.expand(replicates, -1, -1), batch)
    for what, mc, exact in (
        ("loss", g.loss, pop.loss(V, A)),
        ("∂L/∂V", g.V, pop.grad_V(V, A)),
        ("∂L/∂A", g.A, pop.grad_A(V, A)),
    ):
        mean, se = mean_and_se(mc)
        assert_within(mean, exact.numpy(), se, what)


@given(task_and_params(N=st.integers(2, 3), T=st.integers(1, 3)))
def test_loss_and_noise_agree_with_exact_enumeration(case):
    """Enumerate every context and query (N^(T+1) configurations, weights Π μ): with
    c = E[e_o | X, k] = P X q_k and f = V X a_k, L = ½ E[1 − 2 c·f + ‖f‖²], σ² = 1 − E‖c‖²."""
    task, V, A = case
    N, T = task.N, task.T
    configs = np.array(list(itertools.product(range(N), repeat=T + 1)))
    x, k = configs[:, :T], configs[:, T]
    weight = task.mu[configs].prod(axis=1)
    c = np.einsum("it,nit->in", task.Qstar[:, k].T, task.P[:, x])
    f = np.einsum("it,nit->in", A.numpy()[:, k].T, V.numpy()[:, x])
    loss = 0.5 * weight @ (1.0 - 2.0 * (c * f).sum(1) + (f**2).sum(1))
    noise = 1.0 - weight @ (c**2).sum(1)
    pop = Population.of(task)
    assert math.isclose(float(pop.loss(V, A)), loss, rel_tol=1e-10, abs_tol=1e-12)
    assert math.isclose(float(pop.noise), noise, rel_tol=1e-10, abs_tol=1e-12)


@given(task_and_params())
def test_gradients_match_central_finite_differences(case):
    """L is quadratic along every single coordinate of V and of A, so a central difference is
    exact up to rounding (≈ ε·|L|/h ≈ 1e-13 at h = 1e-3): 1e-7 is a loose bound."""
    task, V, A = case
    pop = Population.of(task)
    h = 1e-3
    for param, grad in ((V, pop.grad_V(V, A)), (A, pop.grad_A(V, A))):
        basis = h * torch.eye(param.numel(), dtype=param.dtype).view(-1, *param.shape)
        args = (param + basis, param - basis)
        if param is V:
            plus, minus = (pop.loss(p, A) for p in args)
        else:
            plus, minus = (pop.loss(V, p) for p in args)
        fd = ((plus - minus) / (2 * h)).view(param.shape)
        np.testing.assert_allclose(fd, grad, rtol=1e-7, atol=1e-9)


@given(scb.tasks(**SMALL))
def test_ground_truth_is_a_stationary_point_with_zero_excess_risk(task):
    pop = Population.of(task)
    P, Qs = pop.P, pop.Qstar
    np.testing.assert_allclose(pop.grad_V(P, Qs), 0.0, atol=1e-12)
    np.testing.assert_allclose(pop.grad_A(P, Qs), 0.0, atol=1e-12)
    assert abs(float(pop.excess_risk(P, Qs))) <= 1e-12
    assert math.isclose(float(pop.loss(P, Qs)), 0.5 * float(pop.noise), rel_tol=1e-12)
    assert 0.0 <= float(pop.noise) <= 1.0


@given(task_and_params())
def test_excess_risk_is_never_negative(case):
    """(P, Q*) realizes E[e_o | X, k], the best predictor in mean square."""
    task, V, A = case
    assert float(Population.of(task).excess_risk(V, A)) >= -1e-12


@given(task_and_params(), st.floats(0.1, 10.0), st.booleans(), st.integers(0, 2**16))
def test_rescaling_V_up_and_A_down_leaves_the_model_unchanged(case, c, negate, seed):
    task, V, A = case
    c = -c if negate else c
    batch = sample_batches(task, 2, 16, seed)
    Vs, As = V.expand(2, -1, -1), A.expand(2, -1, -1)
    np.testing.assert_allclose(
        predict(c * Vs, As / c, batch.x, batch.k),
        predict(Vs, As, batch.x, batch.k),
        rtol=1e-12,
        atol=1e-12,
    )
    pop = Population.of(task)
    assert math.isclose(float(pop.loss(c * V, A / c)), float(pop.loss(V, A)), rel_tol=1e-10)


@given(scb.task_sizes(N=st.integers(2, 4), T=st.integers(1, 6)), st.data())
def test_stacked_population_equals_each_task_alone(sizes, data):
    N, T, _ = sizes
    R = data.draw(st.integers(2, 4), label="R")
    tasks = [
        make_task(N, T, data.draw(st.integers(1, T)), seed=data.draw(st.integers(0, 2**16)))
        for _ in range(R)
    ]
    params = [data.draw(scb.linear_params(N=N, T=T, constrained=st.booleans())) for _ in tasks]
    V = f64(np.stack([p[0] for p in params]))
    A = f64(np.stack([p[1] for p in params]))
    stacked = Population.of(tasks)
    batched = {
        "loss": stacked.loss(V, A),
        "grad_V": stacked.grad_V(V, A),
        "grad_A": stacked.grad_A(V, A),
        **all_metrics(stacked, V, A),
    }
    for r, task in enumerate(tasks):
        pop = Population.of(task)
        alone = {
            "loss": pop.loss(V[r], A[r]),
            "grad_V": pop.grad_V(V[r], A[r]),
            "grad_A": pop.grad_A(V[r], A[r]),
            **all_metrics(pop, V[r], A[r]),
        }
        for key, value in alone.items():
            np.testing.assert_allclose(batched[key][r], value, rtol=1e-12, atol=1e-14, err_msg=key)


def test_stacking_tasks_of_different_shapes_is_an_error():
    with pytest.raises(ValueError, match=r"must share \(N, T\)"):
        Population.of([make_task(3, 4, 2), make_task(3, 5, 2)])


# --------------------------------------------------------------------------- metrics


@given(scb.tasks())
def test_correlation_at_uniform_attention_lies_in_its_interval(task):
    pop = Population.of(task)
    rho = float(correlation(pop, torch.full((task.T, task.N), 1.0 / task.T, dtype=torch.float64)))
    assert 1 / math.sqrt(task.T) - 1e-12 <= rho <= math.sqrt(task.Q / task.T) + 1e-12
    if task.meta["weights"] == "uniform":  # ‖q_k‖ = 1/√Q: the upper end exactly
        assert math.isclose(rho, math.sqrt(task.Q / task.T), rel_tol=1e-12)


@given(scb.tasks(), st.floats(0.01, 100.0))
def test_metrics_at_the_ground_truth(task, scale):
    pop = Population.of(task)
    P, Qs = pop.P, pop.Qstar
    assert math.isclose(float(correlation(pop, Qs)), 1.0, rel_tol=1e-12)
    assert math.isclose(float(correlation(pop, scale * Qs)), 1.0, rel_tol=1e-12)
    assert float(support_recovery(pop, Qs)) == 1.0
    assert float(dist_V(pop, P)) == 0.0 and float(dist_A(pop, Qs)) == 0.0
    assert math.isclose(float(dist_V(pop, P + 1.0)), task.N, rel_tol=1e-12)  # ‖11ᵀ‖_F = N


@given(scb.tasks())
def test_support_recovery_of_uniform_attention_counts_full_supports_only(task):
    """Uniform a_k ties on and off the support: recovered only where the support is all of
    [T] (nothing is off it)."""
    pop = Population.of(task)
    uniform = torch.full((task.T, task.N), 1.0 / task.T, dtype=torch.float64)
    full = np.mean([s.size == task.T for s in task.supports])
    assert float(support_recovery(pop, uniform)) == full
