"""``null``: a learner that never moves — the negative-control learner.

It draws its samples like any learner and leaves (V, A) at the initialization. Substituting it
(``scb-verify check --algorithm null``) must turn every learning claim to *violated*; if one
still holds, that claim's check cannot fail.
"""

from __future__ import annotations

from scb_verify.hookspecs import hookimpl
from scb_verify.learner import Algorithm, State


class Null(Algorithm):
    name = "null"
    summary = "never updates (negative-control learner)"

    def init_state(self, V, A, spec, settings, truth) -> State:
        return {"V": V.clone(), "A": A.clone()}

    def step(self, state, batch, t, settings) -> None:
        return None


@hookimpl
def register_algorithms():
    return [Null()]
