"""Counterexample search: each claim's bound as a hypothesis property over its instance class.

A verdict from a fixed grid says a bound held *there*; the theorems quantify over every instance
of a class. Each claim states its class as a hypothesis strategy and its bound as a property
(:meth:`scb_verify.claim.Claim.falsifier`, built from :mod:`.kit`); :mod:`.engine` searches the
class adversarially, shrinks the first failure to a minimal counterexample, replays stored
counterexamples first, and reports the outcome as a ``falsification`` check (violated on a
confirmed counterexample, else holds); :mod:`.output` joins it to the results file of
``scb-verify check``. A counterexample is a measured excess over the bound: an instance whose
target was not reached within the budget by its typical data seed (*unreached*,
docs/reference.md §7.5) measured the budget, not the bound, and is never one
(:func:`.kit.unreached`) — so the search has no ``unreached`` outcome of its own.
Command line: ``scb-verify falsify``.

This package module imports nothing heavy: hypothesis (the ``test`` extra) is needed only by
the submodules, so the command line loads them when ``falsify`` runs.
"""

#: Examples generated per claim and budget (``--examples`` overrides).
BUDGET_EXAMPLES = {"smoke": 10, "ci": 50, "full": 500}
