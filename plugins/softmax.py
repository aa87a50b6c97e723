"""``softmax``: the softmax one-layer transformer (docs/reference.md §5.3).

a_k = softmax(W[:, k]) over positions, prediction V X a_k, trained by autograd on the MSE or the
cross-entropy of the logits V X a_k, with Adam (bias-corrected) or SGD. W starts at log A of the
initialization (uniform A → W = 0).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from scb_verify.algorithm import Algorithm, SettingsError, State, check_positive
from scb_verify.hookspecs import hookimpl
from scb_verify.models import predict
from scb_verify.runs import RunSpec
from scb_verify.sampler import Batch


class Softmax(Algorithm):
    name = "softmax"
    summary = "softmax transformer a_k = softmax(W[:, k]) trained by Adam/SGD on MSE or CE"
    defaults = {"optimizer": "adam", "loss": "mse", "lr": 0.01, "beta1": 0.9, "beta2": 0.999}

    def check_settings(self, settings: dict[str, Any]) -> None:
        if settings["optimizer"] not in ("adam", "sgd"):
            raise SettingsError("softmax: optimizer must be 'adam' or 'sgd'")
        if settings["loss"] not in ("mse", "ce"):
            raise SettingsError("softmax: loss must be 'mse' or 'ce'")
        check_positive(self.name, settings, "lr")

    def init_state(self, V, A, spec: RunSpec, settings, truth) -> State:
        W = torch.log(A.clamp_min(1e-6))
        W = W - W.mean(-2, keepdim=True)
        z = torch.zeros_like
        return {"V": V.clone(), "W": W, "mV": z(V), "vV": z(V), "mW": z(W), "vW": z(W)}

    def step(self, state: State, batch: Batch | None, t: int, settings: dict[str, Any]) -> None:
        V = state["V"].detach().requires_grad_(True)
        W = state["W"].detach().requires_grad_(True)
        with torch.enable_grad():
            out = predict(V, torch.softmax(W, dim=-2), batch.x, batch.k)
            if settings["loss"] == "mse":
                target = F.one_hot(batch.o, out.shape[-1]).to(out.dtype)
                loss = 0.5 * ((out - target) ** 2).sum(-1).mean(-1)
            else:
                loss = F.cross_entropy(out.transpose(1, 2), batch.o, reduction="none").mean(-1)
            gV, gW = torch.autograd.grad(loss.sum(), (V, W))
        lr = settings["lr"]
        for key, g in (("V", gV), ("W", gW)):
            if settings["optimizer"] == "sgd":
                state[key] = state[key] - lr * g
                continue
            b1, b2 = settings["beta1"], settings["beta2"]
            state["m" + key] = b1 * state["m" + key] + (1 - b1) * g
            state["v" + key] = b2 * state["v" + key] + (1 - b2) * g**2
            mhat = state["m" + key] / (1 - b1**t)
            vhat = state["v" + key] / (1 - b2**t)
            state[key] = state[key] - lr * mhat / (vhat.sqrt() + 1e-8)

    def linear_view(self, state: State):
        return state["V"], torch.softmax(state["W"], dim=-2)


@hookimpl
def register_algorithms():
    return [Softmax()]
