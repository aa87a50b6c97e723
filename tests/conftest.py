"""Shared configuration, fixtures and statistical helpers of the test suite.

Hypothesis runs derandomized (a fixed seed per test), without deadline and with few examples,
so the suite is deterministic and fast; ``HYPOTHESIS_PROFILE=thorough`` draws many more.
Torch and the compiled kernels run on one thread: every tensor here is tiny.

Statistical assertions use :func:`assert_within`: a Monte-Carlo quantity must lie within
z standard errors of its exact value, with z set by a Bonferroni correction so that the whole
family of comparisons in one assertion fails by chance with probability ≤ 1e-6.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

from scb_verify import kernels
from scb_verify.paths import CACHE_ENV
from scb_verify.registry import PLUGINS_ENV, load_registry
from scb_verify.sampler import Batch, Sampler
from scb_verify.task import SCBTask

settings.register_profile(
    "fast",
    derandomize=True,
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", settings.get_profile("fast"), max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
kernels.set_threads(1)
# A suite started in the background of a non-interactive shell (`cmd &`, nohup) inherits
# Ctrl-C ignored, and Python keeps it ignored: the tests of Ctrl-C handling, here and in the
# `check` processes they start, would then wait for a signal that never comes. They test what
# a terminal's Ctrl-C does, so the suite restores it (children inherit the default).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: Family-wise probability that one statistical assertion fails although the code is right.
ALPHA = 1e-6

#: The algorithms registered by scb-verify itself (test_registry checks this list is complete).
BUILTIN_ALGORITHMS = ("null", "population", "pppd", "sgd", "softmax")


# --------------------------------------------------------------------------- statistics


def z_bound(comparisons: int, alpha: float = ALPHA) -> float:
    """Two-sided normal quantile for ``comparisons`` simultaneous tests at family-wise level
    ``alpha`` (Bonferroni)."""
    return statistics.NormalDist().inv_cdf(1.0 - alpha / (2 * max(comparisons, 1)))


def assert_within(observed, expected, sd, what: str) -> None:
    """Every |observed − expected| ≤ z·sd (z from :func:`z_bound` over all entries), plus a
    float64 rounding slack of 1e-12 relative."""
    observed, expected, sd = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (observed, expected, sd))
    )
    z = z_bound(observed.size)
    slack = 1e-12 * (1.0 + np.abs(expected))
    dev = np.abs(observed - expected)
    bad = dev > z * sd + slack
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, dev - z * sd, -np.inf)), bad.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())}/{bad.size} entries beyond {z:.2f} sd; worst at {i}: "
            f"observed {observed[i]:.6g}, expected {expected[i]:.6g}, sd {sd[i]:.3g}"
        )


def mean_and_se(values: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the leading axis of i.i.d. replicates and its standard error (sample sd/√n)."""
    v = values.detach().cpu().numpy()
    return v.mean(0), v.std(0, ddof=1) / np.sqrt(v.shape[0])


def sample_batches(task: SCBTask, replicates: int, m: int, seed: int = 0) -> Batch:
    """``replicates`` independent batches of m samples of one task, stacked as runs."""
    sampler = Sampler([task] * replicates, [seed * replicates + r for r in range(replicates)])
    return sampler.sample(m)


def f64(a) -> torch.Tensor:
    """A float64 tensor copy of ``a``."""
    return torch.tensor(np.asarray(a), dtype=torch.float64)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def registry():
    """The registry of the built-in plugins only (SCB_VERIFY_PLUGINS ignored)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(PLUGINS_ENV, raising=False)
        return load_registry()


@pytest.fixture(autouse=True, scope="session")
def _cache_folder(tmp_path_factory):
    """Everything scb-verify writes by default (job cache, counterexample database) goes to a
    temporary folder for the whole session, never to the user's cache; subprocesses inherit
    it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("scb-verify-cache")))
        yield


@pytest.fixture
def cli(capsys):
    """Run ``scb-verify ARGS`` in-process: returns (exit code, stdout, stderr)."""
    from scb_verify.cli import main  # imported here: a broken CLI fails only its own tests

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch):
    """Write a plugin module into tmp_path (importable in-process and, through PYTHONPATH, by
    subprocesses); returns its unique module name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    path = [str(tmp_path), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in path if p))
    names = []

    def write(source: str) -> str:
        name = f"scb_test_plugin_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(source)
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)
