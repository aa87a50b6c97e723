"""Hypothesis strategies for SCB instances, model parameters and algorithm settings.

Every public strategy takes keyword-only arguments, each either a plain value or a strategy that
draws it. Plain values are validated when the strategy is built, drawn values when they are
drawn; both raise :class:`hypothesis.errors.InvalidArgument` naming the argument. Defaults are
small so that property tests stay fast::

    from hypothesis import given
    from scb_verify import strategies as scb

    @given(scb.tasks(N=3, T=scb.st.integers(2, 8)))
    def test_mu_is_stationary(task): ...
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from scb_verify.task import SCBTask, make_task

__all__ = [
    "algorithm_settings",
    "linear_params",
    "sparse_attention",
    "task_sizes",
    "tasks",
    "transition_matrices",
]

#: Largest context length drawn by default.
MAX_T = 32
SUPPORTS = ("random", "window", "shared")
WEIGHTINGS = ("dirichlet", "uniform")


# --------------------------------------------------------------------------- argument handling


def _strategy(value: Any) -> SearchStrategy:
    return value if isinstance(value, SearchStrategy) else st.just(value)


def _is_strategy(value: Any) -> bool:
    return isinstance(value, SearchStrategy)


def _check_int(name: str, value: Any, min_value: int) -> None:
    """Validate a plain integer argument (None means a default; strategies are checked when
    drawn)."""
    if value is None or _is_strategy(value):
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidArgument(f"{name} must be an integer or a strategy, got {value!r}")
    if value < min_value:
        raise InvalidArgument(f"{name} must be at least {min_value}, got {name}={value}")


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    if not (value is None or _is_strategy(value)) and value not in allowed:
        raise InvalidArgument(f"{name} must be one of {allowed}, got {value!r}")


def _draw_int(draw, name: str, value: Any, min_value: int) -> int:
    out = draw(_strategy(value))
    if out is None:
        raise InvalidArgument(f"{name} must be an integer or a strategy, got None")
    _check_int(name, out, min_value)
    return int(out)


def _check_q_le_t(T: Any, Q: Any) -> None:
    if not any(v is None or _is_strategy(v) for v in (T, Q)) and Q > T:
        raise InvalidArgument(f"sparsity Q must satisfy Q <= T, got Q={Q} > T={T}")


def _weights(size: int) -> SearchStrategy[np.ndarray]:
    """Positive weights summing to one, bounded away from zero (ratio at most 100)."""
    return st.lists(st.floats(0.01, 1.0), min_size=size, max_size=size).map(
        lambda w: np.asarray(w) / math.fsum(w)
    )


# --------------------------------------------------------------------------- sizes and tasks


def task_sizes(*, N: Any = None, T: Any = None, Q: Any = None) -> SearchStrategy[tuple]:
    """(N, T, Q) with N ≥ 2 and 1 ≤ Q ≤ T.

    Defaults: N in 2..8, T in Q..32 (1..32 when Q is not fixed), Q in 1..T. When T or Q is a
    strategy, draws with Q > T are rejected (filtered), not errors.
    """
    _check_int("N", N, 2)
    _check_int("T", T, 1)
    _check_int("Q", Q, 1)
    _check_q_le_t(T, Q)
    n_s = st.integers(2, 8) if N is None else N
    if T is None:
        q_min = 1 if Q is None or _is_strategy(Q) else Q
        T = st.integers(q_min, max(q_min, MAX_T))

    @st.composite
    def sizes(draw) -> tuple[int, int, int]:
        n = _draw_int(draw, "N", n_s, 2)
        t = _draw_int(draw, "T", T, 1)
        q = draw(st.integers(1, t)) if Q is None else _draw_int(draw, "Q", Q, 1)
        assume(q <= t)
        return n, t, q

    return sizes()


def tasks(
    *,
    N: Any = None,
    T: Any = None,
    Q: Any = None,
    concentration: Any = None,
    support: Any = None,
    weights: Any = None,
    seed: Any = None,
) -> SearchStrategy[SCBTask]:
    """:class:`SCBTask` instances from :func:`~scb_verify.task.make_task`.

    Sizes as in :func:`task_sizes`; unless given, ``concentration`` in [0.1, 10] (drawn on a
    log scale), every support pattern and weighting, any 32-bit seed.
    """
    sizes = task_sizes(N=N, T=T, Q=Q)
    _check_concentration(concentration)
    _check_choice("support", support, SUPPORTS)
    _check_choice("weights", weights, WEIGHTINGS)
    _check_int("seed", seed, 0)
    conc_s = st.floats(-1.0, 1.0).map(lambda e: 10.0**e) if concentration is None else concentration
    support_s = st.sampled_from(SUPPORTS) if support is None else support
    weights_s = st.sampled_from(WEIGHTINGS) if weights is None else weights
    seed_s = st.integers(0, 2**32 - 1) if seed is None else seed

    @st.composite
    def task(draw) -> SCBTask:
        n, t, q = draw(sizes)
        conc = draw(_strategy(conc_s))
        _check_concentration(conc)
        pattern, kind = draw(_strategy(support_s)), draw(_strategy(weights_s))
        _check_choice("support", pattern, SUPPORTS)
        _check_choice("weights", kind, WEIGHTINGS)
        s = _draw_int(draw, "seed", seed_s, 0)
        return make_task(n, t, q, seed=s, concentration=conc, support=pattern, weights=kind)

    return task()


def _check_concentration(value: Any) -> None:
    if value is None or _is_strategy(value):
        return
    if not isinstance(value, int | float) or not (value > 0 and math.isfinite(value)):
        raise InvalidArgument(f"concentration must be a positive finite number, got {value!r}")


# --------------------------------------------------------------------------- arrays


def sparse_attention(*, T: Any, N: Any, Q: Any) -> SearchStrategy[np.ndarray]:
    """A T×N matrix whose columns are distributions with between 1 and Q nonzeros (positive
    weights, at random positions): a valid Q* for :meth:`SCBTask.from_arrays`."""
    _check_int("T", T, 1)
    _check_int("N", N, 1)
    _check_int("Q", Q, 1)
    _check_q_le_t(T, Q)

    @st.composite
    def attention(draw) -> np.ndarray:
        t, n, q = _draw_int(draw, "T", T, 1), _draw_int(draw, "N", N, 1), _draw_int(draw, "Q", Q, 1)
        assume(q <= t)
        out = np.zeros((t, n))
        for k in range(n):
            size = draw(st.integers(1, q))
            positions = draw(st.permutations(range(t)))[:size]
            out[positions, k] = draw(_weights(size))
        return out

    return attention()


def transition_matrices(*, N: Any) -> SearchStrategy[np.ndarray]:
    """An N×N column-stochastic P whose chain is irreducible and aperiodic.

    The transition graph is a random Hamiltonian cycle (irreducible), one self-loop (aperiodic)
    and a random subset of the other edges; edge weights are positive, at most 100× apart.
    """
    _check_int("N", N, 2)

    @st.composite
    def matrix(draw) -> np.ndarray:
        n = _draw_int(draw, "N", N, 2)
        order = draw(st.permutations(range(n)))
        edges = draw(hnp.arrays(bool, (n, n))).copy()  # edges[i, j]: j -> i
        edges[order[1:] + order[:1], order] = True
        loop = draw(st.integers(0, n - 1))
        edges[loop, loop] = True
        w = draw(hnp.arrays(np.float64, (n, n), elements=st.floats(0.01, 1.0)))
        P = np.where(edges, w, 0.0)
        return P / P.sum(axis=0, keepdims=True)

    return matrix()


def linear_params(
    *, N: Any, T: Any, constrained: Any = True
) -> SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """(V, A) of the linear transformer: V (N×N) entries in [−2, 2], A (T×N) entries near
    [−1, 1]. With ``constrained`` (default) every column of A sums to one (1ᵀa_k = 1);
    otherwise the column sums are arbitrary."""
    _check_int("N", N, 1)
    _check_int("T", T, 1)
    if not _is_strategy(constrained) and not isinstance(constrained, bool):
        raise InvalidArgument(f"constrained must be a bool or a strategy, got {constrained!r}")
    entries = st.floats(-1.0, 1.0, allow_subnormal=False)

    @st.composite
    def params(draw) -> tuple[np.ndarray, np.ndarray]:
        n, t = _draw_int(draw, "N", N, 1), _draw_int(draw, "T", T, 1)
        V = draw(hnp.arrays(np.float64, (n, n), elements=entries)) * 2.0
        A = draw(hnp.arrays(np.float64, (t, n), elements=entries))
        if draw(_strategy(constrained)):
            A = A + (1.0 - A.sum(axis=0, keepdims=True)) / t
        return V, A

    return params()


# --------------------------------------------------------------------------- algorithm settings

_PPPD = {
    "variant": st.sampled_from(["sparse", "simplex", "affine"]),
    "eta_V": st.floats(0.05, 1.0),
    "eta_A": st.floats(0.05, 1.0),
    "lam": st.floats(0.0, 3.0),
    "eps": st.floats(0.0, 0.05),
    "threshold": st.sampled_from(["noise", "fixed"]),
    "decay": st.floats(0.0, 0.2),
    "precond_floor": st.floats(1e-4, 1e-2),
}

#: Valid settings around the defaults of each built-in algorithm (each key optional).
_SETTINGS: dict[str, dict[str, SearchStrategy]] = {
    "pppd": _PPPD,
    "population": _PPPD,
    "sgd": {"lr": st.floats(0.01, 1.0)},
    "softmax": {
        "optimizer": st.sampled_from(["adam", "sgd"]),
        "loss": st.sampled_from(["mse", "ce"]),
        "lr": st.floats(1e-3, 0.1),
        "beta1": st.floats(0.5, 0.99),
        "beta2": st.floats(0.9, 0.9999),
    },
    "null": {},
}


def algorithm_settings(algorithm_name: Any) -> SearchStrategy[dict[str, Any]]:
    """Dicts of valid settings for a built-in algorithm (``pppd``, ``population``, ``sgd``,
    ``softmax``, ``null``): any subset of its keys, with values drawn around the defaults.
    ``algorithm_name`` may be a strategy drawing names."""
    if _is_strategy(algorithm_name):
        return algorithm_name.flatmap(algorithm_settings)
    if algorithm_name not in _SETTINGS:
        raise InvalidArgument(
            f"no settings strategy for algorithm {algorithm_name!r}; "
            f"known: {', '.join(sorted(_SETTINGS))}"
        )
    return st.fixed_dictionaries({}, optional=_SETTINGS[algorithm_name])
