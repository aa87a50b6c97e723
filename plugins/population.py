"""``population``: the pppd updates with exact population gradients (docs/reference.md §5.4).

The infinite-sample reference trajectory: same preconditioning, prox and schedules as ``pppd``,
but G_V, G_A are the closed forms of §3 and μ̂ = μ. It reads the ground truth by definition and
draws no samples; its trajectory is indexed by steps × batch so it aligns with finite-sample runs.
"""

from __future__ import annotations

from scb_verify.plugins.pppd import PPPD

from scb_verify.algorithm import State
from scb_verify.hookspecs import hookimpl
from scb_verify.population import Population


class PopulationPPPD(PPPD):
    name = "population"
    summary = "pppd with exact population gradients: the infinite-sample reference"
    reference = True

    def init_state(self, V, A, spec, settings, truth: Population) -> State:
        # pppd's own start (V projected for the sparse variant), plus the exact constants
        state = super().init_state(V, A, spec, settings, truth)
        state.update(P=truth.P, Qstar=truth.Qstar, mu=truth.mu)
        return state

    def gradients(self, state: State, batch):
        pop = Population(state["P"], state["Qstar"], state["mu"])
        return pop.grad_V(state["V"], state["A"]), pop.grad_A(state["V"], state["A"]), pop.mu


@hookimpl
def register_algorithms():
    return [PopulationPPPD()]
