"""``null``: an algorithm that never moves — the negative-control algorithm.

It draws its samples like any algorithm and leaves (V, A) at the initialization. Substituting it
(``scb-verify check --algorithm null``) must turn every learning claim to *violated*; if one
still holds, that claim's check cannot fail.
"""

from __future__ import annotations

from scb_verify.algorithm import Algorithm, State
from scb_verify.hookspecs import hookimpl


class Null(Algorithm):
    name = "null"
    summary = "never updates (negative-control algorithm)"

    def init_state(self, V, A, spec, settings, truth) -> State:
        return {"V": V.clone(), "A": A.clone()}

    def step(self, state, batch, t, settings) -> None:
        return None


@hookimpl
def register_algorithms():
    return [Null()]
