"""The claim plugin contract: one theorem of the paper as an executable, checkable statement.

A claim (docs/reference.md §6) names the paper statement it encodes, its sympy bounds, the
algorithm it trains by registered name, a parameter grid per budget and its negative control.
Its :meth:`Claim.measure` is a *generator*: it yields lists of :class:`Job` (training work,
executed by the runner on any ``concurrent.futures`` executor), receives their results, may
yield again (adaptive designs, e.g. the smallest batch that succeeds), and finally returns a
:class:`ClaimOutcome` with the checks' verdicts and the evidence::

    def measure(self, ctx):
        results = yield [Job(ctx.algorithm, specs)]
        return ClaimOutcome(checks=[threshold_check(...)], measurements={...})

The framework applies the context to every job (:meth:`ClaimContext.apply`): runs of the algorithm
under test get ``ctx.settings`` under their own, so a claim never copies them. A claim that
trains nothing writes ``measure`` as a plain function of its context returning the outcome.

With ``ctx.control`` true the same generator runs the claim's negative control: a configuration
where the checks must fail: it must come out *violated*, or *unreached* when the control is a task
whose target is never reached (docs/reference.md §7.7).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, cast, dataclass_transform

import sympy

from scb_verify.runs import RunResult, RunSpec, runs_per_seed
from scb_verify.schema import BUDGETS, Budget
from scb_verify.verdict import CheckResult

if TYPE_CHECKING:
    from scb_verify.falsify.engine import Falsifier
    from scb_verify.task import SCBTask

__all__ = [
    "BUDGETS",
    "Budget",
    "Claim",
    "ClaimContext",
    "ClaimOutcome",
    "Grid",
    "GridError",
    "Job",
    "Measurement",
]


class GridError(TypeError):
    """A claim's grid names a parameter its grid class does not have, or gives one a value of
    the wrong type: raised when the claim's module is imported, naming both."""


@dataclass_transform(kw_only_default=True, frozen_default=True)
@dataclass(frozen=True, kw_only=True)
class Grid:
    """A claim's parameters at one budget, typed: subclass it with one annotated field per
    parameter (every subclass is made a frozen, keyword-only dataclass; a field's default is
    the value the budgets share) and build the claim's ``grids`` with :meth:`budgets`::

        class StageOneGrid(Grid):
            T: tuple[int, ...]
            N: int = 5
            seeds: int = 3

        grids = StageOneGrid.budgets(
            smoke={"T": (32, 64, 128)},
            ci={"T": (32, 64, 128, 256, 512), "seeds": 24},
        )

    A parameter the class does not declare, a missing one or a value of the wrong type is a
    :class:`GridError` when the grid is built (at import), naming the grid, the budget and what
    is allowed. Supported annotations: ``int``, ``float`` (an int is accepted), ``str``,
    ``bool``, ``tuple[X, ...]``, ``tuple[X, Y]`` and unions of these; a list given for a
    tuple becomes a tuple. A claim reads its parameters as attributes (``g.seeds``).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True, kw_only=True)(cls)

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            try:
                object.__setattr__(self, f.name, _conform(value, hints[f.name]))
            except (TypeError, ValueError):
                raise GridError(
                    f"{type(self).__name__}.{f.name} must be {_type_name(hints[f.name])}, "
                    f"got {value!r}"
                ) from None

    @classmethod
    def budgets(cls, **overrides: Mapping[str, Any]) -> dict[Budget, Self]:
        """One grid per budget: the class's defaults, overridden by ``overrides[budget]``
        (budgets: ``smoke``, ``ci``, ``full``; a budget not given is not available)."""
        unknown = set(overrides) - set(BUDGETS)
        if unknown:
            raise GridError(
                f"{cls.__name__}: unknown budget {sorted(unknown)[0]!r}; allowed: {list(BUDGETS)}"
            )
        names = [f.name for f in dataclasses.fields(cls)]
        grids = {}
        for budget in BUDGETS:
            if budget not in overrides:
                continue
            values = dict(overrides[budget])
            extra = sorted(set(values) - set(names))
            if extra:
                raise GridError(
                    f"{cls.__name__} at budget {budget!r}: unknown parameter {extra[0]!r}; "
                    f"allowed: {', '.join(names)}"
                )
            try:
                grids[budget] = cls(**values)
            except GridError as e:
                raise GridError(f"{e} (budget {budget!r})") from None
            except TypeError as e:  # a parameter without a default and not given
                raise GridError(f"{cls.__name__} at budget {budget!r}: {e}") from None
        return grids

    def as_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON-ready data (tuples as lists), in field order."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _conform(value: Any, hint: Any) -> Any:
    """``value`` as an instance of the annotation ``hint`` (lists become tuples); ValueError
    if it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        for option in args:
            try:
                return _conform(value, option)
            except ValueError:
                continue
        raise ValueError(value)
    if origin is tuple:
        if not isinstance(value, tuple | list):
            raise ValueError(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_conform(v, args[0]) for v in value)
        if len(args) != len(value):
            raise ValueError(value)
        return tuple(_conform(v, a) for v, a in zip(value, args, strict=True))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (int, float) and isinstance(value, bool):
        raise ValueError(value)
    if not isinstance(value, hint):
        raise ValueError(value)
    return value


