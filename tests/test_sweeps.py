"""Settings, sweeps and instance families (issue 20): ``check --set``, ``--algorithm`` with
bracketed values, ``--family``; one results file holding every (claim, configuration, family)
run, keyed by that triple; claims that train nothing run once; a family a claim's statement
excludes is left out and recorded; the verdict matrix of the report."""

from __future__ import annotations

import pytest

from scb_verify.records import ClaimRun, Results, run_key
from scb_verify.schema import load_results
from scb_verify.session import (
    Configuration,
    SessionError,
    load_baseline,
    parse_configurations,
    skipped_in_sweep,
    time_estimate,
)
from scb_verify.verdict import Status


def test_bracketed_values_give_every_combination():
    configs = parse_configurations(["pppd[variant=sparse,simplex;lam=0,0.1]", "sgd"], [])
    assert [c.label for c in configs] == [
        "pppd[lam=0,variant=sparse]",
        "pppd[lam=0.1,variant=sparse]",
        "pppd[lam=0,variant=simplex]",
        "pppd[lam=0.1,variant=simplex]",
        "sgd",
    ]
    (only,) = parse_configurations([], [("decay", "0.02")])
    assert only == Configuration(None, (("decay", "0.02"),))


@pytest.mark.parametrize(
    ("algorithms", "sets", "message"),
    [
        (["pppd[variant]"], [], "expected KEY=V1,V2 in brackets"),
        (["pppd[variant=sparse"], [], "expected NAME or NAME"),
        (["pppd[lam=0;lam=1]"], [], "lam given twice"),
        (["pppd[lam=0]"], [("lam", "1")], "lam is set by both --set and --algorithm"),
        (["sgd", "sgd"], [], "configuration sgd given twice"),
        ([], [("lam", "0"), ("lam", "1")], "--set lam given twice"),
    ],
)
def test_a_malformed_sweep_is_refused_in_one_line(algorithms, sets, message):
    with pytest.raises(SessionError, match=message.replace("[", r"\[")):
        parse_configurations(algorithms, sets)


def test_set_is_checked_as_train_set_is(cli):
    code, out, err = cli("check", "C2", "--set", "variant=spiky", "--no-cache")
    assert (code, out) == (2, "")
    assert "C2 (own[variant=spiky])" in err and "variant" in err
    code, _, err = cli("check", "C2", "--set", "speed=1", "--no-cache")
    assert code == 2 and "unknown setting 'speed'; allowed:" in err


def test_a_setting_reaches_the_runs_and_names_them(cli, tmp_path):
    out = tmp_path / "r.json"
    code, _, err = cli("check", "C2", "--set", "lam=0", "-q", "--no-cache", "--json", out)
    assert code in (0, 1), err
    (run,) = load_results(out).claims
    assert (run.settings, run.configuration, run.key) == ({"lam": "0"}, "lam=0", "C2 [lam=0]")
    plain = tmp_path / "plain.json"
    cli("check", "C2", "-q", "--no-cache", "--json", plain)
    (base,) = load_results(plain).claims
    assert (base.settings, base.family, base.key) == ({}, {}, "C2")  # the plain run as before
    assert base.config_hash != run.config_hash
    assert base.measurements != run.measurements  # the setting changed what was measured


def test_a_sweep_runs_each_configuration_and_family_once(cli, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "sweep.json"
    code, text, err = cli(
        "check", "C1", "C2", "--algorithm", "pppd[lam=0,1]", "--family", "default",
        "--family", "concentration=5", "--family", "support=window", "-q", "--no-cache",
        "--json", out,
    )  # fmt: skip
    assert code in (0, 1), err
    assert "sweep: 7 claim runs" in text
    results = load_results(out)
    assert [r.key for r in results.claims] == [
        "C1",  # trains nothing: once per family
        "C2 [pppd[lam=0]]",
        "C2 [pppd[lam=1]]",
        "C1 {concentration=5}",
        "C2 [pppd[lam=0]] {concentration=5}",
        "C2 [pppd[lam=1]] {concentration=5}",
        "C1 {support=window}",
    ]
    window = run_key("C2", family={"support": "window"})
    assert results.skipped == {
        window: "C2: its instances are bigrams (q_k = e_T): support cannot vary"
    }
    by_key = results.by_key()
    lam0 = by_key["C2 [pppd[lam=0]]"]
    assert lam0.measurements != by_key["C2 [pppd[lam=0]] {concentration=5}"].measurements
    code, text, _ = cli("report", out, "--out", tmp_path / "rep")
    assert code == 0 and (tmp_path / "rep" / "figures" / "verdict-matrix.png").exists()
    assert "## Verdict matrix" in (tmp_path / "rep" / "report.md").read_text()


def test_a_family_every_claim_excludes_leaves_nothing_to_run(cli):
    code, out, err = cli("check", "C2", "--family", "weights=uniform", "--no-cache")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "scb-verify: error: nothing to run: C2: its instances are bigrams (q_k = e_T): "
        "weights cannot vary"
    )


