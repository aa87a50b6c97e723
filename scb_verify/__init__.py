"""scb-verify: the theorems of *Learning and Transferring Sparse Contextual Bigrams with Linear
Transformers* (Ren, Wang, Lee; NeurIPS 2024) as executable, regression-tested claims.

The public API is this package's namespace, as ``pytest`` is for pytest plugins: the engine
(tasks, exact population, sampler, training) and everything a plugin uses — the claim contract
(``Claim``, ``Grid``, ``Job``, ``ClaimOutcome``), ``hookimpl``, the checks, the run vocabulary
and the helpers the built-in claims are written with (docs/plugin-guide.md)::

    from scb_verify import make_task, Population, RunSpec, train, load_registry

    task = make_task(N=5, T=64, Q=2, seed=0)
    pop = Population.of(task)  # exact loss and gradients (docs/reference.md §3)
    result = train(load_registry().algorithm("pppd"), [RunSpec(task, seed=0)])[0]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Public name → the module defining it. Imported on first use (PEP 562), so that importing a
#: submodule — the pytest plugin, which every pytest run in the environment loads — does not
#: import torch.
_EXPORTS = {
    "Algorithm": "scb_verify.algorithm",
    **dict.fromkeys(
        (
            "CellOutcome",
            "batch_grid",
            "censoring_check",
            "scaling_over_cells",
            "seeded_cell",
            "smallest_batch_search",
        ),
        "scb_verify.batch_rule",
    ),
    **dict.fromkeys(("log_growth_range", "predicted_range"), "scb_verify.bounds"),
    **dict.fromkeys(
        (
            "bound_check",
            "local_exponent",
            "ordering_check",
            "power_vs_exponential",
            "scaling_check",
            "threshold_check",
        ),
        "scb_verify.checks",
    ),
    **dict.fromkeys(
        ("Claim", "ClaimContext", "ClaimOutcome", "Grid", "GridError", "Job"), "scb_verify.claim"
    ),
    **dict.fromkeys(("final_value", "median_curves"), "scb_verify.claimkit"),
    **dict.fromkeys(("FamilyError", "family_label"), "scb_verify.family"),
    **dict.fromkeys(("ExecutorFactory", "hookimpl"), "scb_verify.hookspecs"),
    **dict.fromkeys(("all_metrics", "correlation", "task_correlation"), "scb_verify.metrics"),
    "Population": "scb_verify.population",
    "load_registry": "scb_verify.registry",
    **dict.fromkeys(
        ("Init", "Milestone", "Params", "RunResult", "RunSpec", "runs_per_seed"), "scb_verify.runs"
    ),
    **dict.fromkeys(("Batch", "Sampler"), "scb_verify.sampler"),
    **dict.fromkeys(
        (
            "SCBTask",
            "TaskError",
            "bigram_task",
            "make_task",
            "related_task",
            "task_from_spec",
            "uninformative_task",
        ),
        "scb_verify.task",
    ),
    **dict.fromkeys(("FigureMaker", "Plot", "new_figure"), "scb_verify.report.plot"),
    "train": "scb_verify.training",
    **dict.fromkeys(("CheckResult", "Range", "Status"), "scb_verify.verdict"),
}

if TYPE_CHECKING:
    from scb_verify.algorithm import Algorithm
    from scb_verify.batch_rule import (
        CellOutcome,
        batch_grid,
        censoring_check,
        scaling_over_cells,
        seeded_cell,
        smallest_batch_search,
    )
    from scb_verify.bounds import log_growth_range, predicted_range
    from scb_verify.checks import (
        bound_check,
        local_exponent,
        ordering_check,
        power_vs_exponential,
        scaling_check,
        threshold_check,
    )
    from scb_verify.claim import Claim, ClaimContext, ClaimOutcome, Grid, GridError, Job
    from scb_verify.claimkit import final_value, median_curves
    from scb_verify.family import FamilyError, family_label
    from scb_verify.hookspecs import ExecutorFactory, hookimpl
    from scb_verify.metrics import all_metrics, correlation, task_correlation
    from scb_verify.population import Population
    from scb_verify.registry import load_registry
    from scb_verify.report.plot import FigureMaker, Plot, new_figure
    from scb_verify.runs import Init, Milestone, Params, RunResult, RunSpec, runs_per_seed
    from scb_verify.sampler import Batch, Sampler
    from scb_verify.task import (
        SCBTask,
        TaskError,
        bigram_task,
        make_task,
        related_task,
        task_from_spec,
        uninformative_task,
    )
    from scb_verify.training import train
    from scb_verify.verdict import CheckResult, Range, Status


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scb_verify' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__version__ = "0.1.0"

__all__ = [
    "Algorithm",
    "Batch",
    "CellOutcome",
    "CheckResult",
    "Claim",
    "ClaimContext",
    "ClaimOutcome",
    "ExecutorFactory",
    "FamilyError",
    "FigureMaker",
    "Grid",
    "GridError",
    "Init",
    "Job",
    "Milestone",
    "Params",
    "Plot",
    "Population",
    "Range",
    "RunResult",
    "RunSpec",
    "SCBTask",
    "Sampler",
    "Status",
    "TaskError",
    "__version__",
    "all_metrics",
    "batch_grid",
    "bigram_task",
    "bound_check",
    "censoring_check",
    "correlation",
    "family_label",
    "final_value",
    "hookimpl",
    "load_registry",
    "local_exponent",
    "log_growth_range",
    "make_task",
    "median_curves",
    "new_figure",
    "ordering_check",
    "power_vs_exponential",
    "predicted_range",
    "related_task",
    "runs_per_seed",
    "scaling_check",
    "scaling_over_cells",
    "seeded_cell",
    "smallest_batch_search",
    "task_correlation",
    "task_from_spec",
    "threshold_check",
    "train",
    "uninformative_task",
]
