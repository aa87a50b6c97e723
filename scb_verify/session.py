"""The run policy that ``scb-verify check`` and the pytest plugin share (docs/reference.md §7).

One home for: the deadlines of a budget (:data:`DEADLINES`), which claims a run selects and in
what order (:func:`select_claims`), which of them it skips and why (:func:`skipped`), that a
run with nothing to run is a usage error (:func:`check_runnable`), how many workers it may
start (:func:`worker_count`), which executor runs the jobs (:func:`make_executor`), which
baseline it is gated against (:func:`load_baseline`: a file, or the one shipped for its budget),
whether that baseline fits the run (:func:`check_baseline`) and the gate against it
(:func:`gate`). Each front end only turns a :class:`SessionError` into its own kind of usage
error (a one-line exit 2, or ``pytest.UsageError``).
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scb_verify.cost import available_memory
from scb_verify.records import Results, claim_order, run_key

if TYPE_CHECKING:
    from scb_verify.claim import Claim
    from scb_verify.diff import Change
    from scb_verify.registry import Registry


@dataclass(frozen=True)
class Deadlines:
    """Wall-clock limits in seconds: per claim (from the start of the run, not counting the
    time all its jobs wait in the executor's queue behind other claims' jobs) and per job
    (from the moment it starts running)."""

    claim: float
    job: float


#: Default limits per budget (``check --timeout`` / ``--job-timeout`` override them): about ten
#: times the longest claim and job measured at that budget on 2 cores.
DEADLINES: dict[str, Deadlines] = {
    "smoke": Deadlines(claim=600.0, job=300.0),
    "ci": Deadlines(claim=3600.0, job=1200.0),
    "full": Deadlines(claim=8 * 3600.0, job=3 * 3600.0),
}

#: The most workers a run starts per core: jobs are CPU-bound, so more only contend.
WORKERS_PER_CORE = 1
#: The memory a local worker is given room for: 320 MiB resident measured with torch, the
#: compiled kernels and the built-in algorithms loaded (2026-12-05), plus a ci job's arrays.
WORKER_BYTES = 512 * 2**20


class SessionError(ValueError):
    """A run that cannot start as asked: one line, nothing was run."""


def cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def select_claims(registry: Registry, ids: Sequence[str]) -> list[Claim]:
    """The claims named by ``ids`` in the order given (each found as
    :meth:`~scb_verify.registry.Registry.claim` finds it: case-insensitive, with "did you mean"),
    or every registered claim in :func:`~scb_verify.records.claim_order`. A claim named twice is
    an error."""
    try:
        claims = [registry.claim(c) for c in ids]
    except KeyError as e:
        raise SessionError(e.args[0]) from None
    seen: set[str] = set()
    for claim in claims:
        if claim.id in seen:
            raise SessionError(f"claim {claim.id} named twice; name each claim once")
        seen.add(claim.id)
    return claims or [registry.claims[c] for c in sorted(registry.claims, key=claim_order)]


class Subject(Protocol):
    """What :func:`skipped` reads of a claim — a :class:`~scb_verify.claim.Claim`, or the
    :class:`~scb_verify.records.ClaimRun` a baseline recorded of it."""

    @property
    def id(self) -> str: ...
    @property
    def algorithm(self) -> str | None: ...
    @property
    def substitutable(self) -> bool: ...


def skipped(
    claims: Sequence[Subject], algorithm: str | None, *, option: str = "--algorithm"
) -> dict[str, str]:
    """claim id → why the run leaves it out: under a substitute ``algorithm``, the claims that
    train nothing (there is nothing to substitute in them) and the claims about one particular
    model (``substitutable`` false: another algorithm's verdict would be reported under their
    statement). ``option`` names the option in the reason."""
    if algorithm is None:
        return {}
    out = {}
    for c in claims:
        if c.algorithm is None:
            out[c.id] = f"{c.id} trains nothing: not run with {option} {algorithm}"
        elif not c.substitutable and c.algorithm != algorithm:
            out[c.id] = (
                f"{c.id} is a claim about the {c.algorithm} model: not run with "
                f"{option} {algorithm}"
            )
    return out


def skipped_in_sweep(
    claims: Sequence[Subject], configurations: Sequence[Configuration]
) -> dict[str, str]:
    """run key → why, for a sweep of several ``configurations``: each configuration whose
    algorithm is not the one a claim about a particular model is about (``substitutable``
    false; :func:`scb_verify.runner.plan` leaves those runs out). A claim that trains nothing
    is not skipped in a sweep: it runs once per family."""
    out = {}
    for config in configurations:
        for c in claims:
            other = config.algorithm not in (None, c.algorithm)
            if c.algorithm is not None and not c.substitutable and other:
                out[run_key(c.id, configuration=config.label)] = (
                    f"{c.id} is a claim about the {c.algorithm} model: not run with {config.label}"
                )
    return out


def excluded(claims: Sequence[Claim], families: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """run key → why: the (claim, family) pairs a sweep leaves out because the claim's
    statement excludes the family (:meth:`scb_verify.claim.Claim.excludes`)."""
    out = {}
    for family in families:
        for claim in claims:
            why = claim.excludes(family) if family else None
            if why is not None:
                out[run_key(claim.id, family=family)] = f"{claim.id}: {why}"
    return out


def check_runnable(claims: Sequence[Claim], algorithm: str | None) -> None:
    """SessionError when the selection runs no claim: a run that checks nothing is not a
    success (its message says why each claim was left out)."""
    left_out = skipped(claims, algorithm)
    if len(left_out) == len(claims):
        reasons = "; ".join(left_out.values()) or "no claim is registered"
        raise SessionError(f"nothing to run: {reasons}")


@dataclass(frozen=True)
class Workers:
    """How many workers a run starts, and the note that says why when it is fewer than asked."""

    count: int
    note: str = ""


def worker_count(asked: int, *, executor: str, memory: int | None = None) -> Workers:
    """``asked`` workers, capped for the ``local`` executor at the cores this process may use
    (:data:`WORKERS_PER_CORE` each) and at what the available memory holds (``memory`` bytes,
    default :func:`scb_verify.cost.available_memory`; :data:`WORKER_BYTES` a worker): more
    workers than cores only contend, more than the memory holds swap or get killed, and a
    thousand spawned interpreters can take a machine down. Other executors (a cluster) get what
    was asked."""
    if asked < 1:
        raise SessionError(f"--jobs must be a positive integer, got {asked}")
    if executor != "local":
        return Workers(asked)
    cap, why = cores() * WORKERS_PER_CORE, "the cores this machine has"
    memory = available_memory() if memory is None else memory
    if memory is not None and memory // WORKER_BYTES < cap:
        cap = max(1, memory // WORKER_BYTES)
        why = (
            f"what its available memory ({memory / 2**30:.1f} GiB) holds at "
            f"{WORKER_BYTES // 2**20} MiB a worker"
        )
    if asked <= cap:
        return Workers(asked)
    return Workers(cap, f"--jobs {asked} capped at {cap}, {why}")


def make_executor(
    registry: Registry, name: str, jobs: int, address: str | None = None, device: str = "cpu"
) -> cf.Executor:
    """The executor ``name`` with ``jobs`` workers; with ``address`` (Ray only) the cluster to
    use, exported as ``RAY_ADDRESS`` for Ray to read when it connects. A ``device`` other than
    the CPU (local executor only) trains every job there, in one worker process that owns it
    (:func:`scb_verify.device_executor.device_executor`, ``jobs`` its CPU threads)."""
    if device != "cpu":
        if name != "local":
            raise SessionError(f"a device is for the local executor, not {name!r}")
        from scb_verify.device_executor import DeviceUnavailable, device_executor

        try:
            return device_executor(jobs, device)
        except DeviceUnavailable as e:
            raise SessionError(str(e)) from None
    factories = registry.executors
    if name not in factories:
        raise SessionError(f"unknown executor {name!r}; available: {', '.join(sorted(factories))}")
    if address is not None:
        if name != "ray":
            raise SessionError(f"an address is for the ray executor, not {name!r}")
        os.environ["RAY_ADDRESS"] = address
    try:
        return factories[name].create(jobs)
    except ImportError as e:
        raise SessionError(f"executor {name!r} cannot start: {e}") from None


#: The ``--baseline`` value (``check --baseline`` without FILE, ``pytest
#: --scb-baseline=shipped``) that means the baseline shipped with the package for the run's
#: budget (``scb_verify.baselines``, the repository's ``baselines/``).
SHIPPED = "shipped"
#: The package whose data files are the shipped baselines, ``<budget>.json``.
BASELINES = "scb_verify.baselines"


def shipped_baselines() -> dict[str, str]:
    """budget → file name of every baseline shipped with the package."""
    files = resources.files(BASELINES).iterdir()
    return {p.name.removesuffix(".json"): p.name for p in files if p.name.endswith(".json")}


def load_baseline(path: str | Path, budget: str) -> tuple[Results, str]:
    """(the baseline, how to name it): the results file at ``path``, or for :data:`SHIPPED` the
    baseline shipped for ``budget`` (read through importlib.resources, so from a checkout and a
    wheel alike; a file named ``shipped`` is ``./shipped``). SessionError when none is shipped
    for that budget; a bad file raises :class:`~scb_verify.schema.ResultsError`."""
    from scb_verify.schema import load_results

    if str(path) != SHIPPED:
        return load_results(Path(path)), str(path)
    shipped = shipped_baselines()
    if budget not in shipped:
        raise SessionError(
            f"no baseline is shipped for budget {budget!r} (shipped: "
            f"{', '.join(sorted(shipped)) or 'none'}); give a results file"
        )
    with resources.as_file(resources.files(BASELINES) / shipped[budget]) as file:
        return load_results(file), f"the shipped {budget} baseline"


def time_estimate(
    claim_ids: Sequence[str], baseline: Results, workers: int
) -> tuple[float, str] | None:
    """(seconds, how it was estimated) for runs of ``claim_ids`` (one entry per claim run, so a
    claim swept over k configurations appears k times) at the pace of ``baseline``: each claim's
    share of that run's wall time (its own wall time over the sum of its claims', as claims
    overlap in the executor) summed over the runs, times the baseline's wall time, times its
    workers over ``workers``. A guide, not a bound: another reading of the algorithm or another
    family can take longer (a slower learner reaches its targets later, up to the budget's
    caps). None when the baseline does not record its workers or lacks one of the claims."""
    walls = {run.id: run.wall_time for run in baseline.claims if not run.control}
    total = sum(walls.values())
    if not baseline.workers or total <= 0 or any(c not in walls for c in claim_ids):
        return None
    share = sum(walls[c] for c in claim_ids) / total
    seconds = baseline.wall_time * share * baseline.workers / max(1, workers)
    how = (
        f"at the pace of the shipped {baseline.budget} baseline ({len(walls)} claims in "
        f"{baseline.wall_time:.0f} s on {baseline.workers} workers)"
    )
    return seconds, how


def check_baseline(baseline: Results, *, budget: str, control: bool, where: str) -> None:
    """SessionError unless ``baseline`` was recorded at ``budget`` and holds the same kind of
    runs (claims or negative controls); ``where`` names the file in the message."""
    if baseline.budget != budget:
        raise SessionError(
            f"{where}: recorded at budget {baseline.budget!r}, this run is at {budget!r}; "
            "give a baseline of the same budget"
        )
    if baseline.controls != control:
        kinds = ("claims", "negative controls")
        raise SessionError(
            f"{where}: holds {kinds[baseline.controls]}, this run runs {kinds[control]}"
        )


def gate(
    baseline: Results,
    selected: Sequence[Claim],
    new: Results,
    *,
    algorithm: str | None,
    tolerance: float = 0.0,
) -> list[Change]:
    """The changes from ``baseline`` to ``new`` (:func:`scb_verify.diff.compare`, exponents
    with ``tolerance``), the baseline cut to the claims this run ``selected`` (a claim not
    selected is not missing; one selected but left out under ``algorithm`` is reported as
    skipped, with :func:`skipped`'s reason)."""
    from scb_verify.diff import compare

    ran = {c.id for c in selected}
    cut = Results(
        claims=[r for r in baseline.claims if r.id in ran],
        budget=baseline.budget,
        algorithm=baseline.algorithm,
        controls=baseline.controls,
    )
    return compare(cut, new, tolerance=tolerance, skipped=skipped(selected, algorithm))


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class Configuration:
    """One reading of the algorithm under test: a registered ``algorithm`` (None: each claim's
    own) and ``settings`` overriding its defaults and the claim's choices (text, as given;
    typed by the algorithm). ``label`` names it in results and the verdict matrix."""

    algorithm: str | None = None
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        name = self.algorithm or "own"
        if not self.settings:
            return name
        return f"{name}[" + ",".join(f"{k}={v}" for k, v in self.settings) + "]"


def parse_configurations(
    algorithms: Sequence[str], settings: Sequence[tuple[str, str]] = ()
) -> list[Configuration]:
    """The configurations of ``--algorithm`` texts (none: each claim's own), each ``NAME`` or
    ``NAME[KEY=V1,V2;KEY2=V3]`` (benchopt-like: every combination of the listed values), with
    the ``--set`` pairs on top of each. SessionError for a text that is not of this form or a
    key given twice."""
    base = dict(settings)
    if len(base) != len(settings):
        twice = next(k for k, _ in settings if [p[0] for p in settings].count(k) > 1)
        raise SessionError(f"--set {twice} given twice; give it once")
    out: list[Configuration] = []
    for text in algorithms or [None]:
        name, grid = _algorithm_text(text) if text is not None else (None, {})
        clash = sorted(set(grid) & set(base))
        if clash:
            raise SessionError(f"{clash[0]} is set by both --set and --algorithm {text!r}")
        for values in itertools.product(*grid.values()):
            chosen = {**base, **dict(zip(grid, values, strict=True))}
            config = Configuration(name, tuple(sorted(chosen.items())))
            if config in out:
                raise SessionError(f"configuration {config.label} given twice")
            out.append(config)
    return out


def _algorithm_text(text: str) -> tuple[str, dict[str, list[str]]]:
    """``NAME[KEY=V1,V2;KEY2=V3]`` → (NAME, {KEY: [V1, V2], KEY2: [V3]})."""
    name, bracket, rest = text.partition("[")
    name = name.strip()
    if not name or (bracket and not rest.endswith("]")):
        raise SessionError(f"--algorithm {text!r}: expected NAME or NAME[KEY=V1,V2;KEY2=V3]")
    grid: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in rest[:-1].split(";"))) if bracket else ():
        key, sep, values = part.partition("=")
        key = key.strip()
        choices = [v.strip() for v in values.split(",")]
        if not sep or not key or not all(choices):
            raise SessionError(
                f"--algorithm {text!r}: expected KEY=V1,V2 in brackets, got {part!r}"
            )
        if key in grid:
            raise SessionError(f"--algorithm {text!r}: {key} given twice")
        grid[key] = choices
    return name, grid


def check_settings(
    registry: Registry, claims: Sequence[Claim], configurations: Sequence[Configuration]
) -> None:
    """Every configuration's settings typed and validated against the algorithm each claim
    that trains would run with them (as ``train --set`` is): SessionError names the claim, the
    algorithm and the allowed keys."""
    from scb_verify.algorithm import SettingsError

    for config in configurations:
        if config.algorithm is not None:
            try:
                registry.algorithm(config.algorithm)
            except KeyError as e:
                raise SessionError(e.args[0]) from None
        for claim in claims:
            name = config.algorithm or claim.algorithm
            if name is None or not config.settings:
                continue
            try:
                registry.algorithm(name).resolve_settings(
                    {**claim.settings_for(name), **dict(config.settings)}
                )
            except SettingsError as e:
                raise SessionError(f"{claim.id} ({config.label}): {e}") from None
