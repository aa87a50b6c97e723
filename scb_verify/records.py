"""The records of a run, typed, with the rules that belong to them (docs/reference.md §7).

A claim run (:class:`ClaimRun`) holds its checks (:class:`CheckRecord`), each scaling check its
fit (:class:`ScalingFit`), and a results file is a :class:`Results`. Everything that reads a
run — the verdict table, the gate (:mod:`scb_verify.diff`), the report, the pytest plugin —
reads these types, never the JSON by string key; :mod:`scb_verify.schema` is the one module that
turns them into the results file and back.

The rules kept here, each in one place:

- the good verdicts (:func:`good_statuses`, :func:`is_good`): holds for a claim; violated or
  unreached for its negative control (its checks must fail);
- how a claim run is named across files (:attr:`ClaimRun.key`) and the order claims are listed
  in (:func:`claim_order`);
- the exit codes of a run (:data:`EXIT_CODES`, :func:`exit_code`);
- the one builder of a claim record from a claim's outcome (:meth:`ClaimRun.from_outcome`),
  used by the runner and by ``falsify``: it labels the checks, combines their verdicts and
  converts the measurements and artifacts to strict JSON, so an outcome that cannot be written
  is refused where it is made (:class:`OutcomeError`), inside the claim's own error boundary.

Light: imports numpy (through :mod:`scb_verify.jsondata`) and the verdict vocabulary only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scb_verify.family import family_label
from scb_verify.jsondata import to_json
from scb_verify.verdict import KIND_QUANTITY, CheckResult, Range, Status, combine_statuses

__all__ = [
    "EXIT_CODES",
    "EXIT_ERRORED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VIOLATED",
    "GOOD_STATUSES",
    "CheckRecord",
    "ClaimRun",
    "OutcomeError",
    "Results",
    "ScalingFit",
    "claim_order",
    "exit_code",
    "good_statuses",
    "is_good",
    "label_checks",
    "run_key",
]

EXIT_OK, EXIT_VIOLATED, EXIT_USAGE, EXIT_ERRORED = 0, 1, 2, 3

#: What each exit code of ``check`` (and of the other commands) means.
EXIT_CODES = {
    EXIT_OK: "nothing violated, unreached or errored",
    EXIT_VIOLATED: "a claim violated or unreached (--strict: or inconclusive; --controls: a "
    "control neither violated nor unreached); diff: a regression",
    EXIT_USAGE: "usage error (bad argument or input, or nothing to run; nothing was written)",
    EXIT_ERRORED: "a claim errored (raised, crashed or timed out)",
}

#: JSON integers other languages read exactly: a measurement beyond this is refused.
LARGEST_INTEGER = 2**63 - 1


class OutcomeError(TypeError):
    """A claim's outcome that cannot be a results-file record, naming the field and its type."""


#: The good verdicts (docs/reference.md §7.6–7.7), claim first, then negative control: a claim
#: must hold; a control must make its checks fail — violated, or unreached (the controls of
#: C3–C5 are tasks without signal whose target is never reached).
GOOD_STATUSES: dict[bool, tuple[Status, ...]] = {
    False: (Status.HOLDS,),
    True: (Status.VIOLATED, Status.UNREACHED),
}


def good_statuses(control: bool) -> tuple[Status, ...]:
    """The good verdicts of a claim run (:data:`GOOD_STATUSES`): the one home of the rule that
    the exit code, the verdict tables, the gate and the pytest plugin read."""
    return GOOD_STATUSES[bool(control)]


def is_good(status: Status, control: bool) -> bool:
    """Whether ``status`` is a good verdict for a claim (``control`` false) or a negative
    control (:func:`good_statuses`)."""
    return status in good_statuses(control)


def claim_order(claim_id: str) -> tuple[int, str]:
    """Sort key of claim ids: by the number in the id (``C2`` before ``C10``), then by name."""
    digits = "".join(ch for ch in claim_id if ch.isdigit())
    return (int(digits) if digits else 10**9, claim_id)


