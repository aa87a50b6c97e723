"""The claim plugin contract: one theorem of the paper as an executable, checkable statement.

A claim (docs/reference.md §6) names the paper statement it encodes, its sympy bounds, the
learner it trains by registered name, a parameter grid per budget and its negative control.
Its :meth:`Claim.measure` is a *generator*: it yields lists of :class:`Job` (training work,
executed by the runner on any ``concurrent.futures`` executor), receives their results, may
yield again (adaptive designs, e.g. the smallest batch that succeeds), and finally returns a
:class:`ClaimOutcome` with the checks' verdicts and the evidence::

    def measure(self, ctx):
        results = yield [Job(ctx.learner, specs)]
        return ClaimOutcome(checks=[threshold_check(...)], measurements={...})

The framework applies the context to every job (:meth:`ClaimContext.apply`): runs of the learner
under test get ``ctx.settings`` under their own, so a claim never copies them. A claim that
trains nothing writes ``measure`` as a plain function of its context returning the outcome.

With ``ctx.control`` true the same generator runs the claim's negative control: a configuration
where the check must come out *violated* (docs/reference.md §7).
"""

from __future__ import annotations

import inspect
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import sympy

from scb_verify.runs import RunResult, RunSpec
from scb_verify.schema import BUDGETS, Budget
from scb_verify.verdict import CheckResult

if TYPE_CHECKING:
    from scb_verify.falsify.engine import Falsifier

__all__ = ["BUDGETS", "Budget", "Claim", "ClaimContext", "ClaimOutcome", "Job", "Measurement"]


@dataclass(frozen=True)
class Job:
    """A unit of work: train ``specs`` with the registered ``algorithm`` (compatible specs are
    stacked into one batched computation); ``label`` names the job in errors."""

    algorithm: str
    specs: tuple[RunSpec, ...]
    label: str = ""


@dataclass(frozen=True)
class ClaimContext:
    """How a claim is run: budget, learner under test (the claim's own or the ``--algorithm``
    substitute) and its settings, control or not."""

    budget: Budget = "smoke"
    learner: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    control: bool = False

    def apply(self, job: Job) -> Job:
        """``job`` as the runner trains it: a job of the learner under test has ``settings``
        under each spec's own (a spec's explicit setting wins); other jobs are unchanged."""
        if job.algorithm != self.learner or not self.settings:
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


class Claim:
    """Base class of claim plugins. Subclasses set the class attributes and implement
    :meth:`measure`; :meth:`settings_for` may tune a learner's settings.

    - ``id``: short unique id (``"C3"``); ``title``: one line; ``paper``: the statement of
      docs/reference.md §0 it encodes (``"S3"``) and ``statement``: its text as checked here.
    - ``bounds``: name → sympy expression.
    - ``learner``: default learner under test by registered name, or None if the claim trains
      nothing (it is then skipped under ``--algorithm``).
    - ``control``: one line saying what the negative control is and why it must be violated.
    - ``grids``: budget → the parameters that budget uses (printed by
      ``scb-verify claims --explain ID``).
    """

    id: ClassVar[str]
    title: ClassVar[str]
    paper: ClassVar[str]
    statement: ClassVar[str]
    bounds: ClassVar[Mapping[str, sympy.Expr]] = {}
    learner: ClassVar[str | None] = None
    control: ClassVar[str]
    grids: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def grid(self, budget: Budget) -> Mapping[str, Any]:
        """The parameters used at ``budget``; ValueError names the allowed budgets."""
        if budget not in self.grids:
            raise ValueError(f"{self.id}: unknown budget {budget!r}; allowed: {list(self.grids)}")
        return self.grids[budget]

    def settings_for(self, learner: str) -> dict[str, Any]:
        """Settings this claim uses for ``learner`` (default: the learner's own defaults)."""
        return {}

    def measure(self, ctx: ClaimContext) -> Measurement | ClaimOutcome:
        """Yield jobs, receive their results, return the outcome; a claim that trains nothing
        returns the outcome directly (see the module docstring)."""
        raise NotImplementedError

    def falsifier(self, learner: str | None) -> Falsifier | None:
        """This claim's "for all" statement as a property over its instance class, measured by
        this claim's own code and training ``learner`` (None: the claim's own), or None if the
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
            "learner": self.learner,
            "control": self.control,
            "bounds": {
                name: {"sympy": sympy.sstr(expr), "latex": sympy.latex(expr)}
                for name, expr in self.bounds.items()
            },
            "grids": {b: dict(g) for b, g in self.grids.items()},
        }