@pytest.mark.parametrize(
    ("family", "message"),
    [
        ("colour=red", "unknown family parameter 'colour'; allowed: concentration, support"),
        ("concentration=-1", "family concentration='-1': expected Dirichlet concentration"),
        ("support=diagonal", "family support='diagonal': expected one of random, window"),
        ("concentration", "--family 'concentration': expected KEY=VALUE"),
    ],
)
def test_a_bad_family_is_one_line(cli, family, message):
    code, out, err = cli("check", "C1", "--family", family, "--no-cache")
    assert (code, out) == (2, "") and message in err and len(err.strip().splitlines()) == 1


def test_a_sweep_beyond_the_run_limit_is_refused_before_it_starts(cli):
    code, out, err = cli(
        "check", "C2", "--algorithm", "pppd[lam=0,1,2]", "--max-runs", "2", "--no-cache"
    )
    assert (code, out) == (2, "")
    assert "3 claim runs (1 claims × 3 configurations × 1 families) exceed --max-runs 2" in err


def _run(claim_id: str, wall: float) -> ClaimRun:
    return ClaimRun(
        id=claim_id, control=False, algorithm="pppd", status=Status.HOLDS, wall_time=wall
    )


def test_the_time_estimate_is_the_baseline_pace_of_each_planned_run():
    """Claims overlap in the executor, so a claim costs its share of the baseline's wall time:
    C2 20 s and C4 60 s of claim time in a 50 s run on 2 workers; C2, C2, C4 on 4 workers is
    50 × (20 + 20 + 60)/80 × 2/4 = 31.25 s."""
    base = Results(claims=[_run("C2", 20.0), _run("C4", 60.0)], budget="ci", wall_time=50.0)
    assert time_estimate(["C2"], base, 2) is None  # workers not recorded: no pace
    base.workers = 2
    seconds, how = time_estimate(["C2", "C2", "C4"], base, 4)
    assert seconds == pytest.approx(31.25)
    assert "shipped ci baseline (2 claims in 50 s on 2 workers)" in how
    assert time_estimate(["C2", "X9"], base, 4) is None  # a claim the baseline never ran


def test_a_refused_sweep_states_its_estimate_at_the_shipped_pace(cli):
    """At ci (a shipped baseline that records its workers) the refusal carries the estimate."""
    baseline, _ = load_baseline("shipped", "ci")
    assert baseline.workers >= 1, "the shipped ci baseline must record the workers it ran on"
    code, out, err = cli(
        "check",
        "C2",
        "C3",
        "--budget",
        "ci",
        "--algorithm",
        "pppd[lam=0,1]",
        "--max-runs",
        "3",
        "--jobs",
        "1",
        "--no-cache",
    )
    assert (code, out) == (2, "")
    (line,) = err.strip().splitlines()
    seconds, _ = time_estimate(["C2", "C3", "C2", "C3"], baseline, 1)
    assert "4 claim runs (2 claims × 2 configurations × 1 families) exceed --max-runs 3" in line
    assert "estimate: about" in line and "on 1 workers at the pace of the shipped ci" in line
    assert seconds > 0


def test_a_sweep_records_the_claims_about_another_model_it_leaves_out():
    """C8 is about the softmax model: a sweep of pppd readings does not run it (runner.plan) and
    says so per configuration, keyed as the run would have been; C2 trains pppd and is not
    skipped; a configuration of the claim's own model runs it."""
    from scb_verify.registry import load_registry
    from scb_verify.runner import plan

    reg = load_registry()
    claims = [reg.claim("C2"), reg.claim("C8")]
    configurations = parse_configurations(["pppd[lam=0,1]", "softmax"], [])
    skipped = skipped_in_sweep(claims, configurations)
    assert skipped == {
        f"C8 [pppd[lam={v}]]": f"C8 is a claim about the softmax model: not run with pppd[lam={v}]"
        for v in (0, 1)
    }
    planned = {(p.claim.id, p.configuration) for p in plan(
        claims, budget="smoke", configurations=configurations)}  # fmt: skip
    assert ("C8", "softmax") in planned and ("C8", "pppd[lam=0]") not in planned
    assert not {f"{c} [{k}]" for c, k in planned} & set(skipped)
