"""The results file (``scb-verify check --json``): schema version 5, its writer and its reader.

The one module that turns the typed records of a run (:mod:`scb_verify.records`) into the file
and back: :func:`document` writes a :class:`~scb_verify.records.Results`, :func:`load_results`
reads one. Light by contract: imports json, numpy and the records only — never torch, numba or a
claim — so ``diff``, ``report`` and the pytest plugin read results without starting the engine.

A file is a JSON object: ``schema`` (:data:`SCHEMA`), ``schema_version``, ``created``, the
provenance (``versions``, ``commit``, ``machine``, ``workers``: the worker processes that ran
the jobs, 0 where not recorded; added in version 4 without a version move, as an optional
field), ``budget``, ``algorithm`` (the algorithm
substituted by ``--algorithm``, or null), ``controls``, ``wall_time``, ``complete`` (false
while ``check`` is still running: the claims finished so far), ``skipped`` (run key → why, for
the claim runs left out on purpose; version 4) and ``claims``: one entry per
claim run with ``id``, ``control``, ``algorithm``, ``status``, ``description``, ``checks``,
``measurements``, ``artifacts``, ``seeds``, ``samples``, ``runs``, ``wall_time``,
``config_hash``, ``error``, ``truth_readers`` (the reference algorithms among its runs that
received the ground truth; absent in version 1), ``trained`` (every algorithm its jobs trained),
``settings`` (the algorithm settings the run overrode, ``check --set``), ``family`` (the
instance family, ``check --family``), ``configuration`` (its name in a sweep) — these four
absent before version 4 — and ``nonfinite``.

Version 5 (this writer): as version 4, with the verdict ``unreached`` (docs/reference.md §7:
the claim's target not reached within the budget by the typical seed of any cell) as a claim's
and a check's ``status``; a file of an earlier version that says ``unreached`` is refused
(:data:`STATUS_SINCE`).

Version 4 (read, upgraded with no change of data): as version 3, with ``trained``,
``settings``, ``family`` and ``configuration``; measurements are the claim's own data.

Version 3 (read). Each check is data (:meth:`scb_verify.verdict.CheckResult.to_dict`):
``label`` (unique within its claim: how files are compared), ``kind``, ``quantity``, ``axis``,
``predicted`` (``{lo, hi, lo_closed, hi_closed}`` or null), ``status``, ``summary`` (prose for
people, never parsed), ``evidence`` and ``nonfinite``. The file is strict JSON: a non-finite
number is ``null``, and the ``nonfinite`` map beside it (per check, and per claim entry for the
rest of the entry) gives, for its JSON Pointer, the reason ``"nan"``, ``"inf"`` or ``"-inf"``.
The algorithm under test is ``algorithm`` in each claim entry and in its description.

Version 2 (read, upgraded in memory). As version 3, but a claim entry and its description called
the algorithm under test ``learner``; :func:`load_results` renames them (a claim's measurements
stay as it wrote them).

Version 1 (read, upgraded in memory). Named as version 2; a check had only ``kind``,
``status``, ``summary`` and ``evidence``; a claim's label for it was written as the prefix
``"label: "`` of its summary, and the file could hold NaN tokens. :func:`load_results` upgrades
such a file once, here: the label is the text before the check kind's fixed summary opening
(:data:`V1_SUMMARY_OPENINGS`), the predicted range comes from the evidence, and NaN become null
with their reason.

Reading validates first (:func:`validate`): every field the tables :data:`DOCUMENT`,
:data:`CLAIM`, :data:`DESCRIPTION`, :data:`CHECK` (:data:`CHECK_V1`), :data:`RANGE` and
:data:`SCALING_EVIDENCE` name must have its JSON type (required ones must be present); the
error names the field by its path (``claims[1].checks[0].evidence.slope``) and what it may be.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from scb_verify.jsondata import to_json
from scb_verify.provenance import provenance
from scb_verify.records import ClaimRun, Results
from scb_verify.verdict import KIND_QUANTITY, Range, Status

SCHEMA = "scb-verify/results"
SCHEMA_VERSION = 5
#: Versions :func:`load_results` reads (older ones are upgraded to the current layout).
READABLE_VERSIONS = (1, 2, 3, 4, 5)
#: Each verdict added after version 1, with the version that added it.
STATUS_SINCE = {Status.UNREACHED.value: 5}

Budget = Literal["smoke", "ci", "full"]
BUDGETS: tuple[Budget, ...] = ("smoke", "ci", "full")


class ResultsError(ValueError):
    """A file that is not a readable results file."""


# --------------------------------------------------------------------------- writing


def claim_entry(run: ClaimRun) -> dict[str, Any]:
    """One entry of ``claims``: the run in strict JSON with its ``nonfinite`` reasons."""
    record = run.to_dict()
    entry, nonfinite = to_json(
        {k: v for k, v in record.items() if k != "nonfinite"}, "claim", int_keys=True
    )
    entry["nonfinite"] = {**record["nonfinite"], **nonfinite}
    return entry


def document(results: Results) -> dict[str, Any]:
    """The versioned results file of ``results`` (``schema``/``schema_version`` first), strict
    JSON; an upgraded file is written in the current version."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created": results.created,
        "versions": results.versions,
        "commit": results.commit,
        "machine": results.machine,
        "workers": results.workers,
        "budget": results.budget,
        "algorithm": results.algorithm,
        "controls": results.controls,
        "wall_time": results.wall_time,
        "complete": results.complete,
        "skipped": results.skipped,
        "claims": [claim_entry(r) for r in results.claims],
    }


