"""Sparse Contextual Bigram (SCB) instances (docs/reference.md §1).

An instance is a column-stochastic transition matrix ``P`` (N×N; column j is the law of the next
token after token j) and a sparse position-attention matrix ``Q*`` (T×N; column k is a
distribution over the T context positions with at most Q nonzeros). Everything else (the
stationary law μ, the sampler, the population loss) is derived from these two arrays.

Instances come from :func:`make_task` (a seed and knobs), :func:`related_task` (a downstream task
correlated with a given one, §5.5) or :meth:`SCBTask.from_arrays` (explicit arrays). All three
validate their input and raise :class:`TaskError` naming what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

SupportPattern = Literal["random", "window", "shared"]
SupportWeights = Literal["dirichlet", "uniform"]

#: Tolerance for "sums to one" and "is non-negative" checks on user-provided arrays.
ATOL = 1e-9


class TaskError(ValueError):
    """An SCB instance that breaks the definitions of docs/reference.md §1."""


@dataclass(frozen=True, eq=False)
class SCBTask:
    """One SCB instance: transition matrix ``P`` (N×N) and attention ``Qstar`` (T×N).

    ``Q`` is the declared sparsity (every column of ``Qstar`` has at most ``Q`` nonzeros);
    ``meta`` records how the instance was generated (seed and knobs), for reports.
    Construct through :meth:`from_arrays`, :func:`make_task` or :func:`related_task`, which
    validate; the arrays are copied and made read-only.
    """

    P: np.ndarray
    Qstar: np.ndarray
    Q: int
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_arrays(
        cls, P: np.ndarray, Qstar: np.ndarray, Q: int | None = None, meta: dict | None = None
    ) -> SCBTask:
        """Validate explicit arrays and build a task.

        ``Q`` defaults to the largest support size found in ``Qstar``.
        Raises :class:`TaskError` on: N < 2; non-finite entries; a column of P or Q* that is
        not a distribution (names the column and its sum); Q < 1 or Q > T; a column of Q* with
        more than Q nonzeros; a reducible or periodic P (names the states); μ with a zero entry.
        """
        P = _as_matrix("P", P)
        Qstar = _as_matrix("Q*", Qstar)
        N = P.shape[1]
        if N < 2:
            raise TaskError(f"vocabulary size N must be at least 2, got N={N}")
        if P.shape != (N, N):
            raise TaskError(f"P must be square N×N, got shape {P.shape}")
        if Qstar.shape[1] != N:
            raise TaskError(
                f"Q* must have one column per token (N={N} columns), got shape {Qstar.shape}"
            )
        T = Qstar.shape[0]
        _check_columns_are_distributions("P", P)
        _check_columns_are_distributions("Q*", Qstar)
        nnz = (Qstar > 0).sum(axis=0)
        if Q is None:
            Q = int(nnz.max())
        _check_sparsity(Q, T)
        if (nnz > Q).any():
            k = int(np.argmax(nnz > Q))
            raise TaskError(
                f"column {k} of Q* has {int(nnz[k])} nonzeros, more than the sparsity Q={Q}"
            )
        _check_ergodic(P)
        P = np.array(P, dtype=np.float64)
        Qstar = np.array(Qstar, dtype=np.float64)
        P.flags.writeable = False
        Qstar.flags.writeable = False
        task = cls(P=P, Qstar=Qstar, Q=int(Q), meta=dict(meta or {}))
        if not (task.mu > 0).all():
            j = int(np.argmin(task.mu))
            raise TaskError(f"the stationary distribution μ has a zero entry at state {j}")
        return task

    @property
    def N(self) -> int:
        """Vocabulary size."""
        return self.P.shape[0]

    @property
    def T(self) -> int:
        """Context length."""
        return self.Qstar.shape[0]

    @cached_property
    def mu(self) -> np.ndarray:
        """Stationary distribution of P (Pμ = μ, 1ᵀμ = 1)."""
        return stationary_distribution(self.P)

    @cached_property
    def supports(self) -> list[np.ndarray]:
        """For each token k, the positions where q_k > 0 (sorted)."""
        return [np.flatnonzero(self.Qstar[:, k] > 0) for k in range(self.N)]

    def describe(self) -> dict:
        """JSON-ready description: sizes plus the generation knobs in ``meta``."""
        return {"N": self.N, "T": self.T, "Q": self.Q, **self.meta}


def stationary_distribution(P: np.ndarray) -> np.ndarray:
    """Solve Pμ = μ, 1ᵀμ = 1 for a column-stochastic P (least squares on the stacked system)."""
    N = P.shape[0]
    M = np.vstack([P - np.eye(N), np.ones((1, N))])
    rhs = np.zeros(N + 1)
    rhs[-1] = 1.0
    mu, *_ = np.linalg.lstsq(M, rhs, rcond=None)
    mu = np.clip(mu, 0.0, None)
    return mu / mu.sum()


def make_task(
    N: int,
    T: int,
    Q: int,
    seed: int = 0,
    *,
    concentration: float = 0.5,
    support: SupportPattern = "random",
    weights: SupportWeights = "dirichlet",
    window: int | None = None,
) -> SCBTask:
    """Draw an SCB instance from a seed (docs/reference.md §1).

    - ``concentration``: Dirichlet concentration α of each column of P (small → sharp,
      informative transitions; large → columns near μ, a weak signal).
    - ``support``: ``"random"`` (Q random positions per token), ``"window"`` (Q random positions
      per token among the last ``window`` positions, default ``min(T, 2Q)``) or ``"shared"``
      (one random set of Q positions for every token).
    - ``weights``: ``"dirichlet"`` (Dirichlet(1) weights on the support) or ``"uniform"`` (1/Q).
    """
    _check_sizes(N, T, Q)
    if not (concentration > 0 and math.isfinite(concentration)):
        raise TaskError(f"concentration must be a positive finite number, got {concentration}")
    if support not in ("random", "window", "shared"):
        raise TaskError(f"support must be one of 'random', 'window', 'shared'; got {support!r}")
    if weights not in ("dirichlet", "uniform"):
        raise TaskError(f"weights must be 'dirichlet' or 'uniform'; got {weights!r}")
    rng = np.random.default_rng(seed)
    P = _ergodic_dirichlet_columns(rng, N, concentration)
    Qstar = np.zeros((T, N))
    if support == "window":
        window = min(T, 2 * Q) if window is None else window
        if not Q <= window <= T:
            raise TaskError(f"window must satisfy Q <= window <= T ({Q}..{T}), got {window}")
    shared = rng.choice(T, size=Q, replace=False)
    for k in range(N):
        if support == "shared":
            pos = shared
        elif support == "window":
            pos = T - window + rng.choice(window, size=Q, replace=False)
        else:
            pos = rng.choice(T, size=Q, replace=False)
        w = rng.dirichlet(np.ones(Q)) if weights == "dirichlet" else np.full(Q, 1.0 / Q)
        Qstar[pos, k] = w
    meta = {
        "seed": seed,
        "concentration": concentration,
        "support": support,
        "weights": weights,
    }
    if support == "window":
        meta["window"] = window
    return SCBTask.from_arrays(P, Qstar, Q=Q, meta=meta)


def task_from_spec(spec: Mapping[str, Any]) -> SCBTask:
    """The task a JSON spec names: explicit arrays (``P``, ``Qstar``, ``Q``) or the keyword
    arguments of :func:`make_task` (what :meth:`SCBTask.describe` gives for a generated task)."""
    if "P" in spec:
        return SCBTask.from_arrays(np.array(spec["P"]), np.array(spec["Qstar"]), Q=spec["Q"])
    return make_task(**spec)


def bigram_task(N: int, T: int, seed: int = 0, *, concentration: float = 0.5) -> SCBTask:
    """The classical bigram as an SCB instance: q_k = e_T for every k, so o ~ P[:, x_T]."""
    _check_sizes(N, T, 1)
    rng = np.random.default_rng(seed)
    P = _ergodic_dirichlet_columns(rng, N, concentration)
    Qstar = np.zeros((T, N))
    Qstar[T - 1, :] = 1.0
    meta = {"seed": seed, "concentration": concentration, "support": "bigram"}
    return SCBTask.from_arrays(P, Qstar, Q=1, meta=meta)


def related_task(task: SCBTask, *, keep: int, seed: int = 0, perturb_P: float = 0.0) -> SCBTask:
    """A downstream task correlated with ``task`` (docs/reference.md §5.5).

    For every token, ``keep`` of the support positions of q_k stay (with their weights) and the
    others move to fresh random positions; the column is renormalized. ``keep = Q`` returns the
    same attention, ``keep = 0`` an (almost) uncorrelated one. ``P′ = (1 − δ)P + δ·D`` with
    ``δ = perturb_P`` and D a fresh Dirichlet-column matrix. The task correlation is reported by
    :func:`scb_verify.metrics.task_correlation`. ``keep = 0`` needs a free position outside
    each support (a support filling all T positions is a :class:`TaskError`).
    """
    if not 0 <= keep <= task.Q:
        raise TaskError(f"keep must be between 0 and Q={task.Q}, got {keep}")
    if not 0.0 <= perturb_P <= 1.0:
        raise TaskError(f"perturb_P must be in [0, 1], got {perturb_P}")
    rng = np.random.default_rng(seed)
    T, N = task.T, task.N
    Qnew = np.zeros((T, N))
    for k in range(N):
        supp = task.supports[k]
        kept = rng.choice(supp, size=min(keep, supp.size), replace=False)
        free = np.setdiff1d(np.arange(T), supp)
        n_new = supp.size - kept.size
        if kept.size == 0 and free.size == 0:
            raise TaskError(
                f"keep=0 leaves token {k} nowhere to move: its support fills all T={T} positions"
            )
        moved = rng.choice(free, size=min(n_new, free.size), replace=False)
        Qnew[kept, k] = task.Qstar[kept, k]
        Qnew[moved, k] = rng.dirichlet(np.ones(moved.size)) * max(1e-3, 1.0 - Qnew[:, k].sum())
        Qnew[:, k] /= Qnew[:, k].sum()
    P = task.P
    if perturb_P > 0:
        # D gets a stream of its own: drawn from `rng`, it would equal P whenever nothing else
        # drew from `rng` (Q = 1, keep = 1) and seed == the task's seed.
        d_rng = np.random.default_rng([seed, 2])  # make_task uses [seed], random init [seed, 1]
        D = _ergodic_dirichlet_columns(d_rng, N, task.meta.get("concentration", 0.5))
        P = (1.0 - perturb_P) * P + perturb_P * D
    meta = {
        **task.meta,
        "related_to_seed": task.meta.get("seed"),
        "keep": keep,
        "perturb_P": perturb_P,
        "seed": seed,
    }
    return SCBTask.from_arrays(P, Qnew, Q=task.Q, meta=meta)


# --------------------------------------------------------------------------- validation


def _as_matrix(name: str, M) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise TaskError(f"{name} must be a 2-d array, got {M.ndim} dimension(s)")
    bad = ~np.isfinite(M)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise TaskError(f"{name} has a non-finite entry ({M[i, j]}) at row {i}, column {j}")
    return M


def _check_sizes(N: int, T: int, Q: int) -> None:
    if N < 2:
        raise TaskError(f"vocabulary size N must be at least 2, got N={N}")
    if T < 1:
        raise TaskError(f"context length T must be at least 1, got T={T}")
    _check_sparsity(Q, T)


def _check_sparsity(Q: int, T: int) -> None:
    if not 1 <= Q <= T:
        raise TaskError(f"sparsity Q must satisfy 1 <= Q <= T={T}, got Q={Q}")


def _check_columns_are_distributions(name: str, M: np.ndarray) -> None:
    neg = M < -ATOL
    if neg.any():
        i, j = map(int, np.argwhere(neg)[0])
        raise TaskError(
            f"column {j} of {name} is not a distribution: entry {i} is negative ({M[i, j]:.3g})"
        )
    sums = M.sum(axis=0)
    off = np.abs(sums - 1.0) > 1e-6
    if off.any():
        j = int(np.argmax(off))
        raise TaskError(
            f"column {j} of {name} is not a distribution: it sums to {sums[j]:.6g}, not 1"
        )


def _check_ergodic(P: np.ndarray) -> None:
    """Raise unless the chain j → i (P[i, j] > 0) is irreducible and aperiodic."""
    N = P.shape[0]
    adj = P.T > ATOL  # adj[j, i]: a transition j -> i is possible
    reach_from_0 = _reachable(adj, 0)
    reach_to_0 = _reachable(adj.T, 0)
    if not (reach_from_0.all() and reach_to_0.all()):
        unreachable = np.flatnonzero(~reach_from_0).tolist()
        stuck = np.flatnonzero(~reach_to_0).tolist()
        parts = []
        if unreachable:
            parts.append(f"states {unreachable} cannot be reached from state 0")
        if stuck:
            parts.append(f"states {stuck} cannot reach state 0")
        raise TaskError("P is reducible: " + "; ".join(parts))
    # Period = gcd over edges (j -> i) of level[j] + 1 - level[i], with BFS levels from state 0.
    level = np.full(N, -1)
    level[0] = 0
    frontier = [0]
    while frontier:
        nxt = []
        for j in frontier:
            for i in np.flatnonzero(adj[j]):
                if level[i] < 0:
                    level[i] = level[j] + 1
                    nxt.append(int(i))
        frontier = nxt
    period = 0
    for j, i in np.argwhere(adj):
        period = math.gcd(period, int(level[j] + 1 - level[i]))
    if period > 1:
        classes = [np.flatnonzero(level % period == c).tolist() for c in range(period)]
        raise TaskError(f"P is periodic with period {period}; cyclic classes of states: {classes}")


def _reachable(adj: np.ndarray, start: int) -> np.ndarray:
    seen = np.zeros(adj.shape[0], dtype=bool)
    seen[start] = True
    stack = [start]
    while stack:
        j = stack.pop()
        for i in np.flatnonzero(adj[j] & ~seen):
            seen[i] = True
            stack.append(int(i))
    return seen


def _ergodic_dirichlet_columns(rng: np.random.Generator, N: int, alpha: float) -> np.ndarray:
    """Columns ~ Dirichlet(α·1), floored at 1e-6 and renormalized so the chain is ergodic."""
    P = rng.dirichlet(np.full(N, alpha), size=N).T
    P = np.maximum(P, 1e-6)
    return P / P.sum(axis=0, keepdims=True)


def uninformative_task(task: SCBTask) -> SCBTask:
    """The same attention Q* with P replaced by μ1ᵀ: the next token ignores the context.

    Then PΣ = μ(1ᵀΣ) = 0, so ⟨V, P⟩_Σ = 0 and the attention receives no signal at all
    (docs/reference.md §3): a task on which no algorithm can find Q*, used by negative controls.
    """
    P = np.outer(task.mu, np.ones(task.N))
    meta = {**task.meta, "uninformative": True}
    return SCBTask.from_arrays(P, task.Qstar, Q=task.Q, meta=meta)
