"""The search engine: a claim's bound as a hypothesis property, shrunk to a minimal counterexample.

A :class:`Falsifier` states a claim's "for all" statement over an explicit *instance class* (a
hypothesis strategy of JSON instances) and measures one instance at a time
(:class:`Evaluation`). :func:`search` runs the adversarial search:

1. **replay** — counterexamples stored by earlier runs are tried first, as hypothesis explicit
   examples (``@example``); a stored one that fails again ends the search at once, one that now
   holds is deleted from the store;
2. **generate / target** — up to ``examples`` instances drawn from the class with the random
   generator seeded by ``seed``; ``hypothesis.target(measured / bound)`` steers the search
   towards instances closest to violating the bound;
3. **shrink** — the first failure is shrunk to a minimal one (at most ``max_shrinks`` new
   measurements; instances past that are rejected unmeasured), which is stored.

A stochastic property fails only when its excess recurs on fresh data (the instance measured
again with its data seed replaced): shrinking keeps only confirmed counterexamples, and a
confirmed counterexample makes the claim violated.

**Determinism and the example database.** Hypothesis forbids ``derandomize=True`` together with
a database (derandomize implies ``database=None``), and its ``@seed`` disables the database too:
a seeded run never replays or saves. The search therefore seeds generation with ``@seed(seed)``
(same seed, same examples, same minimal counterexample) and keeps its own store in a
:class:`~hypothesis.database.DirectoryBasedExampleDatabase` (``results/hypothesis-db`` by
default): the values are the counterexamples as canonical JSON, keyed by claim, mode (bound or
control) and a digest of the instance class. JSON instances, unlike hypothesis's choice
sequences, replay the same instance after the class strategy changes, are readable, and are
exactly what ``scb-verify falsify CLAIM --replay JSON`` takes; a changed class gets a new key.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sympy
from hypothesis import HealthCheck, Phase, Verbosity, example, given, reject, settings, target
from hypothesis import seed as seeded
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.strategies import SearchStrategy

from scb_verify.falsify.instance import Check
from scb_verify.paths import falsify_db
from scb_verify.verdict import CheckResult, Status

#: Shrink measurements allowed by default, however few examples: enough for hypothesis to reach
#: a minimal instance of these classes (tens of measurements, rarely more).
MIN_SHRINKS = 100


@dataclass(frozen=True)
class Evaluation:
    """One instance measured against the bound: the property holds iff ``holds``.

    ``measured`` is the statistic that must not exceed ``bound`` (a lower confidence end for
    stochastic properties, so that only a significant excess fails); ``text`` says it in one
    line; ``details`` is JSON evidence."""

    measured: float
    bound: float
    holds: bool
    text: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """measured / bound, the quantity hypothesis's targeting maximizes (finite)."""
        if self.bound > 0:
            return float(np.clip(self.measured / self.bound, -1e300, 1e300))
        return 0.0 if self.measured <= self.bound else 1e300

    def to_dict(self) -> dict[str, Any]:
        return {
            "measured": self.measured,
            "bound": self.bound,
            "holds": self.holds,
            "text": self.text,
            "details": self.details,
        }


@dataclass(frozen=True)
class Falsifier:
    """A claim's "for all" statement as a property over an instance class.

    - ``claim``: the claim's id; ``algorithm``: the registered algorithm its runs train (the
      claim's own, or the ``falsify --algorithm`` substitute; None for a claim that trains
      nothing).
    - ``statement``: the quantified statement with its math; ``parameters``: the class, one
      printable range per parameter; ``instances``: the class as a strategy of JSON dicts.
    - ``measurement(instance)``: the claim's own measurement of one instance (the values the bound
      is tested on, JSON-ready) — the same code the claim's ``measure`` runs, so that on the
      claim's own instance it gives the claim's numbers.
    - ``evaluate(instance, control)``: measure one instance and test it against the bound; with
      ``control`` the deliberately false variant (``control`` says which) that a working search
      must falsify.
    - ``stochastic``: the measurement draws data from ``instance["seed"]``; a failure counts
      only if it recurs on fresh data (:func:`measure`).
    - ``calibration()``: how the bound's constant was obtained (evidence), if it has one.
    - ``schema``: the class as a validator of one JSON instance (:mod:`.instance`), applied to a
      ``--replay`` instance before anything is measured; without one, only JSON-object-ness is
      checked and a measurement's KeyError or TypeError is reported as a bad instance.
    """

    claim: str
    algorithm: str | None
    statement: str
    parameters: Mapping[str, str]
    instances: SearchStrategy[dict[str, Any]]
    evaluate: Callable[[dict[str, Any], bool], Evaluation]
    measurement: Callable[[dict[str, Any]], Any]
    control: str
    stochastic: bool
    calibration: Callable[[], dict[str, Any]] | None = None
    schema: Check | None = None

    def describe(self) -> dict[str, Any]:
        """The statement, class and control, JSON-ready (the ``--list`` text, digested into the
        database key)."""
        return {
            "claim": self.claim,
            "algorithm": self.algorithm,
            "statement": self.statement,
            "class": dict(self.parameters),
            "control": self.control,
            "stochastic": self.stochastic,
        }

    def database_key(self, control: bool) -> bytes:
        """Store key: claim, mode and a digest of the class description."""
        digest = hashlib.sha256(canonical(self.describe()).encode()).hexdigest()[:16]
        mode = "control" if control else "bound"
        return f"scb-verify/falsify/{self.claim}/{mode}/{digest}".encode()