def new_results(
    runs: Iterable[ClaimRun],
    *,
    budget: str,
    algorithm: str | None,
    control: bool,
    wall_time: float,
    complete: bool = True,
    skipped: Mapping[str, str] | None = None,
    workers: int = 0,
) -> Results:
    """The results of a run made now, on this machine (its provenance and time); ``skipped``:
    the claim runs left out on purpose (run key → why); ``workers`` the worker processes that
    ran its jobs (0: not recorded)."""
    facts = provenance()
    return Results(
        claims=list(runs),
        budget=budget,
        algorithm=algorithm,
        controls=control,
        wall_time=wall_time,
        complete=complete,
        skipped=dict(skipped or {}),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        commit=facts.get("commit"),
        machine=facts.get("machine", ""),
        workers=workers,
        versions=facts.get("versions", {}),
    )


def results_document(runs: Iterable[ClaimRun], **run: Any) -> dict[str, Any]:
    """:func:`document` of :func:`new_results` (the arguments are :func:`new_results`'s).
    ``complete`` is false in the copies ``check`` writes while it runs (the claims finished so
    far)."""
    return document(new_results(runs, **run))


# --------------------------------------------------------------------------- reading

#: A field's allowed JSON types (among :data:`_KINDS`) and whether it must be present.
Field = tuple[tuple[str, ...], bool]


def _field(*kinds: str, required: bool = False) -> Field:
    return kinds, required


_STATUSES = frozenset(s.value for s in Status)
#: Name of each JSON type a field may take → (its test, how a message says it).
_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "number": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "a number",
    ),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "null": (lambda v: v is None, "null"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "status": (
        lambda v: isinstance(v, str) and v in _STATUSES,
        "one of " + ", ".join(sorted(_STATUSES)),
    ),
    "interval": (
        lambda v: (
            isinstance(v, list)
            and len(v) == 2
            and all(x is None or _KINDS["number"][0](x) for x in v)
        ),
        "a [low, high] pair of numbers (null for ±inf)",
    ),
}

