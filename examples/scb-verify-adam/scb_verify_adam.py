"""``adam``: Adam on the MSE in the (V, A) parametrization — an example scb-verify plugin.

The same objective, initialization and constraint as the ``sgd`` baseline (docs/reference.md §5.2):
closed-form minibatch gradients of ℓ = ½‖e_o − V X a_k‖², no preconditioning, no ℓ1. The
update is Adam's (bias-corrected moments, per coordinate), after which every column of A is
shifted back onto 1ᵀa_k = 1 (Adam's per-coordinate scaling would otherwise move the sums).
"""

from __future__ import annotations

from typing import Any

import torch

from scb_verify.algorithm import Algorithm, SettingsError, State, check_positive
from scb_verify.gradients import minibatch_gradients
from scb_verify.hookspecs import hookimpl
from scb_verify.runs import RunSpec
from scb_verify.sampler import Batch


class Adam(Algorithm):
    name = "adam"
    summary = "Adam on the MSE in (V, A), 1ᵀa_k = 1 by mean shift (example plugin)"
    defaults = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}

    def check_settings(self, settings: dict[str, Any]) -> None:
        check_positive(self.name, settings, "lr", "eps")
        for key in ("beta1", "beta2"):
            if not 0.0 <= settings[key] < 1.0:
                raise SettingsError(f"adam: setting {key!r} must lie in [0, 1)")

    def init_state(self, V, A, spec: RunSpec, settings, truth) -> State:
        # Every tensor has the run axis first: the loop stacks R runs and drops finished ones.
        state = {"V": V.clone(), "A": A.clone()}
        for key in ("V", "A"):
            state["m" + key] = torch.zeros_like(state[key])  # first moment
            state["v" + key] = torch.zeros_like(state[key])  # second moment
        return state

    def step(self, state: State, batch: Batch | None, t: int, settings: dict[str, Any]) -> None:
        g = minibatch_gradients(state["V"], state["A"], batch)
        b1, b2 = settings["beta1"], settings["beta2"]
        for key, grad in (("V", g.V), ("A", g.A)):
            state["m" + key] = b1 * state["m" + key] + (1 - b1) * grad
            state["v" + key] = b2 * state["v" + key] + (1 - b2) * grad**2
            m_hat = state["m" + key] / (1 - b1**t)
            v_hat = state["v" + key] / (1 - b2**t)
            state[key] = state[key] - settings["lr"] * m_hat / (v_hat.sqrt() + settings["eps"])
        A = state["A"]
        state["A"] = A - (A.sum(-2, keepdim=True) - 1.0) / A.shape[-2]


@hookimpl
def register_algorithms():
    return [Adam()]