@dataclass(frozen=True)
class Trial:
    """One instance measured: its evaluation and, for a stochastic property that failed, the
    confirmation on fresh data. The instance is a counterexample iff both fail."""

    evaluation: Evaluation
    confirmation: Evaluation | None = None

    @property
    def fails(self) -> bool:
        return not self.evaluation.holds and (
            self.confirmation is None or not self.confirmation.holds
        )

    @property
    def text(self) -> str:
        if self.confirmation is None:
            return self.evaluation.text
        verdict = "fails again" if not self.confirmation.holds else "holds"
        return f"{self.evaluation.text}; on fresh data it {verdict}: {self.confirmation.text}"


def measure(falsifier: Falsifier, instance: dict[str, Any], control: bool) -> Trial:
    """Evaluate ``instance``; a stochastic failure is measured again on fresh data."""
    evaluation = falsifier.evaluate(instance, control)
    if evaluation.holds or not falsifier.stochastic:
        return Trial(evaluation)
    return Trial(evaluation, falsifier.evaluate(fresh_data(instance), control))


class Counterexample(Exception):
    """Raised inside the property: ``instance`` fails (``trial``)."""

    def __init__(self, instance: dict[str, Any], trial: Trial):
        super().__init__(trial.text)
        self.instance, self.trial = instance, trial


def canonical(instance: Any) -> str:
    """Compact JSON with sorted keys: the identity of an instance (store value, memo key)."""
    return json.dumps(instance, sort_keys=True, separators=(",", ":"), allow_nan=False)


def fresh_data(instance: dict[str, Any]) -> dict[str, Any]:
    """The same instance with its data seed advanced by one (disjoint data streams)."""
    return {**instance, "seed": (int(instance["seed"]) + 1) % 2**32}


@dataclass
class SearchResult:
    """The outcome of one search. ``tried``: distinct instances measured up to and including
    the first counterexample (all of them if none); ``shrinks``: new measurements while
    shrinking; ``replayed``: stored counterexamples measured again; ``unconfirmed``: instances
    whose excess did not recur on fresh data (noise, not counterexamples)."""

    falsifier: Falsifier
    control: bool
    examples: int
    seed: int
    database: str
    tried: int = 0
    shrinks: int = 0
    replayed: int = 0
    unconfirmed: int = 0
    counterexample: dict[str, Any] | None = None
    trial: Trial | None = None
    from_store: bool = False
    wall_time: float = 0.0
    error: str | None = None

    @property
    def status(self) -> Status:
        """error; violated: a counterexample (confirmed, if stochastic); holds: none found (an
        instance not reached within the budget is no counterexample, :func:`.kit.unreached`)."""
        if self.error is not None:
            return Status.ERROR
        return Status.HOLDS if self.counterexample is None else Status.VIOLATED

    def reproduce(self) -> str | None:
        """One shell command that measures the counterexample again."""
        if self.counterexample is None:
            return None
        ctl = " --control" if self.control else ""
        if self.falsifier.algorithm is not None:
            ctl += f" --algorithm {shlex.quote(self.falsifier.algorithm)}"
        return (
            f"scb-verify falsify {self.falsifier.claim}{ctl} --replay "
            f"{shlex.quote(canonical(self.counterexample))}"
        )

    def summary(self) -> str:
        what = "negative control (deliberately false bound)" if self.control else "search"
        if self.error is not None:
            return f"{what} errored: {self.error.strip().splitlines()[-1]}: error"
        if self.counterexample is None:
            noise = ""
            if self.unconfirmed:
                noise = f" ({self.unconfirmed} excess(es) not confirmed on fresh data)"
            return f"{what}: no counterexample in {self.tried} example(s){noise}: holds"
        origin = (
            "replayed from the database"
            if self.from_store
            else f"after {self.tried} example(s), shrunk in {self.shrinks} measurement(s)"
        )
        return f"{what}: counterexample {origin}: {self.trial.text}: {self.status.value}"

    def check(self) -> CheckResult:
        """The result as a check of kind ``falsification`` (violated on a counterexample)."""
        evidence = {
            **self.falsifier.describe(),
            "control_run": self.control,
            "examples": self.examples,
            "tried": self.tried,
            "shrinks": self.shrinks,
            "replayed": self.replayed,
            "unconfirmed": self.unconfirmed,
            "from_database": self.from_store,
            "seed": self.seed,
            "database": self.database,
            "counterexample": self.counterexample,
            "evaluation": self.trial.evaluation.to_dict() if self.trial else None,
            "confirmation": (
                self.trial.confirmation.to_dict()
                if self.trial and self.trial.confirmation
                else None
            ),
            "reproduce": self.reproduce(),
            "wall_time": self.wall_time,
            "error": self.error,
        }
        if self.falsifier.calibration is not None and self.error is None:
            evidence["calibration"] = self.falsifier.calibration()
        return CheckResult("falsification", self.status, self.summary(), evidence)