#: The results document (what :func:`document` writes).
DOCUMENT: dict[str, Field] = {
    "schema": _field("string", required=True),
    "schema_version": _field("integer", required=True),
    "created": _field("string"),
    "versions": _field("object"),
    "commit": _field("string", "null"),
    "machine": _field("string"),
    "workers": _field("integer"),
    "budget": _field("string"),
    "algorithm": _field("string", "null"),
    "controls": _field("bool"),
    "wall_time": _field("number"),
    "complete": _field("bool"),
    "skipped": _field("object"),
    "claims": _field("list", required=True),
}
#: One entry of ``claims`` (:class:`scb_verify.records.ClaimRun`).
CLAIM: dict[str, Field] = {
    "id": _field("string", required=True),
    "control": _field("bool", required=True),
    "status": _field("status", required=True),
    "checks": _field("list", required=True),
    "algorithm": _field("string", "null"),
    "description": _field("object"),
    "measurements": _field("object"),
    "artifacts": _field("object"),
    "seeds": _field("list"),
    "samples": _field("number"),
    "runs": _field("integer"),
    "wall_time": _field("number"),
    "config_hash": _field("string"),
    "error": _field("string", "null"),
    "truth_readers": _field("list"),
    "trained": _field("list"),
    "settings": _field("object"),
    "family": _field("object"),
    "configuration": _field("string"),
    "nonfinite": _field("object"),
}
#: A claim's ``description`` (:meth:`scb_verify.claim.Claim.describe`).
DESCRIPTION: dict[str, Field] = {
    "id": _field("string"),
    "title": _field("string"),
    "paper": _field("string"),
    "statement": _field("string"),
    "algorithm": _field("string", "null"),
    "control": _field("string"),
    "bounds": _field("object"),
    "grids": _field("object"),
}
#: A claim entry and its description before version 3 (the algorithm called ``learner``).
CLAIM_V2 = {("learner" if k == "algorithm" else k): v for k, v in CLAIM.items()}
DESCRIPTION_V2 = {("learner" if k == "algorithm" else k): v for k, v in DESCRIPTION.items()}
#: One bound of ``description.bounds``.
BOUND: dict[str, Field] = {"sympy": _field("string"), "latex": _field("string")}
#: One entry of a claim's ``checks`` in version 1.
CHECK_V1: dict[str, Field] = {
    "kind": _field("string", required=True),
    "status": _field("status", required=True),
    "summary": _field("string", required=True),
    "evidence": _field("object", required=True),
}
#: One entry of a claim's ``checks`` (:meth:`scb_verify.verdict.CheckResult.to_dict`).
CHECK: dict[str, Field] = {
    **CHECK_V1,
    "label": _field("string"),
    "quantity": _field("string"),
    "axis": _field("string", "null"),
    "predicted": _field("object", "null"),
    "nonfinite": _field("object"),
}
#: A check's ``predicted`` range (:meth:`scb_verify.verdict.Range.to_dict`).
RANGE: dict[str, Field] = {
    "lo": _field("number", "null"),
    "hi": _field("number", "null"),
    "lo_closed": _field("bool"),
    "hi_closed": _field("bool"),
}
#: The evidence fields of a ``scaling`` check that reports and diffs read (``predicted`` only
#: in version 1).
SCALING_EVIDENCE: dict[str, Field] = {
    "slope": _field("number", "null"),
    "ci": _field("interval", "null"),
    "predicted": _field("interval", "null"),
}


