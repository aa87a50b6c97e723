"""The results file (scb_verify.schema) and its typed records: checks as data, strict JSON
with reasons for nulls, old versions read and compared by label, outcomes validated where they
are made, a reader that never starts the engine."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from synthetic_results import claim, failing, passing, scaling, write

from scb_verify.diff import compare
from scb_verify.executors import SerialExecutor
from scb_verify.records import CheckRecord, ClaimRun, OutcomeError, label_checks
from scb_verify.runner import run_claims
from scb_verify.schema import (
    SCHEMA_VERSION,
    ResultsError,
    load_results,
    read_document,
    results_document,
)
from scb_verify.verdict import CheckResult, Range, Status

V1_FILE = Path(__file__).parent / "data" / "results_v1_smoke.json"


def test_v1_file_is_read_with_labels_as_fields():
    doc = load_results(V1_FILE)
    assert doc.upgraded_from == 1
    labels = {c.id: [k.label for k in c.checks] for c in doc.claims}
    assert labels["C1"] == ["‖∇L‖ at truth", "|excess risk|", "best descent"]
    assert labels["C2"] == ["rate of ‖V − P‖_F in n", "‖V − P‖/‖P‖ at n = 16384"]
    assert labels["C3"] == ["reach #1", "scaling #1"]  # unlabelled in the claim
    rate = doc.by_key()["C2"].checks[0]
    assert rate.summary.startswith("slope ")  # the label is no longer part of the summary
    assert rate.predicted.hi == rate.evidence["predicted"][1]
    assert rate.quantity == "log-log slope"


def test_v1_and_v2_files_of_the_same_run_diff_as_no_change(tmp_path, monkeypatch):
    """The v1 file was written by the code before schema 2 (check C1 C2 C3 --budget smoke
    --jobs 1); the same claims and seeds now write the current version, and the diff pairs every
    check by label.
    The fixture predates pppd's sparse default (docs/reference.md §5.1.5): the run pins the
    algorithm it was written with (the simplex variant at its former defaults)."""
    from scb_verify.plugins.pppd import PPPD

    from scb_verify.registry import load_registry

    former = {"variant": "simplex", "lam": 0.0, "decay": 0.02}
    monkeypatch.setattr(PPPD, "defaults", {**PPPD.defaults, **former})

    reg = load_registry()
    reports = run_claims(
        [reg.claims[c] for c in ("C1", "C2", "C3")], budget="smoke", executor=SerialExecutor()
    )
    path = tmp_path / "v2.json"
    path.write_text(
        json.dumps(
            results_document(reports, budget="smoke", algorithm=None, control=False, wall_time=0),
            allow_nan=False,
        )
    )
    old, new = load_results(V1_FILE), load_results(path)
    assert new.upgraded_from is None
    # The statistics changed after the v1 file was written (issue 13: geometric means and t
    # intervals instead of medians and bootstrap; C3's 3-seed slope is now inconclusive), so
    # verdicts and slopes may move: what must not change is the pairing of checks by label.
    moved = set()
    for before, after in zip(old.claims, new.claims, strict=True):
        assert [c.label for c in before.checks] == [c.label for c in after.checks]
        assert before.fits().keys() == after.fits().keys()
        if before.status != after.status:
            moved.add(before.id)
    for changes in (compare(old, new), compare(new, old)):
        assert {c.claim for c in changes if c.kind == "verdict"} == moved
        assert not [c for c in changes if c.kind == "check"]


def test_a_v2_file_names_the_algorithm_as_the_current_version_does():
    """tests/data/results_v2_ci.json (the project's ci baseline as written at schema 2) called
    the algorithm under test ``learner``; read, the entries and descriptions use ``algorithm``,
    and the claims' own measurements stay as they were written (no claim id in the reader)."""
    path = Path(__file__).parent / "data" / "results_v2_ci.json"
    doc = read_document(path)
    assert doc["upgraded_from"] == 2 and doc["schema_version"] == SCHEMA_VERSION == 5
    for c in doc["claims"]:
        assert "learner" not in c and "learner" not in c["description"], c["id"]
        assert c["algorithm"] == c["description"]["algorithm"], c["id"]
    runs = load_results(path).by_key()
    assert runs["C1"].algorithm is None and runs["C8"].algorithm == "softmax"
    assert runs["C7"].measurements["method"] == "pppd"  # the claim's data, as written
    assert runs["C2"].trained == []  # version 4 records what was trained; older files cannot


def test_diff_keys_checks_by_label_not_position(tmp_path):
    labelled = [
        replace(scaling(1.0), label="in T"),
        replace(scaling(0.0, predicted=(-1.0, 1.0)), label="in N"),
    ]
    old = load_results(write(tmp_path / "old.json", claim("C3", labelled)))
    new = load_results(write(tmp_path / "new.json", claim("C3", labelled[::-1])))
    assert compare(old, new) == []  # reordered, same fits: no change
    renamed = [labelled[0], replace(labelled[1], label="in Q")]
    newer = load_results(write(tmp_path / "newer.json", claim("C3", renamed)))
    assert {(c.what, c.old, c.new) for c in compare(old, newer)} == {
        ("check (in N)", "holds", None),
        ("check (in Q)", None, "holds"),
    }


def test_nonfinite_numbers_are_null_with_a_reason(tmp_path):
    check = CheckResult("k", "holds", "s", {"y": [1.0, np.nan, -np.inf]}, label="x")
    report = ClaimRun.from_outcome(
        id="C1",
        control=False,
        algorithm=None,
        description={},
        checks=[check],
        measurements={"samples": {32: [1.0, math.nan]}, "top": math.inf},
    )
    doc = results_document([report], budget="smoke", algorithm=None, control=False, wall_time=0)
    text = json.dumps(doc, allow_nan=False)  # strict JSON
    (entry,) = json.loads(text)["claims"]
    assert entry["measurements"] == {"samples": {"32": [1.0, None]}, "top": None}
    assert entry["nonfinite"] == {"/measurements/samples/32/1": "nan", "/measurements/top": "inf"}
    (c,) = entry["checks"]
    assert c["evidence"]["y"] == [1.0, None, None]
    assert c["nonfinite"] == {"/evidence/y/1": "nan", "/evidence/y/2": "-inf"}


def test_labels_default_per_kind_and_must_be_unique():
    checks = [CheckRecord.from_result(c) for c in (passing(), passing(), scaling(1.0))]
    assert [c.label for c in label_checks(checks)] == [
        "threshold #1",
        "threshold #2",
        "scaling #1",
    ]
    named = CheckRecord.from_result(CheckResult("k", "holds", "", {}, label="same"))
    with pytest.raises(ValueError, match="two checks are labelled 'same'"):
        label_checks([named, named])


def test_range_keeps_open_and_closed_ends():
    r = Range(0.0, 1.0, lo_closed=False)
    assert r.to_dict() == {"lo": 0.0, "hi": 1.0, "lo_closed": False, "hi_closed": True}
    assert Range.from_dict(r.to_dict()) == r
    unbounded = Range(hi=0.5)
    assert unbounded.to_dict() == {"lo": None, "hi": 0.5, "lo_closed": False, "hi_closed": True}
    assert Range.from_dict(unbounded.to_dict()) == unbounded
    with pytest.raises(ValueError, match="lo <= hi"):
        Range(1.0, 0.0)


def test_reading_diffing_and_reporting_import_neither_torch_nor_numba(tmp_path):
    pytest.importorskip("matplotlib")
    results = write(tmp_path / "r.json", claim("C1", [passing()]), claim("C3", [scaling(1.0)]))
    code = f"""
import sys
from scb_verify.diff import compare
from scb_verify.report import write_report
from scb_verify.schema import load_results
import scb_verify.pytest_plugin
from scb_verify.runs import RunSpec
from scb_verify.task import make_task
RunSpec(make_task(3, 4, 2), seed=0)  # the run vocabulary is light too
doc = load_results({str(results)!r})
assert compare(doc, load_results({str(V1_FILE)!r})) is not None
write_report({str(results)!r}, {str(tmp_path / "out")!r})
loaded = sorted(m for m in ("torch", "numba") if m in sys.modules)
assert not loaded, loaded
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "report.md").exists()


@pytest.mark.parametrize(
    "measurements, field",
    [
        ({"x": object()}, "measurements/x has type object"),
        ({"x": {1, 2}}, "measurements/x has type set"),
        ({(1, 2): 3}, "measurements has key (1, 2)"),
        ({"x": 2**70}, "measurements/x is an integer beyond 64 bits"),
    ],
)
def test_an_outcome_that_is_not_json_is_refused_where_it_is_made(measurements, field):
    with pytest.raises(OutcomeError, match=field.replace("(", r"\(").replace(")", r"\)")):
        ClaimRun.from_outcome(
            id="X",
            control=False,
            algorithm=None,
            description={},
            checks=[passing()],
            measurements=measurements,
        )
    circular: dict = {}
    circular["me"] = circular
    with pytest.raises(OutcomeError, match="circular"):
        ClaimRun.from_outcome(
            id="X",
            control=False,
            algorithm=None,
            description={},
            checks=[passing()],
            artifacts=circular,
        )


def test_records_round_trip_through_the_file(tmp_path):
    strict = replace(scaling(-0.5, predicted=Range(hi=0.0, hi_closed=False)), label="rate")
    run = claim("C2", [strict, passing()])
    (back,) = load_results(write(tmp_path / "r.json", run)).claims
    assert back.to_dict() == ClaimRun.from_dict(run.to_dict()).to_dict()
    fit = back.fits()["rate"]
    assert fit.predicted == Range(hi=0.0, hi_closed=False)  # the open end survives
    assert fit.quantity == strict.quantity and back.good and back.key == "C2"


def test_version_5_records_unreached_and_round_trips(tmp_path):
    reach = CheckResult(
        "reach",
        Status.UNREACHED,
        "x not reached within the budget (1000 samples) by half the seeds of any cell: unreached",
        {"budget": 1000.0},
        label="reach",
    )
    run = claim("C3", [reach, scaling(0.0, predicted=(0.0, math.inf))])
    assert run.status is Status.UNREACHED and not run.good
    path = write(tmp_path / "r.json", run)
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == 5
    assert raw["claims"][0]["status"] == raw["claims"][0]["checks"][0]["status"] == "unreached"
    (back,) = load_results(path).claims
    assert back.to_dict() == ClaimRun.from_dict(run.to_dict()).to_dict()
    assert back.status is Status.UNREACHED and back.check("reach").evidence["budget"] == 1000.0


def test_a_version_4_file_is_read_unchanged_and_cannot_say_unreached(tmp_path):
    current = write(tmp_path / "v5.json", claim("C1", [passing()]), claim("C2", [failing()]))
    doc = json.loads(current.read_text())
    doc["schema_version"] = 4
    v4 = tmp_path / "v4.json"
    v4.write_text(json.dumps(doc))
    old, new = load_results(v4), load_results(current)
    assert (old.upgraded_from, new.upgraded_from) == (4, None)
    assert [r.to_dict() for r in old.claims] == [r.to_dict() for r in new.claims]
    doc["claims"][1]["checks"][0]["status"] = "unreached"  # not a version-4 verdict
    v4.write_text(json.dumps(doc))
    message = r"claims\[1\]\.checks\[0\]\.status: 'unreached' is a verdict of schema version 5"
    with pytest.raises(ResultsError, match=message + " and later; this file says version 4"):
        load_results(v4)
