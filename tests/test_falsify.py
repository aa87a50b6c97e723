"""Tests of the counterexample search (``scb-verify falsify``): false bounds are falsified and
shrunk, exact identities survive, the example database replays, results join the results file.

Cost: C1 is exact population math (milliseconds per instance); C6's false-bound search pays
its calibration once (a few seconds) and then measures minimal instances only.
"""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from scb_verify.falsify.engine import search
from scb_verify.records import ClaimRun
from scb_verify.registry import load_registry
from scb_verify.schema import results_document
from scb_verify.verdict import CheckResult, Status

REGISTRY = load_registry()
FALSIFIERS = {
    c: f for c, claim in REGISTRY.claims.items() if (f := claim.falsifier(None)) is not None
}


def test_a_bound_divided_by_ten_is_falsified_and_shrunk_to_a_minimal_instance(tmp_path):
    # C6's control divides the calibrated constants by 10: every instance exceeds them in
    # (nearly) every replicate, so the minimal instance of the class fails, on fresh data too.
    result = search(FALSIFIERS["C6"], examples=5, database=tmp_path, control=True)
    assert result.status is Status.VIOLATED, result.summary()
    task = result.counterexample["task"]
    assert (task["T"], task["Q"], result.counterexample["m"]) == (2, 1, 16)
    assert not result.trial.confirmation.holds
    assert result.trial.evaluation.measured > result.trial.evaluation.bound


def test_shrinking_reaches_the_smallest_failing_sizes(tmp_path):
    # C1's control evaluates the identities at (P, A): at T = 1 every feasible A equals Q*, so
    # the smallest failures have T = 2 and N = 2.
    result = search(FALSIFIERS["C1"], examples=20, database=tmp_path, control=True)
    assert result.status is Status.VIOLATED
    task = result.counterexample["task"]
    sizes = (len(task["P"]), len(task["Qstar"])) if "P" in task else (task["N"], task["T"])
    assert sizes == (2, 2)


def test_the_exact_identities_of_c1_survive_the_search(tmp_path):
    result = search(FALSIFIERS["C1"], examples=40, database=tmp_path)
    assert result.status is Status.HOLDS, result.summary()
    assert result.counterexample is None and result.error is None
    # Targeting mutates the best examples and may repeat one: distinct instances are counted.
    assert result.tried >= 20


def test_a_stored_counterexample_is_replayed_first(tmp_path):
    first = search(FALSIFIERS["C1"], examples=20, database=tmp_path, control=True)
    assert first.status is Status.VIOLATED and not first.from_store
    assert any(p.is_file() for p in tmp_path.rglob("*"))
    second = search(FALSIFIERS["C1"], examples=20, seed=7, database=tmp_path, control=True)
    assert second.from_store and second.replayed == 1
    assert second.tried == 1 <= first.tried
    assert second.counterexample == first.counterexample
    # The true bound has its own key: the control's counterexample is not replayed there.
    assert search(FALSIFIERS["C1"], examples=3, database=tmp_path).replayed == 0


def test_the_search_is_deterministic_given_its_seed(tmp_path):
    runs = [
        search(FALSIFIERS["C1"], examples=15, database=tmp_path / str(i), control=True)
        for i in range(2)
    ]
    assert runs[0].counterexample == runs[1].counterexample
    assert (runs[0].tried, runs[0].shrinks) == (runs[1].tried, runs[1].shrinks)


def test_cli_lists_every_falsifiable_claims_class(cli):
    code, out, _ = cli("falsify", "--list")
    assert code == 0
    for claim_id in FALSIFIERS:
        assert f"{claim_id}  " in out
    assert "class:" in out and "negative control:" in out


def test_cli_json_is_a_results_file_and_merge_recomputes_the_status(cli, tmp_path):
    out_json, merged = tmp_path / "f.json", tmp_path / "check.json"
    holds = CheckResult("threshold", Status.HOLDS, "fine", {})
    entry = ClaimRun.from_outcome(
        id="C1", control=True, algorithm=None, description={"id": "C1"}, checks=[holds]
    )
    merged.write_text(
        json.dumps(
            results_document([entry], budget="smoke", algorithm=None, control=True, wall_time=0.0)
        )
    )
    code, out, err = cli(
        "falsify",
        "C1",
        "--control",
        "--examples",
        10,
        "--db",
        tmp_path / "db",
        "--json",
        out_json,
        "--merge",
        merged,
    )
    assert code == 0, err  # a control must be violated: exit 0
    assert "reproduce: scb-verify falsify C1 --control --replay" in out
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "scb-verify/results"
    (claim,) = doc["claims"]
    assert claim["status"] == "violated" and claim["checks"][0]["kind"] == "falsification"
    assert claim["checks"][0]["evidence"]["counterexample"] is not None
    (entry_after,) = json.loads(merged.read_text())["claims"]
    assert [c["kind"] for c in entry_after["checks"]] == ["threshold", "falsification"]
    assert entry_after["status"] == "violated"


