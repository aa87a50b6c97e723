"""The claim contract the framework keeps (scb_verify.claim): the learner under test gets the
claim's settings without the claim copying them, a claim that trains nothing is a plain
function, and the registry and runner import each other no more."""

from __future__ import annotations

import subprocess
import sys

from scb_verify.checks import threshold_check
from scb_verify.claim import Claim, ClaimContext, ClaimOutcome, Job
from scb_verify.runner import SerialExecutor, run_claims
from scb_verify.runs import RunSpec
from scb_verify.task import make_task

SPEC = RunSpec(make_task(3, 4, 2, seed=1), seed=0, batch=8, samples=16)


class Tuned(Claim):
    id, title, paper, statement, control = "T2", "settings", "S0", "-", "-"
    learner = "sgd"
    grids = {"smoke": {}}

    def settings_for(self, learner):
        return {"lr": 0.05} if learner == "sgd" else {}

    def measure(self, ctx: ClaimContext):
        own, explicit, other = yield [
            Job(ctx.learner, (SPEC,)),
            Job(
                ctx.learner,
                (RunSpec(SPEC.task, seed=1, batch=8, samples=16, settings={"lr": 0.2}),),
            ),
            Job("null", (SPEC,)),
        ]
        lrs = [runs[0].settings.get("lr") for runs in (own, explicit, other)]
        return ClaimOutcome(checks=[], measurements={"lr": lrs})


def test_the_framework_applies_the_learners_settings():
    (report,) = run_claims([Tuned()], budget="smoke", executor=SerialExecutor())
    assert report.error is None
    assert report.measurements["lr"] == [
        0.05,
        0.2,
        None,
    ]  # spec's own wins; other learners untouched


class Plain(Claim):
    id, title, paper, statement, control = "T3", "plain", "S0", "-", "-"
    grids = {"smoke": {"value": 0.5}}

    def measure(self, ctx: ClaimContext) -> ClaimOutcome:
        value = self.grid(ctx.budget)["value"] * (10 if ctx.control else 1)
        return ClaimOutcome(checks=[threshold_check([value, value], 1.0, direction="<=")])


def test_a_claim_that_trains_nothing_is_a_plain_function():
    (report,) = run_claims([Plain()], budget="smoke", executor=SerialExecutor())
    assert report.error is None and report.status == "holds" and report.runs == 0
    (control,) = run_claims([Plain()], budget="smoke", executor=SerialExecutor(), control=True)
    assert control.status == "violated"


def test_registry_does_not_import_the_runner():
    code = "import sys, scb_verify.registry; assert 'scb_verify.runner' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
