"""The run vocabulary (docs/reference.md §4, §5): what a run takes and returns, numpy only.

A run is described by a :class:`RunSpec` (task, seed, batch size, sample budget, initialization,
settings, milestones) and produces a :class:`RunResult` (status, samples consumed, final metrics,
a trajectory of the §4 metrics at log-spaced sample counts, the final :class:`Params`). Light:
no torch, no numba — results are read, and runs described, without the engine; the algorithm
interface that trains them is :mod:`scb_verify.algorithm`.
"""

from __future__ import annotations

import dataclasses
import io
import math
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scb_verify.provenance import write_atomic
from scb_verify.task import SCBTask

if TYPE_CHECKING:
    import torch

#: Metric name → True when larger is better (used by milestones and reports).
HIGHER_IS_BETTER = {
    "correlation": True,
    "min_cosine": True,
    "support_recovery": True,
    "dist_V": False,
    "dist_A": False,
    "excess_risk": False,
}


class SpecError(ValueError):
    """An invalid run: a :class:`RunSpec` field, a :class:`Milestone`, a parameters file."""


@dataclass(frozen=True)
class Params:
    """Linear-transformer parameters of one run: V (N×N) and A (T×N), as numpy arrays."""

    V: np.ndarray
    A: np.ndarray

    def save(self, path: str | Path, **meta: Any) -> None:
        """Write an ``.npz`` archive to exactly ``path`` (no suffix added; ``-`` is standard
        output; written atomically, :func:`~scb_verify.provenance.write_atomic`), loadable by
        :meth:`load` and by ``--init PATH``."""
        buffer = io.BytesIO()
        np.savez(buffer, V=self.V, A=self.A, meta=np.array(repr(meta)))
        write_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> Params:
        """Read parameters written by :meth:`save`: an ``.npz`` archive of finite real arrays V
        (N×N) and A (T×N), optionally ``meta``, read without unpickling anything. Raises
        :class:`SpecError` naming what is wrong with the file."""
        if not Path(path).is_file():
            what = "no such file" if not Path(path).exists() else "not a regular file"
            raise SpecError(f"cannot read parameters from {path}: {what}")
        try:
            f = np.load(path, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            with f:
                keys = set(f.files)
                if not {"V", "A"} <= keys <= {"V", "A", "meta"}:
                    raise ValueError(f"holds {sorted(keys)}; expected V, A (and meta)")
                arrays = {k: f[k] for k in ("V", "A")}
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise SpecError(f"cannot read parameters from {path}: {e}") from e
        for k, a in arrays.items():
            if a.dtype.kind not in "iuf":
                raise SpecError(f"{path}: {k} holds {a.dtype} values; expected real numbers")
            if not np.isfinite(a).all():
                raise SpecError(f"{path}: {k} has non-finite entries (NaN or inf)")
        V, A = (np.array(arrays[k], dtype=np.float64) for k in ("V", "A"))
        if V.ndim != 2 or V.shape[0] != V.shape[1] or A.ndim != 2 or A.shape[1] != V.shape[0]:
            raise SpecError(f"{path}: expected V (N×N) and A (T×N), got {V.shape} and {A.shape}")
        return cls(V, A)


@dataclass(frozen=True)
class Milestone:
    """A level of a §4 metric whose first crossing is recorded, e.g. correlation ≥ 0.9."""

    metric: str
    level: float

    def __post_init__(self):
        if self.metric not in HIGHER_IS_BETTER:
            raise SpecError(
                f"unknown milestone metric {self.metric!r}; allowed: {sorted(HIGHER_IS_BETTER)}"
            )

    @property
    def name(self) -> str:
        """``"correlation>=0.9"`` style key."""
        op = ">=" if HIGHER_IS_BETTER[self.metric] else "<="
        return f"{self.metric}{op}{self.level:g}"

    def reached(self, value: torch.Tensor) -> torch.Tensor:
        """Elementwise: has ``value`` crossed the level?"""
        return value >= self.level if HIGHER_IS_BETTER[self.metric] else value <= self.level


Init = str | Params


@dataclass(frozen=True)
class RunSpec:
    """One training run. ``samples`` is the budget of fresh samples (rounded up to whole
    batches); ``init`` is ``"uniform"`` (A = 1/T, V = 0), ``"random"`` (seeded small
    perturbation of uniform) or :class:`Params` (finetuning). With ``stop_at_milestones`` the
    run ends as soon as every milestone is reached."""

    task: SCBTask
    seed: int = 0
    batch: int = 256
    samples: int = 100_000
    init: Init = "uniform"
    settings: Mapping[str, Any] = field(default_factory=dict)
    milestones: tuple[Milestone, ...] = ()
    stop_at_milestones: bool = False
    record_points: int = 40

    def __post_init__(self):
        if self.batch < 1:
            raise SpecError(f"batch must be a positive integer, got {self.batch}")
        if self.samples < self.batch:
            raise SpecError(f"samples ({self.samples}) must be at least one batch ({self.batch})")
        if isinstance(self.init, str) and self.init not in ("uniform", "random"):
            raise SpecError(f"init must be 'uniform', 'random' or Params, got {self.init!r}")
        if isinstance(self.init, Params) and (
            self.init.V.shape != (self.task.N, self.task.N)
            or self.init.A.shape != (self.task.T, self.task.N)
        ):
            raise SpecError(
                f"init parameters have V {self.init.V.shape}, A {self.init.A.shape}; the task "
                f"needs V ({self.task.N}, {self.task.N}) and A ({self.task.T}, {self.task.N})"
            )

    @property
    def steps(self) -> int:
        """Number of optimization steps: ⌈samples / batch⌉."""
        return math.ceil(self.samples / self.batch)

    def stack_key(self) -> tuple:
        """Runs with equal keys can be stacked into one batched computation."""
        return (
            self.task.N,
            self.task.T,
            self.batch,
            self.steps,
            self.record_points,
            tuple(sorted(self.settings.items())),
            self.milestones,
            self.stop_at_milestones,
        )


def runs_per_seed(tasks: Iterable[tuple[int, SCBTask]], **shared: Any) -> tuple[RunSpec, ...]:
    """One :class:`RunSpec` per ``(seed, task)`` pair — the seed is the run's sampling seed —
    with the other fields (``batch``, ``samples``, ``settings``, …) in ``shared``."""
    return tuple(RunSpec(task=task, seed=seed, **shared) for seed, task in tasks)


def initial_params(spec: RunSpec) -> Params:
    """The starting (V, A) of a run (docs/reference.md §5: uniform, random, or given)."""
    N, T = spec.task.N, spec.task.T
    if isinstance(spec.init, Params):
        return spec.init
    if spec.init == "uniform":
        return Params(np.zeros((N, N)), np.full((T, N), 1.0 / T))
    rng = np.random.default_rng([spec.seed, 1])
    A = rng.dirichlet(np.full(T, 10.0), size=N).T
    return Params(0.01 * rng.standard_normal((N, N)), A)


@dataclass
class RunResult:
    """What one run produced. ``status`` is ``"completed"`` or ``"diverged"`` (a NaN/inf
    appeared; the run stopped there). ``milestones`` maps each milestone name to the samples
    consumed when it was first reached (None if never). ``trajectory`` maps ``"step"``,
    ``"samples"`` and every §4 metric to lists recorded at log-spaced steps. ``read_truth``:
    the algorithm was a reference algorithm and received the ground truth."""

    algorithm: str
    settings: dict[str, Any]
    task: dict[str, Any]
    seed: int
    batch: int
    status: str
    samples: int
    steps: int
    final: dict[str, float]
    milestones: dict[str, int | None]
    trajectory: dict[str, list[float]]
    params: Params
    wall_time: float
    stopped_early: bool = False
    read_truth: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (parameters omitted)."""
        d = dataclasses.asdict(self)
        d.pop("params")
        return d