def test_cli_replay_measures_one_instance(cli, tmp_path):
    result = search(FALSIFIERS["C1"], examples=20, database=tmp_path, control=True)
    instance = json.dumps(result.counterexample)
    code, out, _ = cli("falsify", "C1", "--control", "--replay", instance)
    assert code == 1 and out.startswith("C1: COUNTEREXAMPLE")
    code, out, _ = cli("falsify", "C1", "--replay", instance)
    assert code == 0 and out.startswith("C1: holds")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["C9"], "'C9' is not a claim"),
        (["C3"], "'C3' has no falsifier"),
        ([], "name a CLAIM or use --list"),
        (["C1", "--examples", "0"], "expected a positive integer"),
        (["C1", "--examples", "many"], "expected a positive integer"),
        (["C1", "--replay", "{oops"], "not JSON"),
        (["C1", "--replay", "[1]"], "must be a JSON object"),
        (["C1", "--replay", "{}"], "not an instance of C1"),
        (["C1", "C6", "--replay", "{}"], "exactly one CLAIM"),
        (["C2", "--algorithm", "nope"], "unknown algorithm 'nope'"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(cli, args, message):
    code, _, err = cli("falsify", *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_algorithm_substitutes_the_falsifiers_algorithm(cli):
    code, out, _ = cli("falsify", "C2", "C4", "--algorithm", "sgd", "--list")
    assert code == 0
    assert "of sgd from uniform init" in out
    runs = [line.split(None, 1)[1] for line in out.splitlines() if line.strip().startswith("runs")]
    assert len(runs) == 2 and all(r.startswith("sgd") for r in runs), runs


def test_the_plugin_guides_third_party_claim_is_checked_and_falsified(cli, plugin_module, tmp_path):
    guide = (Path(__file__).parents[1] / "docs" / "plugin-guide.md").read_text()
    start = guide.index("```python", guide.index("A third-party claim with a falsifier:"))
    source = guide[start + len("```python") : guide.index("```", start + 3)]
    name = plugin_module(source)
    code, out, err = cli("--plugin", name, "check", "X1")
    assert code == 0 and "holds" in out, err
    db = tmp_path / "db"
    code, out, err = cli("--plugin", name, "falsify", "X1", "--examples", 5, "--db", db)
    assert code == 0 and "no counterexample in 5 example(s)" in out, err
    code, out, err = cli("--plugin", name, "falsify", "X1", "--control", "--db", db)
    assert code == 0 and "counterexample after" in out, err


@pytest.mark.parametrize("claim_id", ["C1", "C2", "C4", "C5", "C6"])
def test_every_generated_instance_passes_its_falsifiers_schema(claim_id):
    """A falsifier states its class twice, as a strategy and as the --replay schema: every
    instance the strategy draws must pass the schema (every built-in falsifier has one)."""
    falsifier = REGISTRY.claims[claim_id].falsifier(None)
    assert falsifier.schema is not None

    @given(falsifier.instances)
    @settings(max_examples=25)
    def check(instance):
        falsifier.schema(json.loads(json.dumps(instance)), "")

    check()


def test_an_instance_not_reached_within_the_budget_is_no_counterexample():
    """A samples-to-target instance whose typical data seed is censored (docs/reference.md
    §7.10) measured the budget, not the bound: it holds in the search, however far the budget
    lies above C·f; the same numbers with fewer than half the seeds censored are a measured
    excess, and a counterexample."""
    from hypothesis import strategies as st

    from scb_verify.falsify import kit

    budget, seeds = 1e6, 5

    def measured(instance: dict) -> kit.Reach:
        f = instance["f"]
        if "cut" not in instance:  # a calibration instance: every seed reached, ≈ 10·f
            return {"samples": [10.0 * f * (1 + 0.01 * i) for i in range(seeds)],
                    "censored": [False] * seeds}  # fmt: skip
        return {
            "samples": [budget * (1 + 0.01 * i) for i in range(seeds)],
            "censored": [i < instance["cut"] for i in range(seeds)],
        }

    falsifier = kit.calibrated_falsifier(
        "X", "pppd", "samples <= C·f", {}, st.just({"f": 1.0, "cut": 0}),
        [{"f": f} for f in (1.0, 2.0, 3.0)], measured, lambda i: i["f"], "samples",
    )  # fmt: skip
    unreached = falsifier.evaluate({"f": 1.0, "cut": 3}, False)  # 3 of 5 censored
    assert unreached.holds and unreached.ratio == 0.0
    assert unreached.details["verdict"] == "unreached"
    assert "not reached within the budget by half the data seeds" in unreached.text
    assert falsifier.evaluate({"f": 1.0, "cut": 3}, True).holds  # nor for the control
    excess = falsifier.evaluate({"f": 1.0, "cut": 2}, False)  # 2 of 5: measured
    assert not excess.holds and excess.details["verdict"] == "violated"
    assert not kit.unreached([budget] * seeds)  # plain values carry no censoring
    assert kit.unreached({"samples": [1.0, 2.0], "censored": [True, False]})
