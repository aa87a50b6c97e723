"""The constrained ℓ1 prox (docs/reference.md §5.1) meets its optimality conditions and matches
independent reference solutions (bisection, sort-based simplex projection).

Tolerances: the prox is exact up to rounding of O(T) sums of entries of size ≤ 5, i.e.
≲ 1e-13; 1e-9 leaves room without hiding any real error.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scb_verify.prox import newton_step_nonneg, prox_columns, soft_threshold

TOL = 1e-9

#: Arrays (…, T, N): optional run axis, T in 1..12 (T = 1 included), N in 1..4.
Z = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 4)).flatmap(
        lambda tn: st.sampled_from([tn, (2, *tn)])
    ),
    elements=st.floats(-4.0, 4.0, allow_subnormal=False),
)
TAU = st.floats(0.0, 2.0)


def prox(z: np.ndarray, tau, variant: str) -> np.ndarray:
    return prox_columns(torch.tensor(z), tau, variant).numpy()


def psi(u: np.ndarray, tau: float, variant: str) -> np.ndarray:
    """soft(u, τ) (affine) or max(u, 0) (simplex)."""
    return (
        np.sign(u) * np.maximum(np.abs(u) - tau, 0.0) if variant == "affine" else np.maximum(u, 0)
    )


def bisection_prox(z: np.ndarray, tau: float, variant: str) -> np.ndarray:
    """ψ(z − ν) with ν solving Σ_t ψ(z_t − ν) = 1, by bisection on the non-increasing left side
    (bracket: at ν = min z − τ − 1 every term is ≥ 1; at ν = max z + τ every term is ≤ 0)."""
    lo = z.min(axis=-2, keepdims=True) - tau - 1.0
    hi = z.max(axis=-2, keepdims=True) + tau
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = psi(z - mid, tau, variant).sum(axis=-2, keepdims=True) >= 1.0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return psi(z - 0.5 * (lo + hi), tau, variant)


def sort_projection(z: np.ndarray) -> np.ndarray:
    """Euclidean projection of every column onto the simplex (Duchi et al. 2008): max(z − θ, 0)
    with θ = (Σ_{j≤ρ} u_j − 1)/ρ, u sorted decreasingly, ρ the largest j with
    u_j > (Σ_{i≤j} u_i − 1)/j."""
    u = -np.sort(-z, axis=-2)
    css = np.cumsum(u, axis=-2) - 1.0
    j = np.arange(1, z.shape[-2] + 1).reshape(-1, 1)
    rho = (u - css / j > 0).sum(axis=-2, keepdims=True)
    theta = np.take_along_axis(css, rho - 1, axis=-2) / rho
    return np.maximum(z - theta, 0.0)


@given(Z, TAU)
def test_affine_prox_meets_its_kkt_conditions(z, tau):
    """a = argmin ½‖a − z‖² + τ‖a‖₁ s.t. 1ᵀa = 1 iff 1ᵀa = 1 and there is ν with
    z_t − a_t − ν ∈ τ·∂|a_t|: = τ·sign(a_t) where a_t ≠ 0, within [−τ, τ] where a_t = 0."""
    a = prox(z, tau, "affine")
    np.testing.assert_allclose(a.sum(axis=-2), 1.0, atol=TOL)
    nonzero = a != 0
    nu_t = np.where(nonzero, z - a - tau * np.sign(a), np.nan)
    nu = np.nanmean(nu_t, axis=-2, keepdims=True)  # every column has a nonzero (it sums to 1)
    assert np.all(np.abs(np.where(nonzero, nu_t - nu, 0.0)) <= TOL)
    assert np.all(np.where(nonzero, True, np.abs(z - nu) <= tau + TOL))


@given(Z, TAU, st.sampled_from(["affine", "simplex"]))
def test_prox_matches_a_bisection_reference(z, tau, variant):
    np.testing.assert_allclose(prox(z, tau, variant), bisection_prox(z, tau, variant), atol=TOL)


@given(Z, TAU)
def test_simplex_prox_is_the_euclidean_projection_onto_the_simplex(z, tau):
    """On the simplex ‖a‖₁ = 1, so the ℓ1 term is constant: the prox is the projection, for
    every τ."""
    a = prox(z, tau, "simplex")
    assert (a >= 0).all()
    np.testing.assert_allclose(a.sum(axis=-2), 1.0, atol=TOL)
    np.testing.assert_allclose(a, sort_projection(z), atol=TOL)


@given(Z)
def test_affine_prox_without_threshold_is_the_projection_onto_the_hyperplane(z):
    expected = z - (z.sum(axis=-2, keepdims=True) - 1.0) / z.shape[-2]
    np.testing.assert_allclose(prox(z, 0.0, "affine"), expected, atol=TOL)


@given(Z.filter(lambda z: z.ndim == 3), st.lists(TAU, min_size=2, max_size=2))
def test_a_threshold_per_run_equals_separate_calls(z, taus):
    a = prox_columns(torch.tensor(z), torch.tensor(taus, dtype=torch.float64), "affine").numpy()
    for r, tau in enumerate(taus):
        np.testing.assert_allclose(a[r], prox(z[r], tau, "affine"), atol=TOL)


@given(hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-5, 5)), TAU)
def test_soft_threshold(u, tau):
    out = soft_threshold(torch.tensor(u), tau).numpy()
    np.testing.assert_array_equal(out, psi(u, tau, "affine"))


def test_unknown_variant_is_an_error():
    with pytest.raises(ValueError, match="variant must be 'affine' or 'simplex', got 'box'"):
        prox_columns(torch.zeros(3, 2), 0.1, "box")


# --------------------------------------------------------------- the sparse variant's Newton step

#: Rows (…, T) of b, with s0 ≥ 0 and κ > 0 per row.
ROWS = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.integers(1, 12)),
    elements=st.floats(-4.0, 4.0, allow_subnormal=False),
)


@given(ROWS, st.floats(0.0, 3.0), st.floats(1e-3, 1e3))
def test_newton_step_meets_its_optimality_conditions(b, s0, kappa):
    """a = (b − ν)₊ with Σ a = s0 + ν/κ (the rank-one curvature's sum condition), a ≥ 0."""
    s0_t = torch.full((b.shape[0], 1), s0, dtype=torch.float64)
    k_t = torch.full((b.shape[0], 1), kappa, dtype=torch.float64)
    a = newton_step_nonneg(torch.tensor(b), s0_t, k_t).numpy()
    assert np.all(a >= 0)
    # ν is the same for every positive entry, and every zero entry has b_t ≤ ν
    for row_a, row_b in zip(a, b, strict=True):
        pos = row_a > 0
        nu = (row_b[pos] - row_a[pos]).mean() if pos.any() else -kappa * s0
        assert np.allclose(row_b[pos] - row_a[pos], nu, atol=TOL)
        assert np.all(row_b[~pos] <= nu + TOL)
        assert abs(row_a.sum() - (s0 + nu / kappa)) <= TOL * (1 + kappa * abs(nu))


@given(ROWS, st.floats(0.0, 3.0), st.floats(1e-2, 1e2))
def test_newton_step_equals_bisection_on_its_sum_equation(b, s0, kappa):
    """Independent reference: bisection on F(ν) = Σ(b − ν)₊ − ν/κ − s0, strictly decreasing."""
    bt = torch.tensor(b)
    s0_t = torch.full((b.shape[0], 1), s0, dtype=torch.float64)
    k_t = torch.full((b.shape[0], 1), kappa, dtype=torch.float64)
    lo = np.full((b.shape[0], 1), -1e4)
    hi = np.full((b.shape[0], 1), 1e4)
    for _ in range(200):
        mid = (lo + hi) / 2
        f = np.maximum(b - mid, 0).sum(-1, keepdims=True) - mid / kappa - s0
        lo, hi = np.where(f > 0, mid, lo), np.where(f > 0, hi, mid)
    expected = np.maximum(b - (lo + hi) / 2, 0)
    assert np.allclose(newton_step_nonneg(bt, s0_t, k_t).numpy(), expected, atol=1e-8)


def test_newton_step_is_the_minimizer_of_its_local_model():
    """On random problems the closed form beats every feasible perturbation of itself on
    q(a) = cᵀ(a − a0) + ½(a − a0)ᵀ(I + κ11ᵀ)(a − a0), c = a0 − b (the model it solves)."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        T = int(rng.integers(2, 10))
        a0, kappa = rng.random(T), float(rng.uniform(0.1, 20))
        b = a0 + rng.normal(0, 0.5, T)
        a = newton_step_nonneg(
            torch.tensor(b[None]), torch.tensor([[a0.sum()]]), torch.tensor([[kappa]])
        ).numpy()[0]
        H = np.eye(T) + kappa * np.ones((T, T))

        def q(x, a0=a0, b=b, H=H):
            d = x - a0
            return (a0 - b) @ d + 0.5 * d @ H @ d

        for _ in range(20):
            other = np.maximum(a + rng.normal(0, 0.05, T), 0.0)
            assert q(a) <= q(other) + 1e-12