def validate(doc: Any) -> None:
    """Check a parsed results document of a readable version against the schema (the tables
    above); raise :class:`ResultsError` naming the first field that is missing or of the wrong
    type, e.g. ``claims[1].checks[0].evidence.slope``, and what it may be. Unknown fields are
    allowed."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ResultsError(f"not an scb-verify results file (no schema {SCHEMA!r})")
    version = doc.get("schema_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ResultsError(
            f"results schema version {version!r}; this scb-verify reads versions "
            + ", ".join(map(str, READABLE_VERSIONS))
        )
    check_fields = CHECK_V1 if version == 1 else CHECK
    claim_fields, description_fields = (
        (CLAIM, DESCRIPTION) if version >= 3 else (CLAIM_V2, DESCRIPTION_V2)
    )
    _check_fields(doc, DOCUMENT, "")
    for i, claim in enumerate(doc["claims"]):
        where = f"claims[{i}]"
        _check_fields(claim, claim_fields, where)
        _check_status(claim["status"], version, where)
        description = claim.get("description", {})
        _check_fields(description, description_fields, f"{where}.description")
        for name, bound in description.get("bounds", {}).items():
            _check_fields(bound, BOUND, f"{where}.description.bounds.{name}")
        for j, check in enumerate(claim["checks"]):
            _check_fields(check, check_fields, f"{where}.checks[{j}]")
            _check_status(check["status"], version, f"{where}.checks[{j}]")
            if check.get("predicted") is not None:
                _check_fields(check["predicted"], RANGE, f"{where}.checks[{j}].predicted")
            if check["kind"] == "scaling":
                _check_fields(check["evidence"], SCALING_EVIDENCE, f"{where}.checks[{j}].evidence")


def _check_status(status: str, version: int, where: str) -> None:
    """ResultsError when ``status`` is a verdict added after ``version`` (:data:`STATUS_SINCE`)."""
    since = STATUS_SINCE.get(status, 1)
    if version < since:
        raise ResultsError(
            f"{where}.status: {status!r} is a verdict of schema version {since} and later; "
            f"this file says version {version}"
        )


def _check_fields(value: Any, fields: dict[str, Field], where: str) -> None:
    if not isinstance(value, dict):
        raise ResultsError(f"{where or 'the document'} must be an object, got {_brief(value)}")
    for name, (kinds, required) in fields.items():
        path = f"{where}.{name}" if where else name
        if name not in value:
            if required:
                raise ResultsError(f"{path} is missing")
            continue
        if not any(_KINDS[k][0](value[name]) for k in kinds):
            allowed = " or ".join(_KINDS[k][1] for k in kinds)
            raise ResultsError(f"{path} must be {allowed}, got {_brief(value[name])}")


def _brief(value: Any) -> str:
    text = json.dumps(value, allow_nan=True, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def load_results(path: str | Path) -> Results:
    """The results file at ``path`` as typed records, checked against the schema and upgraded
    from an older version (:attr:`Results.upgraded_from` says which); ResultsError (one line,
    naming the file) for anything else."""
    doc = read_document(path)
    try:
        return Results.from_document(doc)
    except ValueError as e:  # two checks of a claim with one label
        raise ResultsError(f"{path}: {e}") from None


def read_document(path: str | Path) -> dict[str, Any]:
    """The parsed results file at ``path``, validated and upgraded to the current version's
    layout (an upgraded document says ``"upgraded_from": <its version>``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read it ({e})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise ResultsError(f"{path}: not JSON this reader can parse (nested too deeply)") from None
    try:
        validate(doc)
    except ResultsError as e:
        raise ResultsError(f"{path}: {e}") from None
    version, claims = doc["schema_version"], doc["claims"]
    for i, claim in enumerate(claims):
        if version == 1:
            claims[i] = _upgrade_v1_claim(claim)
        if version < 3:
            _rename_algorithm(claims[i])
    if version != SCHEMA_VERSION:
        doc["schema_version"], doc["upgraded_from"] = SCHEMA_VERSION, version
    return doc


def _rename_algorithm(claim: dict[str, Any]) -> None:
    """A claim entry before version 3, in place: ``learner`` → ``algorithm`` in the entry and
    its description. Measurements are the claim's own data and stay as it wrote them."""
    for record in (claim, claim.get("description", {})):
        if "learner" in record and "algorithm" not in record:
            record["algorithm"] = record.pop("learner")


#: How each built-in check kind's version-1 summary opens (what followed ``"label: "``).
V1_SUMMARY_OPENINGS = {
    "scaling": ("slope ", "grid point x=", "only "),
    "threshold": ("mean ",),
    "bound": ("C = ",),
}


def _v1_openings(check: Mapping[str, Any]) -> tuple[str, ...]:
    evidence = check.get("evidence") or {}
    names = evidence.get("labels") or []
    if check["kind"] == "ordering" and names:
        return (f"{names[0]} mean ",)
    if check["kind"] == "bound":
        return V1_SUMMARY_OPENINGS["bound"] + tuple(f"{name} has " for name in names)
    return V1_SUMMARY_OPENINGS.get(check["kind"], ())


def _v1_label(check: Mapping[str, Any]) -> tuple[str, str]:
    """(label, summary without it) of a version-1 check ("" if it had none)."""
    summary = check.get("summary", "")
    for opening in _v1_openings(check):
        if summary.startswith(opening):
            return "", summary
        at = summary.find(f": {opening}")
        if at > 0:
            return summary[:at], summary[at + 2 :]
    return "", summary


def _v1_predicted(check: Mapping[str, Any]) -> Range | None:
    evidence, kind = check.get("evidence") or {}, check["kind"]
    if kind == "scaling" and evidence.get("predicted") is not None:
        lo, hi = evidence["predicted"]
        return Range(-math.inf if lo is None else lo, math.inf if hi is None else hi)
    if kind == "threshold" and "threshold" in evidence:
        t = evidence["threshold"]
        return Range(lo=t) if evidence.get("direction") == ">=" else Range(hi=t)
    return {
        "ordering": Range(0.0, lo_closed=False),
        "bound": Range(hi=1.0),
        "reach": Range(0, 0),
    }.get(kind)


def _upgrade_v1_claim(claim: dict[str, Any]) -> dict[str, Any]:
    checks = []
    for check in claim["checks"]:
        label, summary = _v1_label(check)
        predicted = _v1_predicted(check)
        evidence, nonfinite = to_json(check.get("evidence") or {})
        checks.append(
            {
                "label": label,
                "kind": check["kind"],
                "quantity": KIND_QUANTITY.get(check["kind"], ""),
                "axis": None,
                "predicted": None if predicted is None else predicted.to_dict(),
                "status": check["status"],
                "summary": summary,
                "evidence": evidence,
                "nonfinite": {f"/evidence{p}": r for p, r in nonfinite.items()},
            }
        )
    entry, nonfinite = to_json(
        {k: v for k, v in claim.items() if k not in ("checks", "nonfinite")}, "claim", int_keys=True
    )
    return {**entry, "checks": checks, "nonfinite": {**claim.get("nonfinite", {}), **nonfinite}}
