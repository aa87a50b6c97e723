"""Deliberately broken algorithms (a plugin module for the tests; docs/reference.md §7.7).

Each breaks exactly the property one stage claim checks, while reading only what an algorithm may
(its own iterates): if a claim does not come out violated with it, the claim's check cannot fail
for that reason.

- ``pppd-slow-warm``: pppd whose attention step is scaled by min(1, 32/T) whenever it starts
  from a non-uniform attention (a hand-off or a pretrained model): its second stage and its
  finetuning cost ∝ T, its first stage is pppd's. C4 and C5 must come out violated.
- ``pppd-cold``: pppd that ignores its warm start (starts from V = 0, uniform attention
  whatever it is given): finetuning costs what training from scratch does. C5 must come out
  violated.
"""

from __future__ import annotations

import torch
from scb_verify.plugins.pppd import PPPD

from scb_verify.hookspecs import hookimpl


class SlowWarmAttention(PPPD):
    name = "pppd-slow-warm"
    summary = "pppd with its attention step scaled by 32/T from a warm start (broken on purpose)"

    def init_state(self, V, A, spec, settings, truth):
        state = super().init_state(V, A, spec, settings, truth)
        T = A.shape[-2]
        warm = (A - 1.0 / T).abs().amax(dim=(-2, -1)) > 1e-12  # per run: not uniform
        state["eta_A_factor"] = torch.where(warm, min(1.0, 32.0 / T), 1.0)[:, None, None]
        return state

    def step(self, state, batch, t, settings):
        eta_A = settings["eta_A"] * state["eta_A_factor"].to(state["A"].dtype)
        super().step(state, batch, t, {**settings, "eta_A": eta_A})


class Cold(PPPD):
    name = "pppd-cold"
    summary = "pppd that ignores its initialization (broken on purpose)"

    def init_state(self, V, A, spec, settings, truth):
        T = A.shape[-2]
        return super().init_state(
            torch.zeros_like(V), torch.full_like(A, 1.0 / T), spec, settings, truth
        )


@hookimpl
def register_algorithms():
    return [SlowWarmAttention(), Cold()]
