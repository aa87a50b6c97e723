"""The pytest plugin's side of the gate: ``--scb-baseline=shipped`` reads the baseline shipped
for the budget, ``--scb-baseline-tolerance`` needs a baseline, and a claim about one particular
model (C8) is skipped, with its reason, under ``--scb-algorithm``."""

from __future__ import annotations

import pytest
from test_pytest_plugin import run

pytest_plugins = ["pytester"]


def test_the_shipped_baseline_is_read_for_its_budget(pytester):
    result = run(pytester, "--scb-claims=ci", "--scb-baseline=shipped", "--co", "-q", "-k", "C1")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["scb-verify::C1[[]ci[]]"])
    result = run(pytester, "--scb-claims=smoke", "--scb-baseline=shipped")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no baseline is shipped for budget 'smoke' (shipped: ci)*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scb-baseline-tolerance=0.1"], "--scb-baseline-tolerance needs --scb-baseline"),
        (
            ["--scb-baseline=shipped", "--scb-baseline-tolerance=-1"],
            "--scb-baseline-tolerance must be a number >= 0, got -1.0",
        ),
    ],
)
def test_a_tolerance_needs_a_baseline_and_a_margin(pytester, args, message):
    result = run(pytester, "--scb-claims=ci", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_a_claim_about_the_softmax_model_is_skipped_under_another_algorithm(pytester):
    result = run(pytester, "--scb-claims=smoke", "--scb-algorithm=sgd", "-k", "C8", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*C8 is a claim about the softmax model: not run with --scb-algorithm sgd*"]
    )