def _type_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Job:
    """A unit of work: train ``specs`` with the registered ``algorithm`` (compatible specs are
    stacked into one batched computation); ``label`` names the job in errors."""

    algorithm: str
    specs: tuple[RunSpec, ...]
    label: str = ""

    @classmethod
    def per_seed(
        cls, algorithm: str, tasks: Iterable[tuple[int, SCBTask]], label: str = "", **shared: Any
    ) -> Job:
        """One run of ``algorithm`` per ``(seed, task)`` pair, the seed being the run's sampling
        seed, with the other :class:`RunSpec` fields (``batch``, ``samples``, …) in ``shared``:
        ``Job.per_seed(name, enumerate(tasks), batch=64, samples=4096)`` trains task s on data
        stream s."""
        return cls(algorithm, runs_per_seed(tasks, **shared), label=label)


@dataclass(frozen=True)
class ClaimContext:
    """How a claim is run: budget, algorithm under test (the claim's own or the ``--algorithm``
    substitute) and its settings, control or not, and the instance family
    (:mod:`scb_verify.family`) its instances come from — a claim builds every instance with
    :meth:`task`, so ``--family`` reaches it without code of its own."""

    budget: Budget = "smoke"
    algorithm: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    control: bool = False
    family: Mapping[str, Any] = field(default_factory=dict)

    def task(self, N: int, T: int, Q: int, seed: int = 0, **params: Any) -> SCBTask:
        """The instance :func:`scb_verify.task.make_task` draws from ``seed`` with the claim's
        parameters ``params`` and the family's on top (docs/reference.md §1). A family the
        claim's instances cannot take (a window wider than T, a support wider than Q…) is a
        :class:`~scb_verify.family.FamilyError` saying so in one line."""
        from scb_verify.family import FamilyError, family_label
        from scb_verify.task import TaskError, make_task

        if not self.family:
            return make_task(N, T, Q, seed, **params)
        try:
            return make_task(N, T, Q, seed, **{**params, **self.family})
        except TaskError as e:
            label = family_label(self.family)
            raise FamilyError(f"the family {label} does not apply here: {e}") from None

    def apply(self, job: Job) -> Job:
        """``job`` as the runner trains it: a job of the algorithm under test has ``settings``
        under each spec's own (a spec's explicit setting wins); other jobs are unchanged."""
        if job.algorithm != self.algorithm or not self.settings:
            return job
        specs = tuple(replace(s, settings={**self.settings, **s.settings}) for s in job.specs)
        return replace(job, specs=specs)


@dataclass
class ClaimOutcome:
    """What a claim's measurement concluded: its checks (each with its verdict and evidence),
    the measured numbers, and artifacts for reports (trajectories, attention matrices)."""

    checks: list[CheckResult]
    measurements: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)


Measurement = Generator[list[Job], list[list[RunResult]], ClaimOutcome]


