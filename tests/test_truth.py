"""The ground truth reaches only a declared exact-gradient reference algorithm (docs/reference.md
§5): every other algorithm gets stand-ins that fail clearly when read, and claim runs record which
algorithms read it."""

from __future__ import annotations

import pytest

from scb_verify.algorithm import Algorithm, TruthWithheld
from scb_verify.claim import Claim, ClaimContext, ClaimOutcome, Job
from scb_verify.executors import SerialExecutor
from scb_verify.registry import load_registry
from scb_verify.runner import run_claims
from scb_verify.runs import RunSpec
from scb_verify.schema import results_document
from scb_verify.task import make_task
from scb_verify.training import train

TASK = make_task(3, 4, 2, seed=1)
SPEC = RunSpec(TASK, seed=0, batch=8, samples=16)


class Cheat(Algorithm):
    """Starts at the truth if it can read it."""

    name = "cheat"
    summary = "reads the ground truth"

    def __init__(self, read):
        self.read = read

    def init_state(self, V, A, spec, settings, truth):
        P, Qstar = self.read(spec, truth)
        return {"V": P.clone(), "A": Qstar.clone()}

    def step(self, state, batch, t, settings):
        return None


@pytest.mark.parametrize(
    ("read", "what"),
    [
        (lambda spec, truth: (truth.P, truth.Qstar), "truth.P"),
        (lambda spec, truth: (spec.task.P, spec.task.Qstar), "spec.task.P"),
    ],
)
def test_a_algorithm_that_reads_the_truth_fails_clearly(read, what):
    with pytest.raises(TruthWithheld, match=rf"algorithm 'cheat' read {what}, but only an exact"):
        train(Cheat(read), [SPEC])


def test_a_algorithm_sees_the_task_shape_only():
    seen = {}

    class Shape(Cheat):
        def init_state(self, V, A, spec, settings, truth):
            seen.update(N=spec.task.N, T=spec.task.T, Q=spec.task.Q, seed=spec.seed)
            return {"V": V.clone(), "A": A.clone()}

    (result,) = train(Shape(None), [SPEC])
    assert seen == {"N": 3, "T": 4, "Q": TASK.Q, "seed": 0}
    assert result.read_truth is False


def test_the_reference_algorithm_reads_it_and_the_results_file_says_so():
    reg = load_registry()
    assert [n for n, a in reg.algorithms.items() if a.reference] == ["population"]

    class Both(Claim):
        id, title, paper, statement, control = "T1", "two algorithms", "S0", "-", "-"
        algorithm = "pppd"

        def measure(self, ctx: ClaimContext):
            yield [Job("pppd", (SPEC,)), Job("population", (SPEC,))]
            return ClaimOutcome(checks=[])

    (report,) = run_claims([Both()], budget="smoke", executor=SerialExecutor())
    assert report.error is None and report.truth_readers == ["population"]
    doc = results_document([report], budget="smoke", algorithm=None, control=False, wall_time=0)
    assert doc["claims"][0]["truth_readers"] == ["population"]
