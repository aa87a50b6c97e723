"""The learner interface: what an algorithm plugin implements and what a run takes and returns.

A run is described by a :class:`RunSpec` (task, seed, batch size, sample budget, initialization,
settings, milestones) and produces a :class:`RunResult` (status, samples consumed, final metrics,
a trajectory of the docs/reference.md §4 metrics at log-spaced sample counts, the final parameters).

An algorithm is an :class:`Algorithm` subclass: it turns parameters into a *state* (a dict of
tensors, each with the run axis R first), updates the state from one fresh batch per step, and
exposes the linear-model view (V, A) of the state for evaluation. The training loop in
:mod:`scb_verify.training` does everything else — sampling, counting samples, metrics, milestones,
divergence, stacking R runs — identically for every algorithm.
"""

from __future__ import annotations

import dataclasses
import io
import math
import numbers
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from scb_verify.provenance import write_atomic
from scb_verify.runs import HIGHER_IS_BETTER
from scb_verify.sampler import Batch
from scb_verify.task import SCBTask

State = dict[str, torch.Tensor]


class SettingsError(ValueError):
    """Unknown or invalid algorithm settings."""


class SpecError(ValueError):
    """An invalid run: a :class:`RunSpec` field, a :class:`Milestone`, a parameters file."""


class TruthWithheld(PermissionError):
    """A learner that is not an exact-gradient reference read the ground truth."""


class Withheld:
    """What a learner that is not a reference (``Algorithm.reference = False``) gets in place of
    the ground truth: ``visible`` attributes (a task's shape N, T, Q) read normally, any other
    raises :class:`TruthWithheld` naming the learner and what it tried to read."""

    def __init__(self, learner: str, what: str, **visible: Any):
        self._learner, self._what = learner, what
        self.__dict__.update(visible)

    def __getattr__(self, name: str) -> Any:
        raise TruthWithheld(
            f"learner {self._learner!r} read {self._what}.{name}, but only an exact-gradient "
            "reference learner (Algorithm.reference = True, e.g. 'population') may read the "
            "ground truth (P, Q*, μ); a learner observes samples, its own iterates and losses "
            "on fresh samples (docs/reference.md §5)"
        )

    def __repr__(self) -> str:
        return f"<{self._what} withheld from {self._learner!r}>"


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
    the learner was a reference learner and received the ground truth."""

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


class Algorithm:
    """Base class of algorithm plugins (docs/reference.md §5). Subclasses set ``name``, ``summary``,
    ``defaults`` (every setting with its default value) and implement :meth:`init_state`,
    :meth:`step` and, if the state is not (V, A), :meth:`linear_view`.

    ``reference = True`` declares an exact-gradient reference learner (the population learner):
    it alone receives the ground truth — the stacked
    :class:`~scb_verify.population.Population` as ``truth`` and the real task in ``spec`` — and
    it consumes no data: the loop passes ``batch=None`` and still counts ``batch`` samples per
    step so its trajectory aligns with finite-sample runs; results record it
    (``RunResult.read_truth``). Every other learner gets :class:`Withheld` stand-ins: ``truth``,
    and ``spec.task`` with only its shape N, T, Q; reading anything else raises
    :class:`TruthWithheld`.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    defaults: ClassVar[Mapping[str, Any]] = {}
    reference: ClassVar[bool] = False

    def resolve_settings(self, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults updated by ``overrides``, each coerced to its default's type and checked by
        :meth:`check_settings`. Raises :class:`SettingsError` naming the allowed keys."""
        out = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in self.defaults:
                raise SettingsError(
                    f"{self.name}: unknown setting {key!r}; allowed: {', '.join(self.defaults)}"
                )
            out[key] = _coerce(self.name, key, value, self.defaults[key])
        self.check_settings(out)
        return out

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Raise :class:`SettingsError` for values out of range (override as needed)."""

    def init_state(
        self,
        V: torch.Tensor,
        A: torch.Tensor,
        spec: RunSpec,
        settings: dict[str, Any],
        truth: Any,
    ) -> State:
        """Build the state of R stacked runs from V (R, N, N) and A (R, T, N).

        ``truth`` is the stacked :class:`~scb_verify.population.Population` for a reference
        learner (``reference = True``) and a :class:`Withheld` stand-in for every other one.
        """
        raise NotImplementedError

    def step(self, state: State, batch: Batch | None, t: int, settings: dict[str, Any]) -> None:
        """Update ``state`` in place from one batch (step index t = 1, 2, …)."""
        raise NotImplementedError

    def linear_view(self, state: State) -> tuple[torch.Tensor, torch.Tensor]:
        """(V, A) of the state, for metrics and the saved model."""
        return state["V"], state["A"]


def check_positive(name: str, settings: dict[str, Any], *keys: str) -> None:
    """Raise :class:`SettingsError` unless each ``settings[key] > 0``."""
    for key in keys:
        if not settings[key] > 0:
            raise SettingsError(f"{name}: setting {key!r} must be > 0, got {settings[key]}")


def _coerce(algo: str, key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` (docs/reference.md §5): a bool default takes
    true/false/1/0, an int default integers, a float default finite numbers, a str default
    strings; text (from ``--set``) is parsed, anything else must already have the type (a bool
    is not an int). Other defaults are passed through."""
    kind = type(default)
    if kind not in (bool, int, float, str):
        return value
    allowed = {
        bool: "a bool (true, false, 1 or 0)",
        int: "an integer",
        float: "a finite number",
        str: "a string",
    }[kind]
    out = _parse(kind, value)
    if out is None:
        raise SettingsError(f"{algo}: setting {key!r} must be {allowed}, got {value!r}")
    return out


def _parse(kind: type, value: Any) -> Any:
    """``value`` as ``kind`` (bool, int, float or str), or None if it is not one."""
    if kind is str:
        return value if isinstance(value, str) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if kind is bool:
            return {"true": True, "1": True, "false": False, "0": False}.get(text)
        if kind is int and not text.lstrip("+-").isdigit():
            return None
        try:
            value = int(text) if kind is int else float(text)
        except ValueError:
            return None
    if kind is bool:
        return value if isinstance(value, bool | np.bool_) else None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    if kind is int:
        return int(value) if isinstance(value, numbers.Integral) else None
    return float(value) if math.isfinite(value) else None


__all__ = [
    "Algorithm",
    "Init",
    "Milestone",
    "Params",
    "RunResult",
    "RunSpec",
    "SettingsError",
    "SpecError",
    "State",
    "TruthWithheld",
    "Withheld",
    "check_positive",
    "initial_params",
    "runs_per_seed",
]