def search(
    falsifier: Falsifier,
    *,
    examples: int,
    seed: int = 0,
    database: str | Path | None = None,
    control: bool = False,
    max_shrinks: int | None = None,
) -> SearchResult:
    """Search ``falsifier``'s class for a counterexample (see the module docstring).

    ``database`` defaults to :func:`scb_verify.paths.falsify_db`. ``max_shrinks`` caps the new
    measurements spent shrinking (default: max(examples,
    :data:`MIN_SHRINKS`)); past it, the smallest counterexample found so far is reported."""
    if examples < 1:
        raise ValueError(f"examples must be a positive integer, got {examples}")
    budget = max(examples, MIN_SHRINKS) if max_shrinks is None else max_shrinks
    database = falsify_db() if database is None else database
    result = SearchResult(falsifier, control, examples, seed, str(database))
    store = DirectoryBasedExampleDatabase(str(database))
    key = falsifier.database_key(control)
    stored = sorted(store.fetch(key))
    memo: dict[str, Trial] = {}
    t0 = time.perf_counter()

    def prop(instance: dict[str, Any]) -> None:
        name = canonical(instance)
        if name not in memo:
            shrinking = result.counterexample is not None
            if shrinking and result.shrinks >= budget:
                reject()
            trial = memo[name] = measure(falsifier, instance, control)
            if shrinking:
                result.shrinks += 1
            else:
                result.tried += 1
                result.unconfirmed += trial.confirmation is not None and not trial.fails
        trial = memo[name]
        target(trial.evaluation.ratio, label="measured/bound")
        if trial.fails:
            result.counterexample = result.counterexample or instance
            raise Counterexample(instance, trial)

    test = given(falsifier.instances)(prop)
    for value in reversed(stored):  # the last one applied runs first
        test = example(json.loads(value))(test)
    test = settings(
        max_examples=examples,
        database=None,
        derandomize=False,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )(test)
    try:
        seeded(seed)(test)()
    except Counterexample as found:
        result.counterexample, result.trial = found.instance, found.trial
        name = canonical(found.instance).encode()
        result.from_store = name in stored
        store.save(key, name)
    except Exception:
        result.error = traceback.format_exc()
    for value in stored:
        trial = memo.get(value.decode())
        if trial is not None:
            result.replayed += 1
            if not trial.fails:
                store.delete(key, value)
    result.wall_time = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- shared helpers


def bound_function(
    expr: sympy.Expr, args: Sequence[sympy.Symbol], fixed: Mapping[sympy.Symbol, Any]
) -> Callable[..., float]:
    """``sympy.lambdify`` of the claim's own bound ``expr`` with ``fixed`` substituted, as a
    function of ``args``; ValueError if a symbol is left without a value."""
    reduced = expr.subs(fixed)
    left = reduced.free_symbols - set(args)
    if left:
        raise ValueError(f"bound {expr} leaves symbols without a value: {sorted(map(str, left))}")
    fn = sympy.lambdify(tuple(args), reduced, modules="math")
    return lambda *values: float(fn(*values))
