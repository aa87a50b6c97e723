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

from scb_verify.prox import prox_columns, soft_threshold

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