def run_key(
    claim_id: str,
    *,
    configuration: str = "",
    family: Mapping[str, Any] | None = None,
    control: bool = False,
) -> str:
    """How a claim run is named across files, and so what the gate pairs: the claim id, then
    ``[configuration]`` and ``{family}`` when the run has them, ``(control)`` for a negative
    control — ``C4``, ``C4 [pppd[variant=simplex]] {concentration=5} (control)``."""
    parts = [claim_id]
    if configuration:
        parts.append(f"[{configuration}]")
    if family:
        parts.append("{" + family_label(family) + "}")
    if control:
        parts.append("(control)")
    return " ".join(parts)


def label_checks(checks: Sequence[CheckRecord]) -> list[CheckRecord]:
    """The checks of one claim with every label set: an empty label becomes ``"<kind> #i"``
    (the i-th unlabelled check of that kind, from 1). ValueError if two checks share a label
    (files compare checks by label, so a claim's labels must be unique)."""
    counts: dict[str, int] = {}
    out, seen = [], set()
    for check in checks:
        if not check.label:
            counts[check.kind] = counts.get(check.kind, 0) + 1
            check = dataclasses.replace(check, label=f"{check.kind} #{counts[check.kind]}")
        if check.label in seen:
            raise ValueError(f"two checks are labelled {check.label!r}; labels must be unique")
        seen.add(check.label)
        out.append(check)
    return out


@dataclass(frozen=True)
class ScalingFit:
    """A scaling check's fitted exponent: its label, swept axis (None if the file does not
    say), the per-point statistic it fitted (``quantity``), slope, CI and predicted range.

    What the regression gate needs to recover the slope's noise (docs/reference.md §7.8), as
    :func:`scb_verify.checks.scaling_check` stores it: the ``design`` (``"paired"`` or
    ``"independent"``; None where the file does not say, e.g. version 1), the grid ``x`` and
    the values ``y`` fitted (one row per point), the seed of each column of a paired design
    (``seeds``; None where not recorded), and how many entries were ``censored``."""

    label: str
    axis: str | None
    quantity: str
    slope: float
    ci: tuple[float, float]
    predicted: Range
    design: str | None = None
    x: tuple[float, ...] = ()
    y: tuple[tuple[float, ...], ...] = ()
    seeds: tuple[int, ...] | None = None
    censored: int = 0


