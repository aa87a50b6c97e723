"""Schema-valid results files built from the real check library and the records' own builder
(no training), for the report and diff tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from scb_verify.checks import scaling_check, threshold_check
from scb_verify.provenance import write_json_atomic
from scb_verify.records import ClaimRun
from scb_verify.schema import results_document
from scb_verify.verdict import CheckResult

T = sympy.Symbol("T", positive=True)
C, kappa = sympy.symbols("C kappa", positive=True)
BOUND = C * T**kappa
GRID_T = [32, 64, 128, 256]


def scaling(
    slope: float, *, predicted=(0.0, math.inf), seeds: int = 8, noise: float = 0.05, seed: int = 0
) -> CheckResult:
    """A scaling check on y = 100·T^slope with log-normal noise across seeds."""
    rng = np.random.default_rng(seed)
    y = (
        100.0
        * np.array(GRID_T, float)[:, None] ** slope
        * np.exp(noise * rng.standard_normal((len(GRID_T), seeds)))
    )
    return scaling_check(GRID_T, y, predicted, design="paired", expr=BOUND)


def passing() -> CheckResult:
    """A threshold check that holds."""
    return threshold_check([0.1, 0.2, 0.15], 1.0, direction="<=")


def failing() -> CheckResult:
    """A threshold check that is violated."""
    return threshold_check([2.0, 2.1, 1.9], 1.0, direction="<=")


def claim(
    claim_id: str,
    checks: list[CheckResult],
    *,
    control: bool = False,
    algorithm: str | None = "pppd",
    artifacts: dict[str, Any] | None = None,
    error: str | None = None,
) -> ClaimRun:
    """A claim record as the runner builds it, with a description like Claim.describe()."""
    description = {
        "id": claim_id,
        "title": f"synthetic claim {claim_id}",
        "paper": "S0",
        "statement": f"statement of {claim_id}",
        "algorithm": algorithm,
        "control": "a control that must be violated",
        "bounds": {"samples": {"sympy": sympy.sstr(BOUND), "latex": sympy.latex(BOUND)}},
        "grids": {"smoke": {"T": GRID_T, "batch": 16, "seeds": 8, "rho1": 0.6}},
    }
    facts = {
        "seeds": [0, 1, 2],
        "samples": 1000,
        "runs": 3,
        "wall_time": 0.5,
        "config_hash": "0123456789abcdef",
        "trained": [algorithm] if algorithm else [],
    }
    if error is not None:
        return ClaimRun.failed(
            id=claim_id,
            control=control,
            algorithm=algorithm,
            error=error,
            description=description,
            **facts,
        )
    return ClaimRun.from_outcome(
        id=claim_id,
        control=control,
        algorithm=algorithm,
        description=description,
        checks=checks,
        measurements={"values": list(range(20)), "nested": {"a": 1.23456789}},
        artifacts=artifacts or {},
        **facts,
    )


def write(path: Path, *reports: ClaimRun, control: bool = False, budget: str = "smoke") -> Path:
    """Write a results file of ``reports``; returns its path."""
    write_json_atomic(
        path,
        results_document(reports, budget=budget, algorithm=None, control=control, wall_time=1.0),
    )
    return path
