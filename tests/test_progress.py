"""Progress of a check: the running claims with their jobs done out of those submitted so far,
samples, and an estimate of the time the submitted jobs still need."""

from __future__ import annotations

import pytest

from scb_verify.claim import Claim, ClaimOutcome, Job
from scb_verify.executors import SerialExecutor
from scb_verify.progress import ClaimProgress, duration, status_line
from scb_verify.runner import run_claims
from scb_verify.runs import RunSpec
from scb_verify.task import make_task
from scb_verify.verdict import CheckResult

SPEC = RunSpec(task=make_task(3, 4, 1, seed=0), batch=8, samples=32)


class TwoStages(Claim):
    """Two jobs, then one more: the total grows as the second stage is submitted."""

    id = "XP"
    title = "two stages"
    paper = "-"
    statement = "none"
    algorithm = "null"
    control = "none"

    def measure(self, ctx):
        yield [Job(ctx.algorithm, (SPEC,)), Job(ctx.algorithm, (SPEC, SPEC))]
        yield [Job(ctx.algorithm, (SPEC,))]
        return ClaimOutcome(checks=[CheckResult("threshold", "holds", "fine", {})])


def test_the_runner_reports_jobs_done_out_of_those_submitted():
    seen: list[list[ClaimProgress]] = []
    (report,) = run_claims(
        [TwoStages()], budget="smoke", executor=SerialExecutor(), on_progress=seen.append
    )
    assert report.status.value == "holds", report.error
    counts = [(p.jobs_done, p.jobs_total, p.samples_done, p.samples_total) for (p,) in
              filter(None, seen)]  # fmt: skip
    assert (2, 2, 96, 96) in counts and counts[-1] == (3, 3, 128, 128)
    assert all(done <= total for done, total, *_ in counts)
    assert [c[1] for c in counts] == sorted(c[1] for c in counts)  # totals only grow
    assert seen[-1] == []  # the finished claim is no longer listed


@pytest.mark.parametrize(
    ("progress", "text"),
    [
        (ClaimProgress("C4", 0, 40, 0, 4000, 12.0), "C4 0/40 jobs"),
        (ClaimProgress("C4", 10, 40, 1000, 4000, 60.0), "C4 10/40 jobs ~3m00s"),
        (ClaimProgress("C4", 40, 40, 4000, 4000, 60.0), "C4 40/40 jobs"),
    ],
)
def test_the_status_names_the_claim_its_jobs_and_an_estimate(progress, text):
    assert progress.text() == text


def test_status_line_and_durations():
    running = [ClaimProgress("C4", 1, 2, 5, 10, 5.0), ClaimProgress("C5", 0, 3, 0, 9, 1.0)]
    assert status_line(running) == "C4 1/2 jobs ~5s, C5 0/3 jobs"
    assert [duration(s) for s in (44.6, 190, 3900)] == ["45s", "3m10s", "1h05m"]
