"""scb-verify: the theorems of *Learning and Transferring Sparse Contextual Bigrams with Linear
Transformers* (Ren, Wang, Lee; NeurIPS 2024) as executable, regression-tested claims.

Public API (see README.md)::

    from scb_verify import make_task, SCBTask, Population, Sampler, RunSpec, train, load_registry

    task = make_task(N=5, T=64, Q=2, seed=0)
    pop = Population.of(task)                       # exact loss and gradients (docs/reference.md
    §3)
    result = train(load_registry().algorithm("pppd"), [RunSpec(task, seed=0)])[0]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Public name → the module defining it. Imported on first use (PEP 562), so that importing a
#: submodule — the pytest plugin, which every pytest run in the environment loads — does not
#: import torch.
_EXPORTS = {
    **dict.fromkeys(("Milestone", "Params", "RunResult", "RunSpec"), "scb_verify.runs"),
    "Algorithm": "scb_verify.learner",
    **dict.fromkeys(("all_metrics", "correlation", "task_correlation"), "scb_verify.metrics"),
    "Population": "scb_verify.population",
    "load_registry": "scb_verify.registry",
    **dict.fromkeys(("Batch", "Sampler"), "scb_verify.sampler"),
    **dict.fromkeys(
        ("SCBTask", "TaskError", "bigram_task", "make_task", "related_task"), "scb_verify.task"
    ),
    "train": "scb_verify.training",
}

if TYPE_CHECKING:
    from scb_verify.learner import Algorithm
    from scb_verify.metrics import all_metrics, correlation, task_correlation
    from scb_verify.population import Population
    from scb_verify.registry import load_registry
    from scb_verify.runs import Milestone, Params, RunResult, RunSpec
    from scb_verify.sampler import Batch, Sampler
    from scb_verify.task import SCBTask, TaskError, bigram_task, make_task, related_task
    from scb_verify.training import train


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
    "Milestone",
    "Params",
    "Population",
    "RunResult",
    "RunSpec",
    "SCBTask",
    "Sampler",
    "TaskError",
    "__version__",
    "all_metrics",
    "bigram_task",
    "correlation",
    "load_registry",
    "make_task",
    "related_task",
    "task_correlation",
    "train",
]
