"""``sgd``: plain minibatch SGD baseline (docs/reference.md §5.2).

Same (V, A) parametrization, initialization and constraint 1ᵀa_k = 1 (kept by a mean shift after
each step); no preconditioning, no ℓ1:

    V ← V − lr·G_V,   A ← A − lr·G_A,   a_k ← a_k − (1ᵀa_k − 1)/T · 1
"""

from __future__ import annotations

from typing import Any

from scb_verify.algorithm import Algorithm, State, check_positive
from scb_verify.gradients import minibatch_gradients
from scb_verify.hookspecs import hookimpl
from scb_verify.runs import RunSpec
from scb_verify.sampler import Batch


class SGD(Algorithm):
    name = "sgd"
    summary = "unregularized minibatch SGD on the MSE, same parametrization (baseline)"
    defaults = {"lr": 0.5}

    def check_settings(self, settings: dict[str, Any]) -> None:
        check_positive(self.name, settings, "lr")

    def init_state(self, V, A, spec: RunSpec, settings, truth) -> State:
        return {"V": V.clone(), "A": A.clone()}

    def step(self, state: State, batch: Batch | None, t: int, settings: dict[str, Any]) -> None:
        g = minibatch_gradients(state["V"], state["A"], batch)
        lr = settings["lr"]
        A = state["A"] - lr * g.A
        state["V"] = state["V"] - lr * g.V
        state["A"] = A - (A.sum(-2, keepdim=True) - 1.0) / A.shape[-2]


@hookimpl
def register_algorithms():
    return [SGD()]
