"""The pytest plugin: claims as test items, verdicts as outcomes, evidence in failure reports.

Inner runs name the plugin explicitly (``-p scb_verify.pytest_plugin``, its entry point
blocked) so they do not depend on which metadata the outer process sees (a stale
``scb_verify.egg-info`` in the working directory hides the entry point from ``python -m
pytest``); one subprocess run checks the entry point itself.
"""

from __future__ import annotations

import pytest

from scb_verify.schema import load_results

pytest_plugins = ["pytester"]

#: A plugin module with fake claims: X1 violated, X2 inconclusive, X3 raises, X4 trains, X5
#: unreached (a reach check; its control unreached too). The other controls hold.
FAKE_CLAIMS = """
import sympy
from scb_verify.claim import Claim, ClaimOutcome, Job
from scb_verify.hookspecs import hookimpl
from scb_verify.runs import RunSpec
from scb_verify.verdict import CheckResult


class Fake(Claim):
    title = "fake"
    paper = "S0"
    statement = "a fake claim"
    control = "its control holds"

    def __init__(self, claim_id, status, control_status="holds"):
        self.id, self.status, self.control_status = claim_id, status, control_status

    def measure(self, ctx):
        status = self.control_status if ctx.control else self.status
        if status == "raise":
            raise RuntimeError("boom in measure")
        kind = "reach" if status == "unreached" else "threshold"
        check = CheckResult(kind, status, f"fake summary: {status}",
                            {"measured": 42.5, "seed": 7})
        return ClaimOutcome(checks=[check])
        yield


class Learns(Claim):
    id = "X4"
    title = "learns"
    paper = "S0"
    statement = "the algorithm moves V towards P"
    algorithm = "pppd"
    control = "none"

    def measure(self, ctx):
        spec = RunSpec(task=ctx.task(3, 4, 1, seed=0), batch=64, samples=640)
        (runs,) = yield [Job(ctx.algorithm, (spec,))]
        first, last = runs[0].trajectory["dist_V"][0], runs[0].final["dist_V"]
        status = "holds" if last < first else "violated"
        return ClaimOutcome(checks=[CheckResult("threshold", status, f"dist_V {first:.3g} -> "
                                                f"{last:.3g}: {status}", {"final": last})])


@hookimpl
def register_claims():
    return [Fake("X1", "violated"), Fake("X2", "inconclusive"), Fake("X3", "raise"), Learns(),
            Fake("X5", "unreached", control_status="unreached")]
"""


@pytest.fixture(scope="module", autouse=True)
def _numba_registries_loaded():
    """Compile a kernel out here first: pytester's in-process runs drop the modules they import
    afterwards, and numba's registry modules imported again register their types twice."""
    from scb_verify import kernels

    kernels.stream_key(0)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "-p",
        "no:scb_verify",
        "-p",
        "scb_verify.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *args,
    )


@pytest.fixture
def fake(pytester: pytest.Pytester) -> str:
    """The fake-claims plugin module, importable in this process and in spawned workers."""
    pytester.makepyfile(scb_fake_claims=FAKE_CLAIMS)
    pytester.syspathinsert()
    return "scb_fake_claims"


def test_claim_passes_and_junit_and_results_file(pytester):
    xml, results = pytester.path / "junit.xml", pytester.path / "results.json"
    result = run(
        pytester,
        "--scb-claims=smoke",
        "-k",
        "C1",
        "-v",
        f"--junitxml={xml}",
        f"--scb-json={results}",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*collected 8 items / 7 deselected / 1 selected*", "*scb-verify::C1?smoke? PASSED*"]
    )
    junit = xml.read_text()
    assert 'classname="scb-verify" name="C1[smoke]"' in junit
    assert '<property name="scb_verdict" value="holds" />' in junit
    doc = load_results(results)
    assert [(c.id, c.status.value) for c in doc.claims] == [("C1", "holds")]


def test_verdicts_map_to_outcomes_with_evidence(pytester, fake):
    result = run(
        pytester, "--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X1 or X2 or X3", "-rs"
    )
    result.assert_outcomes(failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*claim X1 is violated, expected holds (trained -, 0 runs*",
            "*[[]violated[]] threshold #1 (threshold): fake summary: violated",
            "*measured: 42.5",
            "*RuntimeError: boom in measure*",
            "SKIPPED*X2 inconclusive: threshold #1: fake summary: inconclusive*",
        ]
    )
    assert "seed: 7" not in result.stdout.str()  # bookkeeping left out


def test_unreached_fails_saying_not_reached_within_the_budget(pytester, fake):
    result = run(pytester, "--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*claim X5 is unreached, expected holds (trained -, 0 runs*",
            "*not reached within the budget: fake summary: unreached",
            "*[[]unreached[]] reach #1 (reach): fake summary: unreached",
        ]
    )


def test_strict_fails_inconclusive(pytester, fake):
    result = run(pytester, "--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X2", "--scb-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*claim X2 is inconclusive, expected holds*"])


def test_controls(pytester, fake):
    run(pytester, "--scb-claims=smoke", "--scb-controls", "-k", "C1").assert_outcomes(passed=1)
    result = run(
        pytester, "--scb-claims=smoke", "--scb-controls", f"--scb-plugin={fake}", "-k", "X1"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*negative control X1 is holds, expected violated or unreached*",
            "*may be unable to fail*",
        ]
    )
    # an unreached control is good: its checks failed (docs/reference.md §7.7)
    run(
        pytester, "--scb-claims=smoke", "--scb-controls", f"--scb-plugin={fake}", "-k", "X5"
    ).assert_outcomes(passed=1)