def measurement(claim: Claim, ctx: ClaimContext) -> Measurement:
    """``claim.measure(ctx)`` as a generator: a generator's own steps, or — for a claim that
    trains nothing, whose ``measure`` is a plain function — one that yields nothing and
    returns the function's outcome (computed at the first step, not when this is called)."""
    result = claim.measure(ctx)
    if inspect.isgenerator(result):
        return (yield from result)
    return result


G = TypeVar("G", bound=Grid)


class Claim(Generic[G]):
    """Base class of claim plugins, generic in its grid class (``Claim[StageOneGrid]``).
    Subclasses set the class attributes and implement :meth:`measure`; :meth:`settings_for` may
    tune an algorithm's settings.

    - ``id``: short unique id (``"C3"``); ``title``: one line; ``statement``: the statement as
      checked here; ``paper`` (optional): where in its paper the statement comes from (the
      built-ins use the statement ids of docs/reference.md §0, ``"S3"``). The registry refuses
      a claim without ``id``, ``title``, ``statement`` or ``control``, naming the plugin.
    - ``bounds``: name → sympy expression.
    - ``algorithm``: default algorithm under test by registered name, or None if the claim trains
      nothing (it is then skipped under ``--algorithm``).
    - ``substitutable``: False for a claim about one particular model (C8, the softmax
      transformer): ``--algorithm`` then skips it (:func:`scb_verify.session.skipped`) rather
      than report another algorithm's verdict under its statement. Default True.
    - ``control``: one line saying what the negative control is and why its checks must fail
      (violated, or unreached).
    - ``grids``: budget → that budget's :class:`Grid` (built with :meth:`Grid.budgets`;
      printed by ``scb-verify claims --explain ID``); a claim without parameters keeps the
      default, an empty grid at every budget.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    paper: ClassVar[str] = ""
    statement: ClassVar[str]
    bounds: ClassVar[Mapping[str, sympy.Expr]] = {}
    algorithm: ClassVar[str | None] = None
    substitutable: ClassVar[bool] = True
    control: ClassVar[str]
    grids: ClassVar[Mapping[Budget, Grid]] = Grid.budgets(smoke={}, ci={}, full={})

    def grid(self, budget: Budget) -> G:
        """The :class:`Grid` used at ``budget``; ValueError names the allowed budgets."""
        if budget not in self.grids:
            raise ValueError(f"{self.id}: unknown budget {budget!r}; allowed: {list(self.grids)}")
        return cast(G, self.grids[budget])

    def excludes(self, family: Mapping[str, Any]) -> str | None:
        """Why this claim's statement excludes the instance ``family`` (one line), or None when
        it applies (the default: every family of :mod:`scb_verify.family`). A run over such a
        family leaves the claim out and records why (``Results.skipped``)."""
        return None

    def settings_for(self, algorithm: str) -> dict[str, Any]:
        """Settings this claim uses for ``algorithm`` (default: the algorithm's own defaults)."""
        return {}

    def measure(self, ctx: ClaimContext) -> Measurement | ClaimOutcome:
        """Yield jobs, receive their results, return the outcome; a claim that trains nothing
        returns the outcome directly (see the module docstring)."""
        raise NotImplementedError

    def falsifier(self, algorithm: str | None) -> Falsifier | None:
        """This claim's "for all" statement as a property over its instance class, measured by
        this claim's own code and training ``algorithm`` (None: the claim's own), or None if the
        claim quantifies over no instance class. Contract: :func:`scb_verify.hookspecs.
        register_claims`; the engine and building blocks need hypothesis, imported here only."""
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: statement, bounds as sympy text and LaTeX, grids."""
        return {
            "id": self.id,
            "title": self.title,
            "paper": self.paper,
            "statement": self.statement,
            "algorithm": self.algorithm,
            "substitutable": self.substitutable,
            "control": self.control,
            "bounds": {
                name: {"sympy": sympy.sstr(expr), "latex": sympy.latex(expr)}
                for name, expr in self.bounds.items()
            },
            "grids": {b: g.as_dict() for b, g in self.grids.items()},
        }
