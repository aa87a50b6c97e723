"""The job cache: each training job's results on disk, so a rerun redoes only unfinished jobs.

A :class:`~scb_verify.claim.Job`'s results are a function of what it trains — the algorithm and
its code, each run's task (the arrays P and Q*), seed, batch, sample budget, initialization,
*resolved* settings, milestones and recording points — and of the engine that trains it.
:func:`job_key` hashes exactly that (SHA-256):

- the algorithm's registered name and the source of the package (folder) that defines it;
- every ``.py`` file of the ``scb_verify`` package (the engine: sampler, kernels, training loop,
  metrics…; any edit invalidates every entry) and the versions of Python, numpy, torch, numba;
- per run: the bytes of P and Q* (and of the initial parameters when finetuning), Q, the task's
  generation knobs, seed, batch, samples, the settings after :meth:`Algorithm.resolve_settings`,
  milestones, ``stop_at_milestones`` and ``record_points``.

An entry is one ``.npz`` file named by its key (written to a temporary file, then renamed):
the runs' final parameters as float64 arrays ``V0, A0, V1, …`` and a ``meta`` string holding
JSON (the key again and every other :class:`~scb_verify.runs.RunResult` field). Cache files
are data, read without pickle (``allow_pickle=False``) and validated field by field against the
job they answer; anything else — truncated, corrupt, another key, a wrong shape or type — is a
:class:`CacheError` the runner reports in one line before it recomputes the job.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import inspect
import io
import json
import os
import platform
import tempfile
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from scb_verify.algorithm import Algorithm
from scb_verify.claim import Job
from scb_verify.runs import Params, RunResult, RunSpec

#: Bumped when the entry format changes (old entries then simply miss).
FORMAT = 1

_JSON_FIELDS = {
    f.name: f.type for f in dataclasses.fields(RunResult) if f.name != "params"
}  # every RunResult field but the parameters


class CacheError(ValueError):
    """A cache entry that cannot be trusted (one line: the file and what is wrong)."""


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _array_digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return _digest(str(a.dtype).encode(), repr(a.shape).encode(), a.tobytes())


@functools.cache
def _source_digest(folder: str) -> str:
    files = sorted(Path(folder).rglob("*.py"))
    return _digest(*(p.relative_to(folder).as_posix().encode() + p.read_bytes() for p in files))


def _engine_folders() -> list[str]:
    """The folders of the core and of the built-in plugins and claims: one folder installed
    (``scb_verify/`` holds ``plugins/`` and ``claims/``), three in a checkout."""
    folders = {str(Path(__file__).parent)}
    for name in ("scb_verify.plugins", "scb_verify.claims"):
        spec = importlib.util.find_spec(name)
        folders.update(spec.submodule_search_locations or ())
    return sorted(folders)


@functools.cache
def engine_version() -> str:
    """Digest of the engine: every ``.py`` of the core and of the built-in plugins and claims
    (:func:`_engine_folders`), and the versions of the libraries that compute (Python, numpy,
    torch, numba)."""
    versions = [platform.python_version()]
    for name in ("numpy", "torch", "numba"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} -")
    sources = [_source_digest(folder).encode() for folder in _engine_folders()]
    return _digest(*sources, *map(str.encode, versions))


def algorithm_version(algorithm: Algorithm) -> str:
    """Digest of the source of every class ``algorithm`` is made of — its class and each base
    up to :class:`~scb_verify.algorithm.Algorithm`, each by the package (or lone module) that
    defines it — so a lab's subclass of a built-in, or of another lab's algorithm, gets a new
    key when any of them changes."""
    parts = []
    for cls in type(algorithm).__mro__:
        if cls.__module__ == "builtins":
            continue
        path = Path(inspect.getfile(cls)).resolve()
        folder = path.parent if "." in cls.__module__ else None
        parts.append(_source_digest(str(folder)) if folder else _digest(path.read_bytes()))
    return _digest(*map(str.encode, dict.fromkeys(parts)))


def _spec_key(algorithm: Algorithm, spec: RunSpec) -> dict[str, Any]:
    task = spec.task
    init = (
        spec.init
        if isinstance(spec.init, str)
        else {"V": _array_digest(spec.init.V), "A": _array_digest(spec.init.A)}
    )
    return {
        "P": _array_digest(task.P),
        "Qstar": _array_digest(task.Qstar),
        "Q": task.Q,
        "meta": task.meta,
        "seed": spec.seed,
        "batch": spec.batch,
        "samples": spec.samples,
        "init": init,
        "settings": algorithm.resolve_settings(spec.settings),
        "milestones": [[m.metric, m.level] for m in spec.milestones],
        "stop_at_milestones": spec.stop_at_milestones,
        "record_points": spec.record_points,
    }


def job_key(algorithm: Algorithm, job: Job) -> str:
    """The SHA-256 key of ``job`` trained by ``algorithm`` (see the module docstring)."""
    doc = {
        "format": FORMAT,
        "engine": engine_version(),
        "algorithm": [job.algorithm, algorithm_version(algorithm)],
        "runs": [_spec_key(algorithm, s) for s in job.specs],
    }
    return _digest(json.dumps(doc, sort_keys=True, default=repr).encode())


class JobCache:
    """Entries ``DIR/<key[:2]>/<key>.npz``. :meth:`lookup` counts ``hits``, ``misses`` and
    ``bad`` entries (each reported through ``warn``, one line, then recomputed)."""

    def __init__(self, root: str | Path, warn: Callable[[str], None] = print):
        self.root, self.warn = Path(root), warn
        self.hits = self.misses = self.bad = 0

    def lookup(self, algorithm: Algorithm, job: Job) -> tuple[str, list[RunResult] | None]:
        """``(key, results)``: the job's key and its cached results, or None to compute."""
        key = job_key(algorithm, job)
        try:
            results = self.get(key, job)
        except CacheError as e:
            self.bad += 1
            self.warn(f"{e}; recomputing the job")
            results = None
        if results is None:
            self.misses += 1
        else:
            self.hits += 1
        return key, results

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str, job: Job) -> list[RunResult] | None:
        """The cached results of ``job`` (None if absent); CacheError if the entry is bad."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return _decode(data, key, job)
        except CacheError as e:
            raise CacheError(f"job cache entry {path}: {e}") from None

    def put(self, key: str, results: list[RunResult]) -> None:
        """Store ``results`` under ``key`` atomically (temporary file, fsync, rename)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "key": key,
            "results": [{k: getattr(r, k) for k in _JSON_FIELDS} for r in results],
        }
        arrays = {}
        for i, r in enumerate(results):
            arrays[f"V{i}"], arrays[f"A{i}"] = r.params.V, r.params.A
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            self.warn(f"job cache: cannot write {path} ({e}); the job is not cached")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _decode(data: bytes, key: str, job: Job) -> list[RunResult]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise CacheError(f"not a readable .npz ({type(e).__name__}: {e})") from None
    meta_array = arrays.pop("meta", None)
    if meta_array is None or meta_array.dtype.kind != "U" or meta_array.shape != ():
        raise CacheError("no meta string")
    try:
        meta = json.loads(str(meta_array))
    except json.JSONDecodeError as e:
        raise CacheError(f"meta is not JSON ({e.msg})") from None
    if not isinstance(meta, dict) or meta.get("key") != key:
        raise CacheError("holds another key")
    records = meta.get("results")
    if not isinstance(records, list) or len(records) != len(job.specs):
        raise CacheError(f"holds {_count(records)} results for a job of {len(job.specs)} runs")
    if set(arrays) != {f"{p}{i}" for i in range(len(records)) for p in "VA"}:
        raise CacheError(f"unexpected arrays {sorted(arrays)}")
    out = []
    for i, (rec, spec) in enumerate(zip(records, job.specs, strict=True)):
        if not isinstance(rec, dict) or set(rec) != set(_JSON_FIELDS):
            raise CacheError(f"result {i} does not have the fields of a RunResult")
        N, T = spec.task.N, spec.task.T
        V, A = arrays[f"V{i}"], arrays[f"A{i}"]
        if V.dtype != np.float64 or A.dtype != np.float64 or V.shape != (N, N) or A.shape != (T, N):
            raise CacheError(f"result {i} has parameters of the wrong shape or type")
        _check_types(i, rec)
        out.append(RunResult(**rec, params=Params(V, A)))
    return out


def _check_types(i: int, rec: dict[str, Any]) -> None:
    kinds = {
        "algorithm": str,
        "settings": dict,
        "task": dict,
        "seed": int,
        "batch": int,
        "status": str,
        "samples": int,
        "steps": int,
        "final": dict,
        "milestones": dict,
        "trajectory": dict,
        "wall_time": (int, float),
        "stopped_early": bool,
        "read_truth": bool,
    }
    for name, kind in kinds.items():
        if name in rec and not isinstance(rec[name], kind):
            raise CacheError(f"result {i}: {name} is a {type(rec[name]).__name__}")
    if not all(isinstance(v, (int, float)) for v in rec["final"].values()):
        raise CacheError(f"result {i}: final metrics are not numbers")
    if not all(isinstance(v, list) for v in rec["trajectory"].values()):
        raise CacheError(f"result {i}: trajectory entries are not lists")


def _count(records: Any) -> int | str:
    return len(records) if isinstance(records, list) else "no"
