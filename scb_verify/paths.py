"""Where scb-verify keeps what it writes by default: one per-user cache folder.

``$SCB_VERIFY_CACHE_DIR`` if set, else the platform's user cache folder for ``scb-verify``
(platformdirs: ``~/.cache/scb-verify`` on Linux). The job cache (``check --cache``) and the
counterexample database (``falsify --db``) live below it, so a command run from any folder
writes nothing there; the options override each.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that moves the whole cache folder (tests point it at a temp dir).
CACHE_ENV = "SCB_VERIFY_CACHE_DIR"


def cache_root() -> Path:
    """The per-user cache folder of scb-verify."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    import platformdirs

    return Path(platformdirs.user_cache_dir("scb-verify"))


def job_cache() -> Path:
    """The default job cache of ``check``."""
    return cache_root() / "job-cache"


def falsify_db() -> Path:
    """The default counterexample database of ``falsify``."""
    return cache_root() / "hypothesis-db"
