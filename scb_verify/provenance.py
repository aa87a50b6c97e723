"""Reproducibility records (docs/reference.md §7): versions, commit, config hashes, atomic JSON
writes."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import secrets
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("scb-verify", "numpy", "torch", "sympy", "pluggy", "hypothesis")


def git_commit() -> str | None:
    """The commit of the source checkout scb_verify runs from, or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def versions() -> dict[str, str | None]:
    """Installed versions of scb-verify and its main dependencies."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance() -> dict[str, Any]:
    """What every results file records about the software that produced it."""
    return {"versions": versions(), "commit": git_commit(), "machine": platform.machine()}


def config_hash(config: Any) -> str:
    """Short SHA-256 of a JSON-serializable configuration (keys sorted)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


#: The path that means standard output (``--json -``).
STDOUT = "-"


def replaceable(path: str | Path) -> bool:
    """True when :func:`write_atomic` replaces ``path`` as a whole (a regular file, or a path
    that does not exist yet), so it can be rewritten as results accumulate; False for ``-`` and
    for devices, pipes and sockets, where every write would follow the previous one."""
    if str(path) == STDOUT:
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True


def write_json_atomic(path: str | Path, doc: Any) -> None:
    """Write ``doc`` as JSON to ``path`` (:func:`write_atomic`)."""
    write_atomic(path, json.dumps(doc, indent=1, default=_jsonable) + "\n")


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` so that a reader never sees a torn file.

    ``-`` is standard output. A regular file, or a path that does not exist yet (missing
    folders are created), is written to a temporary file next to it and renamed over it; a
    symbolic link is followed, so the file it points to is replaced and the link stays. Any
    other file that exists — a device such as ``/dev/stdout``, a pipe, a socket — is opened and
    written directly: nothing is renamed or replaced. A new file gets the mode the umask leaves
    of 0666; a replaced file keeps its mode.
    """
    blob = data.encode("utf-8") if isinstance(data, str) else data
    if str(path) == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(blob)
        sys.stdout.buffer.flush()
        return
    if not replaceable(path):
        with open(path, "wb") as f:
            f.write(blob)
        return
    path = Path(path)
    try:
        mode: int | None = os.stat(path).st_mode  # follows links
    except FileNotFoundError:
        mode = None
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(mode))
            f.write(blob)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON-serializable: {type(obj).__name__}")