def test_substituted_algorithm_in_workers(pytester, fake):
    args = ("--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X4 or C1")
    run(pytester, *args).assert_outcomes(passed=2)
    result = run(pytester, *args, "--scb-algorithm=null", "--scb-jobs=2", "-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*claim X4 is violated, expected holds (trained null, 1 runs, 640 samples*",
            "*C1 trains nothing: not run with --scb-algorithm null*",
        ]
    )


def test_selection_by_marker_and_paper_statement(pytester):
    result = run(pytester, "--scb-claims=smoke", "-m", "scb_claim", "-k", "S3", "--co", "-q")
    result.stdout.fnmatch_lines(["scb-verify::C3[[]smoke[]]"])
    assert "C1[" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scb-controls"], "--scb-controls needs --scb-claims=BUDGET"),
        (["--scb-claims=smoke", "--scb-algorithm=nosuch"], "unknown algorithm 'nosuch'"),
        (["--scb-claims=smoke", "--scb-plugin=no_such_module"], "cannot import plugin module"),
        (["--scb-executor=ray"], "--scb-executor needs --scb-claims=BUDGET"),
        (
            ["--scb-claims=smoke", "--scb-executor=nosuch"],
            "unknown executor 'nosuch'; available: *",
        ),
        (
            ["--scb-claims=smoke", "--scb-address=127.0.0.1:1"],
            "--scb-address needs --scb-executor=ray",
        ),
        (["--scb-cache=x"], "--scb-cache needs --scb-claims=BUDGET"),
        (["--scb-claims=smoke", "--scb-timeout=0"], "--scb-timeout must be a number of seconds"),
        (["--scb-claims=smoke", "--scb-job-timeout=-1"], "--scb-job-timeout must be a number"),
        (["--scb-claims=smoke", "--scb-cache=x", "--scb-no-cache"], "give one"),
    ],
)
def test_usage_errors(pytester, args, message):
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_inert_without_options_through_the_entry_point(pytester):
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_heavy(request):
            assert request.config.pluginmanager.has_plugin("scb_verify")
            heavy = [m for m in ("torch", "sympy", "scb_verify.runner", "scb_verify.claims")
                     if m in sys.modules]
            assert heavy == []
    """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1)
    assert "scb-verify::" not in result.stdout.str()


def test_budgets_match_the_claim_contract():
    from scb_verify import pytest_plugin
    from scb_verify.claim import BUDGETS

    assert pytest_plugin.BUDGETS == BUDGETS


def test_baseline_turns_a_recorded_finding_into_xfail(pytester, fake):
    base = pytester.path / "baseline.json"
    args = ("--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X1 or X4 or X5")
    run(pytester, *args, f"--scb-json={base}").assert_outcomes(failed=2, passed=1)
    result = run(pytester, *args, f"--scb-baseline={base}", "-rx")
    result.assert_outcomes(xfailed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "XFAIL*X1 violated, as in the baseline: threshold #1*",
            "XFAIL*X5 unreached, as in the baseline: reach #1*",
        ]
    )


def test_baseline_of_another_budget_is_a_usage_error(pytester, fake):
    base = pytester.path / "baseline.json"
    run(pytester, "--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X4", f"--scb-json={base}")
    result = run(pytester, "--scb-claims=ci", f"--scb-plugin={fake}", f"--scb-baseline={base}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--scb-baseline*recorded at budget 'smoke'*this run is at 'ci'*"])


def test_settings_and_family_name_the_items_and_reach_the_runs(pytester, fake):
    results = pytester.path / "results.json"
    result = run(
        pytester,
        "--scb-claims=smoke",
        f"--scb-plugin={fake}",
        "--scb-algorithm=pppd",  # every claim that trains: a setting of pppd is valid for all
        "--scb-set=eta_A=0.5",
        "--scb-family=concentration=5",
        "-k",
        "X4",
        "-v",
        f"--scb-json={results}",
    )
    result.stdout.fnmatch_lines(["*scb-verify::X4?smoke-eta_A=0.5-concentration=5-pppd? *"])
    (run_,) = load_results(results).claims
    assert (run_.settings, run_.family) == ({"eta_A": "0.5"}, {"concentration": 5.0})
    assert run_.key == "X4 [eta_A=0.5] {concentration=5}"


def test_a_setting_the_algorithm_lacks_is_a_usage_error(pytester, fake):
    result = run(pytester, "--scb-claims=smoke", f"--scb-plugin={fake}", "--scb-set=speed=2")
    result.stderr.fnmatch_lines(["*unknown setting 'speed'; allowed: *"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_rerun_reuses_the_job_cache(pytester, fake, tmp_path):
    """The pytest path stores every finished job where ``check`` does: a second session with the
    same cache computes nothing and reaches the same verdict; --scb-no-cache computes again."""
    args = ("--scb-claims=smoke", f"--scb-plugin={fake}", "-k", "X4", f"--scb-cache={tmp_path}")
    first = run(pytester, *args)
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines([f"scb-verify job cache {tmp_path}: 0 of 1 jobs reused, 1 computed"])
    second = run(pytester, *args)
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(
        [f"scb-verify job cache {tmp_path}: 1 of 1 jobs reused, 0 computed"]
    )
    third = run(pytester, *args[:-1], "--scb-no-cache")
    third.assert_outcomes(passed=1)
    assert "job cache" not in third.stdout.str()