@dataclass(frozen=True)
class CheckRecord:
    """One check of a claim run as the results file holds it (:meth:`CheckResult.to_dict`):
    ``evidence`` is strict JSON (non-finite numbers null, their reasons in ``nonfinite``)."""

    label: str
    kind: str
    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    quantity: str = ""
    axis: str | None = None
    predicted: Range | None = None
    nonfinite: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: CheckResult) -> CheckRecord:
        """The record of a check a claim returned."""
        return cls.from_dict(result.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckRecord:
        """From a validated results-file check (:mod:`scb_verify.schema`)."""
        predicted = data.get("predicted")
        return cls(
            label=data.get("label") or "",
            kind=data["kind"],
            status=Status(data["status"]),
            summary=data.get("summary", ""),
            evidence=dict(data.get("evidence") or {}),
            quantity=data.get("quantity") or KIND_QUANTITY.get(data["kind"], ""),
            axis=data.get("axis"),
            predicted=None if predicted is None else Range.from_dict(predicted),
            nonfinite=dict(data.get("nonfinite") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The results-file form (the layout of :meth:`CheckResult.to_dict`)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = self.status.value
        data["predicted"] = None if self.predicted is None else self.predicted.to_dict()
        return data

    @property
    def headline(self) -> str:
        """``"label: summary"``: the check as one line for people."""
        return f"{self.label}: {self.summary}"

    @property
    def fit(self) -> ScalingFit | None:
        """The fitted exponent of a scaling check that got as far as a slope, else None."""
        ev = self.evidence
        if self.kind != "scaling" or ev.get("slope") is None or ev.get("ci") is None:
            return None
        lo, hi = ev["ci"]
        design, x, y = ev.get("design"), _numbers(ev.get("x")), ev.get("y")
        rows = tuple(_numbers(row) for row in y) if isinstance(y, list) else ()
        usable = (
            len(x) == len(rows) >= 3
            and all(len(row) >= 2 for row in rows)
            and min(x + sum(rows, ())) > 0
            and (design != "paired" or len({len(row) for row in rows}) == 1)
        )
        if design not in ("paired", "independent") or not usable:
            design, x, rows = None, (), ()
        seeds = ev.get("seeds")
        if not (isinstance(seeds, list) and design == "paired" and len(seeds) == len(rows[0])):
            seeds = None
        censored = ev.get("censored") or {}
        return ScalingFit(
            label=self.label,
            axis=self.axis,
            quantity=self.quantity,
            slope=float(ev["slope"]),
            ci=(-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi)),
            predicted=self.predicted or Range(),
            design=design,
            x=x,
            y=rows,
            seeds=None if seeds is None else tuple(int(s) for s in seeds),
            censored=sum(int(n) for side in ("right", "left") for n in censored.get(side, [])),
        )


@dataclass
class ClaimRun:
    """The record of one claim run: one entry of the results file's ``claims`` list.

    ``algorithm`` is the algorithm under test (the claim's own or the ``--algorithm``
    substitute), ``settings`` the settings of it the run overrode (``check --set``), ``family``
    the instance family its instances came from (``check --family``; empty: the defaults),
    ``configuration`` how a sweep names its configuration (``pppd[variant=simplex]``; outside a
    sweep, the settings it overrode; "" for the plain run);
    ``trained`` every algorithm its jobs actually trained (a control may train
    another, e.g. ``null``); ``truth_readers`` the reference algorithms among them, which
    received the ground truth (:attr:`scb_verify.algorithm.Algorithm.reference`)."""

    id: str
    control: bool
    algorithm: str | None
    status: Status
    description: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckRecord] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    samples: int = 0
    runs: int = 0
    wall_time: float = 0.0
    config_hash: str = ""
    error: str | None = None
    truth_readers: list[str] = field(default_factory=list)
    trained: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    family: dict[str, Any] = field(default_factory=dict)
    configuration: str = ""
    nonfinite: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ the rules

    @property
    def key(self) -> str:
        """How a claim run is named across files (:func:`run_key`)."""
        return run_key(
            self.id, configuration=self.configuration, family=self.family, control=self.control
        )

    @property
    def good(self) -> bool:
        """Whether the run came out as it should (:func:`is_good`): a claim holds, a control is
        violated or unreached."""
        return is_good(self.status, self.control)

    @property
    def title(self) -> str:
        return str(self.description.get("title", ""))

    @property
    def paper(self) -> str:
        """Where the paper states the claim (e.g. ``"S3"``), or ""."""
        return str(self.description.get("paper") or "")

    @property
    def statement(self) -> str:
        """The claim's statement in words, or ""."""
        return str(self.description.get("statement") or "")

    @property
    def control_statement(self) -> str:
        """What the claim's negative control runs, in words, or ""."""
        return str(self.description.get("control") or "")

    @property
    def bounds(self) -> dict[str, dict[str, str]]:
        """The claim's bounds: name → ``{"sympy": text, "latex": text}``."""
        return dict(self.description.get("bounds") or {})

    def grid(self, budget: str) -> dict[str, Any]:
        """The claim's parameters at ``budget`` (empty if its description has none)."""
        return dict((self.description.get("grids") or {}).get(budget) or {})

    @property
    def substitutable(self) -> bool:
        """Whether ``--algorithm`` may substitute the claim's algorithm (False for a claim about
        one particular model, :attr:`scb_verify.claim.Claim.substitutable`; True where the
        description does not say)."""
        return self.description.get("substitutable", True) is not False

    @property
    def error_line(self) -> str:
        """The last line of the error (the exception or the reason), or ""."""
        lines = (self.error or "").strip().splitlines()
        return lines[-1] if lines else ""

    def fits(self) -> dict[str, ScalingFit]:
        """label → fit, for the scaling checks that got as far as a slope, in check order."""
        return {c.label: fit for c in self.checks if (fit := c.fit) is not None}

    def check(self, label: str) -> CheckRecord | None:
        """The check labelled ``label``, or None."""
        return next((c for c in self.checks if c.label == label), None)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_outcome(
        cls,
        *,
        id: str,
        control: bool,
        algorithm: str | None,
        description: Mapping[str, Any],
        checks: Iterable[CheckResult | CheckRecord],
        measurements: Mapping[str, Any] | None = None,
        artifacts: Mapping[str, Any] | None = None,
        **facts: Any,
    ) -> ClaimRun:
        """The record of a claim whose measurement returned: its checks labelled
        (:func:`label_checks`), its status combined from theirs (:func:`~scb_verify.verdict.
        combine_statuses`), measurements and artifacts as strict JSON. ``facts`` are the other
        fields (seeds, samples, runs, wall_time, config_hash, trained, truth_readers).
        :class:`OutcomeError` names the first field that is not JSON data (an ``object()``, a
        set, a circular reference, a key that is not a string, an integer beyond 64 bits) —
        raised here, where the runner records it as the claim's own error."""
        records = label_checks(
            [c if isinstance(c, CheckRecord) else CheckRecord.from_result(c) for c in checks]
        )
        nonfinite: dict[str, str] = {}
        data = {}
        for name, value in (("measurements", measurements), ("artifacts", artifacts)):
            plain, reasons = _strict_json(value or {}, name)
            data[name] = plain
            nonfinite |= {f"/{name}{p}": r for p, r in reasons.items()}
        return cls(
            id=id,
            control=control,
            algorithm=algorithm,
            status=combine_statuses(c.status for c in records),
            description=dict(description),
            checks=records,
            nonfinite=nonfinite,
            **data,
            **facts,
        )

    @classmethod
    def failed(
        cls,
        *,
        id: str,
        control: bool,
        algorithm: str | None,
        error: str,
        description: Mapping[str, Any] | None = None,
        **facts: Any,
    ) -> ClaimRun:
        """The record of a claim that errored: no checks, ``error`` saying why."""
        return cls(
            id=id,
            control=control,
            algorithm=algorithm,
            status=Status.ERROR,
            description=dict(description or {"id": id}),
            error=error,
            **facts,
        )

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The results-file entry (strict JSON but for ``nonfinite``'s reasons beside it)."""
        return {
            "id": self.id,
            "control": self.control,
            "algorithm": self.algorithm,
            "status": self.status.value,
            "description": self.description,
            "checks": [c.to_dict() for c in self.checks],
            "measurements": self.measurements,
            "artifacts": self.artifacts,
            "seeds": self.seeds,
            "samples": self.samples,
            "runs": self.runs,
            "wall_time": self.wall_time,
            "config_hash": self.config_hash,
            "error": self.error,
            "truth_readers": self.truth_readers,
            "trained": self.trained,
            "settings": self.settings,
            "family": self.family,
            "configuration": self.configuration,
            "nonfinite": self.nonfinite,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimRun:
        """From a validated, upgraded results-file entry (:mod:`scb_verify.schema`)."""
        return cls(
            id=data["id"],
            control=bool(data["control"]),
            algorithm=data.get("algorithm"),
            status=Status(data["status"]),
            description=dict(data.get("description") or {}),
            checks=label_checks([CheckRecord.from_dict(c) for c in data["checks"]]),
            measurements=dict(data.get("measurements") or {}),
            artifacts=dict(data.get("artifacts") or {}),
            seeds=list(data.get("seeds") or []),
            samples=data.get("samples") or 0,
            runs=data.get("runs") or 0,
            wall_time=float(data.get("wall_time") or 0.0),
            config_hash=data.get("config_hash") or "",
            error=data.get("error"),
            truth_readers=list(data.get("truth_readers") or []),
            trained=list(data.get("trained") or []),
            settings=dict(data.get("settings") or {}),
            family=dict(data.get("family") or {}),
            configuration=data.get("configuration") or "",
            nonfinite=dict(data.get("nonfinite") or {}),
        )


@dataclass
class Results:
    """A results file (``check --json``): how it was run, and its claim runs in order.

    ``algorithm`` is the substitute of ``--algorithm`` (None: each claim's own); ``complete``
    is false in the copies ``check`` writes while it runs; ``skipped`` the claim runs it left
    out on purpose (run key → why: a claim that trains nothing under a substituted algorithm, a
    family a claim's statement excludes); ``workers`` the worker processes that ran its jobs
    (0: not recorded); ``upgraded_from`` the schema version the file was written in when it was
    older than this reader's."""

    claims: list[ClaimRun]
    budget: str = ""
    algorithm: str | None = None
    controls: bool = False
    wall_time: float = 0.0
    complete: bool = True
    created: str = ""
    commit: str | None = None
    machine: str = ""
    workers: int = 0
    versions: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    upgraded_from: int | None = None

    def by_key(self) -> dict[str, ClaimRun]:
        """:attr:`ClaimRun.key` → run."""
        return {run.key: run for run in self.claims}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Results:
        """From a validated, upgraded results document (:func:`scb_verify.schema.load_results`)."""
        return cls(
            claims=[ClaimRun.from_dict(c) for c in doc["claims"]],
            budget=doc.get("budget") or "",
            algorithm=doc.get("algorithm"),
            controls=bool(doc.get("controls")),
            wall_time=float(doc.get("wall_time") or 0.0),
            complete=bool(doc.get("complete", True)),
            created=doc.get("created") or "",
            commit=doc.get("commit"),
            machine=doc.get("machine") or "",
            workers=int(doc.get("workers") or 0),
            versions=dict(doc.get("versions") or {}),
            skipped=dict(doc.get("skipped") or {}),
            upgraded_from=doc.get("upgraded_from"),
        )


def exit_code(runs: Sequence[ClaimRun], *, strict: bool = False) -> int:
    """:data:`EXIT_CODES`: 3 if a run errored, else 1 if a run is not good (:func:`is_good`: a
    claim violated or unreached, a control neither violated nor unreached; with ``strict`` a
    claim inconclusive too), else 0. An inconclusive claim is no verdict, so without ``strict``
    it does not fail; an unreached one does — its learner did not reach the claim's target
    within the budget asked for (docs/reference.md §7.6)."""
    if any(r.status is Status.ERROR for r in runs):
        return EXIT_ERRORED
    for r in runs:
        if r.good:
            continue
        if r.control or r.status is not Status.INCONCLUSIVE or strict:
            return EXIT_VIOLATED
    return EXIT_OK


def _numbers(values: Any) -> tuple[float, ...]:
    """``values`` as a tuple of floats when it is a list of numbers (no null), else ()."""
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        return ()
    return tuple(float(v) for v in values)


def _strict_json(value: Any, name: str) -> tuple[Any, dict[str, str]]:
    """:func:`scb_verify.jsondata.to_json` of a claim's outcome field, every failure an
    :class:`OutcomeError` naming the field: a type JSON has not, a circular reference, an
    integer beyond 64 bits."""
    try:
        plain, nonfinite = to_json(value, name, int_keys=True)
    except RecursionError:
        raise OutcomeError(f"{name} refers to itself (a circular reference)") from None
    except TypeError as e:
        raise OutcomeError(str(e)) from None
    big = _big_integer(plain, name)
    if big is not None:
        raise OutcomeError(f"{big} is an integer beyond 64 bits; store it as a float or a string")
    return plain, nonfinite


def _big_integer(value: Any, at: str) -> str | None:
    """The path of the first integer in ``value`` outside ±(2^63 − 1), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return at if abs(value) > LARGEST_INTEGER else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = _big_integer(item, f"{at}/{key}")
        if found is not None:
            return found
    return None
