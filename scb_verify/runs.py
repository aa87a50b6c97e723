"""The run vocabulary (docs/reference.md §4, §5): what a run records and how its metrics read.
Light: no torch, no numba (results are read and reported without the engine)."""

from __future__ import annotations

#: Metric name → True when larger is better (used by milestones and reports).
HIGHER_IS_BETTER = {
    "correlation": True,
    "support_recovery": True,
    "dist_V": False,
    "dist_A": False,
    "excess_risk": False,
}
