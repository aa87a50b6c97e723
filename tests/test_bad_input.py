"""Bad input at every command: a table of hostile invocations, each of which must end in one line
on stderr (``scb-verify[ COMMAND]: error: …`` naming what was wrong), exit code 2, no traceback,
nothing on stdout, and no file created or modified. In-process through ``cli.main``; a few
through the real console script, which must behave the same."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scb_verify.claims.c4_stage2 import StageTwo
from scb_verify.claims.c5_transfer import Transfer
from synthetic_results import claim, passing, scaling, write

from scb_verify.runs import Params

#: The smallest valid train run; a case appends its bad arguments after these.
TRAIN = ("train", "--N", "3", "--T", "4", "--Q", "2", "--batch", "16", "--samples", "64")
TRAIN += ("--quiet",)
C1_TASK = {
    "N": 3,
    "T": 4,
    "Q": 2,
    "seed": 0,
    "concentration": 0.5,
    "support": "random",
    "weights": "uniform",
}
C1_INSTANCE = {"task": C1_TASK, "V": [[0.0] * 3] * 3, "A": [[0.25] * 3] * 4}


def _stage_task(claim) -> dict:
    """A task of the class of a samples-to-ε claim's falsifier (its smoke grid's N, Q, weights)."""
    grid = claim.grid("smoke")
    return {**C1_TASK, "N": grid.N, "T": 8, "Q": grid.Q, "weights": grid.weights}


C4_TASK, C5_TASK = _stage_task(StageTwo()), _stage_task(Transfer())


def _with(base: dict, path: str, value) -> str:
    """``base`` as JSON with the field at dotted ``path`` set to ``value`` (removed if ...)."""
    doc = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return json.dumps(doc)


#: Malformed results files: file name → (how it is made from a valid file, message).
RESULTS_MUTATIONS = {
    "claims-object": (lambda d: d.update(claims={}), r"claims must be a list, got \{\}"),
    "claim-string": (lambda d: d["claims"].__setitem__(0, "C1"), r"claims\[0\] must be an object"),
    "no-claims": (lambda d: d.pop("claims"), r"claims is missing"),
    "no-id": (lambda d: d["claims"][0].pop("id"), r"claims\[0\]\.id is missing"),
    "id-int": (lambda d: d["claims"][0].update(id=3), r"claims\[0\]\.id must be a string, got 3"),
    "control-string": (
        lambda d: d["claims"][0].update(control="yes"),
        r"claims\[0\]\.control must be true or false",
    ),
    "status-unknown": (
        lambda d: d["claims"][0].update(status="fine"),
        r"claims\[0\]\.status must be one of error, holds, inconclusive, unreached, violated, "
        r"got \"fine\"",
    ),
    "status-list": (
        lambda d: d["claims"][0].update(status=["holds"]),
        r"claims\[0\]\.status must be one of",
    ),
    "checks-string": (
        lambda d: d["claims"][0].update(checks="none"),
        r"claims\[0\]\.checks must be a list",
    ),
    "check-int": (
        lambda d: d["claims"][0]["checks"].__setitem__(0, 5),
        r"claims\[0\]\.checks\[0\] must be an object, got 5",
    ),
    "check-no-kind": (
        lambda d: d["claims"][1]["checks"][0].pop("kind"),
        r"claims\[1\]\.checks\[0\]\.kind is missing",
    ),
    "check-summary-int": (
        lambda d: d["claims"][1]["checks"][0].update(summary=3),
        r"claims\[1\]\.checks\[0\]\.summary must be a string",
    ),
    "evidence-list": (
        lambda d: d["claims"][1]["checks"][0].update(evidence=[]),
        r"claims\[1\]\.checks\[0\]\.evidence must be an object",
    ),
    "slope-string": (
        lambda d: d["claims"][1]["checks"][0]["evidence"].update(slope="steep"),
        r"claims\[1\]\.checks\[0\]\.evidence\.slope must be a number or null, got \"steep\"",
    ),
    "ci-short": (
        lambda d: d["claims"][1]["checks"][0]["evidence"].update(ci=[1]),
        r"evidence\.ci must be a \[low, high\] pair of numbers \(null for ±inf\) or null",
    ),
    "predicted-string": (
        lambda d: d["claims"][1]["checks"][0]["evidence"].update(predicted="up"),
        r"evidence\.predicted must be a \[low, high\] pair",
    ),
    "label-int": (
        lambda d: d["claims"][1]["checks"][0].update(label=4),
        r"claims\[1\]\.checks\[0\]\.label must be a string, got 4",
    ),
    "axis-list": (
        lambda d: d["claims"][1]["checks"][0].update(axis=["T"]),
        r"claims\[1\]\.checks\[0\]\.axis must be a string or null",
    ),
    "predicted-range-text": (
        lambda d: d["claims"][1]["checks"][0].update(predicted={"lo": "0", "hi": None}),
        r"claims\[1\]\.checks\[0\]\.predicted\.lo must be a number or null, got \"0\"",
    ),
    "predicted-closed-text": (
        lambda d: d["claims"][1]["checks"][0]["predicted"].update(hi_closed="yes"),
        r"checks\[0\]\.predicted\.hi_closed must be true or false",
    ),
    "description-list": (
        lambda d: d["claims"][0].update(description=[]),
        r"claims\[0\]\.description must be an object",
    ),
    "title-int": (
        lambda d: d["claims"][0]["description"].update(title=1),
        r"claims\[0\]\.description\.title must be a string",
    ),
    "bounds-list": (
        lambda d: d["claims"][0]["description"].update(bounds=[1]),
        r"claims\[0\]\.description\.bounds must be an object",
    ),
    "bound-latex-int": (
        lambda d: d["claims"][0]["description"]["bounds"]["samples"].update(latex=1),
        r"description\.bounds\.samples\.latex must be a string",
    ),
    "measurements-list": (
        lambda d: d["claims"][0].update(measurements=[1]),
        r"claims\[0\]\.measurements must be an object",
    ),
    "artifacts-list": (
        lambda d: d["claims"][0].update(artifacts=[1]),
        r"claims\[0\]\.artifacts must be an object",
    ),
    "claim-algorithm-int": (
        lambda d: d["claims"][0].update(algorithm=7),
        r"claims\[0\]\.algorithm must be a string or null, got 7",
    ),
    "error-int": (lambda d: d["claims"][0].update(error=7), r"claims\[0\]\.error must be a string"),
    "seeds-string": (lambda d: d["claims"][0].update(seeds="abc"), r"claims\[0\]\.seeds must be"),
    "samples-string": (
        lambda d: d["claims"][0].update(samples="abc"),
        r"claims\[0\]\.samples must be a number",
    ),
    "runs-float": (lambda d: d["claims"][0].update(runs=1.5), r"claims\[0\]\.runs must be an int"),
    "wall-string": (
        lambda d: d["claims"][0].update(wall_time="abc"),
        r"claims\[0\]\.wall_time must be a number",
    ),
    "budget-int": (lambda d: d.update(budget=5), r"budget must be a string, got 5"),
    "controls-string": (lambda d: d.update(controls="no"), r"controls must be true or false"),
    "versions-list": (lambda d: d.update(versions=[1]), r"versions must be an object"),
    "algorithm-int": (lambda d: d.update(algorithm=1), r"algorithm must be a string or null"),
    "no-schema": (lambda d: d.pop("schema"), r"not an scb-verify results file"),
    "version-99": (
        lambda d: d.update(schema_version=99),
        r"results schema version 99; this scb-verify reads versions 1, 2, 3",
    ),
    "version-string": (lambda d: d.update(schema_version="1"), r"results schema version '1'"),
}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder with good and bad input files, made the working directory."""
    Params(np.zeros((3, 3)), np.full((4, 3), 0.25)).save(tmp_path / "model.npz")
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "array.npy", np.zeros((3, 3)))
    np.savez(tmp_path / "no_A.npz", V=np.zeros((3, 3)))
    np.savez(tmp_path / "extra.npz", V=np.zeros((3, 3)), A=np.full((4, 3), 0.25), W=np.zeros(2))
    np.savez(tmp_path / "nan.npz", V=np.full((3, 3), np.nan), A=np.full((4, 3), 0.25))
    np.savez(tmp_path / "inf.npz", V=np.zeros((3, 3)), A=np.full((4, 3), np.inf))
    np.savez(tmp_path / "text.npz", V=np.full((3, 3), "x"), A=np.full((4, 3), "y"))
    np.savez(tmp_path / "bool.npz", V=np.zeros((3, 3), bool), A=np.ones((4, 3), bool))
    np.savez(tmp_path / "vector.npz", V=np.zeros(3), A=np.full((4, 3), 0.25))
    np.savez(tmp_path / "mismatch.npz", V=np.zeros((3, 3)), A=np.full((4, 2), 0.25))
    with open(tmp_path / "pickle.npz", "wb") as f:  # an object array: loading it would unpickle
        np.savez(f, V=np.array([{"x": 1}], dtype=object), A=np.zeros((4, 3)))
    (tmp_path / "folder").mkdir()
    (tmp_path / "db-file").write_text("not a folder")
    good = write(tmp_path / "good.json", claim("C1", [passing()]), claim("C3", [scaling(0.5)]))
    doc = json.loads(good.read_text())
    for name, (mutate, _) in RESULTS_MUTATIONS.items():
        bad = copy.deepcopy(doc)
        mutate(bad)
        (tmp_path / f"{name}.json").write_text(json.dumps(bad))
    (tmp_path / "not-json.json").write_text("{oops")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.chdir(tmp_path)
    return tmp_path


#: id → (argv, regex the one-line error must match).
CASES: dict[str, tuple[tuple[str, ...], str]] = {
    # ------------------------------------------------------------ general
    "no command": ((), r"the following arguments are required: command"),
    "unknown command": (("frobnicate",), r"argument command: invalid choice: 'frobnicate'"),
    "unknown option": (("plugins", "--frobnicate"), r"unrecognized arguments: --frobnicate"),
    "plugins extra": (("plugins", "extra"), r"unrecognized arguments: extra"),
    "claims extra": (("claims", "C1"), r"unrecognized arguments: C1"),
    "plugin missing": (
        ("--plugin", "no_such_module_xyz", "plugins"),
        r"cannot import plugin module 'no_such_module_xyz'",
    ),
    "plugin empty name": (("--plugin", "", "claims"), r"cannot import plugin module ''"),
    "plugin relative": (("--plugin", ".x", "claims"), r"cannot import plugin module '\.x'"),
    # ------------------------------------------------------------ train: sizes and numbers
    "unknown algorithm": (
        ("--algorithm", "nope"),
        r"unknown algorithm 'nope'; available: .*pppd",
    ),
    "N=1": (("--N", "1"), r"vocabulary size N must be at least 2, got N=1"),
    "N=0": (("--N", "0"), r"argument --N: expected a positive integer, got 0"),
    "N text": (("--N", "x"), r"argument --N: expected a positive integer, got 'x'"),
    "N 1.5": (("--N", "1.5"), r"argument --N: expected a positive integer, got '1\.5'"),
    "N 1e3": (("--N", "1e3"), r"argument --N: expected a positive integer, got '1e3'"),
    "N missing value": (("--N",), r"argument --N: expected one argument"),
    "T=0": (("--T", "0"), r"argument --T: expected a positive integer, got 0"),
    "Q=0": (("--Q", "0"), r"argument --Q: expected a positive integer, got 0"),
    "Q>T": (("--Q", "5"), r"sparsity Q must satisfy 1 <= Q <= T=4, got Q=5"),
    "batch 0": (("--batch", "0"), r"argument --batch: expected a positive integer, got 0"),
    "batch -3": (("--batch", "-3"), r"argument --batch: expected a positive integer, got -3"),
    "samples text": (("--samples", "x"), r"argument --samples: expected a positive integer"),
    "samples 10^12": (("--samples", "10^12"), r"argument --samples: expected a positive integer"),
    "samples<batch": (("--samples", "8"), r"samples \(8\) must be at least one batch \(16\)"),
    "concentration -1": (
        ("--concentration", "-1"),
        r"concentration must be a positive finite number, got -1",
    ),
    "concentration nan": (("--concentration", "nan"), r"positive finite number, got nan"),
    "concentration inf": (("--concentration", "inf"), r"positive finite number, got inf"),
    "concentration text": (("--concentration", "x"), r"argument --concentration: invalid float"),
    "support": (("--support", "diagonal"), r"argument --support: invalid choice: 'diagonal'"),
    "weights": (("--weights", "heavy"), r"argument --weights: invalid choice: 'heavy'"),
    "seed -1": (("--seed", "-1"), r"argument --seed: expected a non-negative integer, got -1"),
    "seed text": (("--seed", "x"), r"argument --seed: expected a non-negative integer"),
    "data-seed -5": (("--data-seed", "-5"), r"argument --data-seed: expected a non-negative"),
    "data-seed 1.5": (("--data-seed", "1.5"), r"argument --data-seed: expected a non-negative"),
    "dtype": (("--dtype", "float16"), r"argument --dtype: invalid choice: 'float16'"),
    "device cuda:99": (
        ("--device", "cuda:99"),
        r"--device 'cuda:99' is not available here",
    ),
    "device foo": (
        ("--device", "foo"),
        r"--device 'foo' is not available here; allowed: cpu",
    ),
    "device meta": (("--device", "meta"), r"--device 'meta' is not available here"),
    "threads 0": (("--threads", "0"), r"argument --threads: expected a positive integer, got 0"),
    "threads 100000": (("--threads", "100000"), r"argument --threads: expected 1\.\.\d+"),
    # ------------------------------------------------------------ train: --set
    "set without =": (("--set", "eta_A"), r"argument --set: expected KEY=VALUE, got 'eta_A'"),
    "set without key": (("--set", "=3"), r"argument --set: expected KEY=VALUE, got '=3'"),
    "set unknown": (("--set", "bogus=1"), r"pppd: unknown setting 'bogus'; allowed: variant, "),
    "set text for float": (
        ("--set", "eta_A=fast"),
        r"pppd: setting 'eta_A' must be a finite number, got 'fast'",
    ),
    "set nan": (("--set", "eta_A=nan"), r"setting 'eta_A' must be a finite number, got 'nan'"),
    "set inf": (("--set", "eta_A=inf"), r"setting 'eta_A' must be a finite number, got 'inf'"),
    "set -inf": (("--set", "decay=-inf"), r"setting 'decay' must be a finite number"),
    "set overflow": (("--set", "eta_A=1e400"), r"setting 'eta_A' must be a finite number"),
    "set zero step": (("--set", "eta_A=0"), r"pppd: setting 'eta_A' must be > 0, got 0\.0"),
    "set negative step": (("--set", "eta_V=-1"), r"pppd: setting 'eta_V' must be > 0"),
    "set negative decay": (("--set", "decay=-1"), r"pppd: .*decay must be >= 0"),
    "set variant": (("--set", "variant=3"), r"pppd: variant must be .*got '3'"),
    "set twice": (
        ("--set", "eta_A=1", "--set", "eta_A=2"),
        r"--set eta_A given twice \('1', '2'\); give it once",
    ),
    "sgd nan": (("--algorithm", "sgd", "--set", "lr=nan"), r"sgd: setting 'lr' must be a finite"),
    "sgd unknown": (
        ("--algorithm", "sgd", "--set", "eta_A=1"),
        r"sgd: unknown setting 'eta_A'; allowed: lr",
    ),
    "softmax optimizer": (
        ("--algorithm", "softmax", "--set", "optimizer=rmsprop"),
        r"softmax: optimizer must be 'adam' or 'sgd'",
    ),
    "softmax beta": (
        ("--algorithm", "softmax", "--set", "beta1=nan"),
        r"softmax: setting 'beta1' must be a finite number",
    ),
    "null setting": (("--algorithm", "null", "--set", "x=1"), r"null: unknown setting 'x'"),
    # ------------------------------------------------------------ train: --init files
    "init missing": (("--init", "missing.npz"), r"cannot read parameters from missing\.npz: no"),
    "init folder": (("--init", "folder"), r"from folder: not a regular file"),
    "init /dev/null": (("--init", "/dev/null"), r"from /dev/null: not a regular file"),
    "init empty name": (("--init", ""), r"cannot read parameters from : "),
    "init empty file": (("--init", "empty.npz"), r"cannot read parameters from empty\.npz"),
    "init not a zip": (("--init", "garbage.npz"), r"cannot read .*: File is not a zip file"),
    "init .npy": (("--init", "array.npy"), r"cannot read .*: not an \.npz archive"),
    "init results file": (("--init", "good.json"), r"cannot read parameters from good\.json"),
    "init without A": (("--init", "no_A.npz"), r"holds \['V'\]; expected V, A \(and meta\)"),
    "init extra key": (("--init", "extra.npz"), r"holds \['A', 'V', 'W'\]; expected V, A"),
    "init NaN": (("--init", "nan.npz"), r"nan\.npz: V has non-finite entries \(NaN or inf\)"),
    "init inf": (("--init", "inf.npz"), r"inf\.npz: A has non-finite entries"),
    "init text arrays": (("--init", "text.npz"), r"text\.npz: V holds <U1 values; expected real"),
    "init bool arrays": (("--init", "bool.npz"), r"bool\.npz: V holds bool values"),
    "init pickled": (("--init", "pickle.npz"), r"cannot read .*allow_pickle=False"),
    "init 1-D V": (("--init", "vector.npz"), r"expected V \(N×N\) and A \(T×N\), got \(3,\)"),
    "init mismatch": (("--init", "mismatch.npz"), r"expected V \(N×N\) and A \(T×N\)"),
    "init shapes": (
        ("--T", "5", "--init", "model.npz"),
        r"init parameters have V \(3, 3\), A \(4, 3\); the task needs V \(3, 3\) and A \(5, 3\)",
    ),
    # ------------------------------------------------------------ train: outputs
    "json folder": (("--json", "folder"), r"--json folder: is a folder; give a file path"),
    "save folder": (("--save", "folder"), r"--save folder: is a folder; give a file path"),
    "json = save = stdout": (("--json", "-", "--save", "-"), r"--save -: the same file as --json"),
    "json under a file": (
        ("--json", "model.npz/run.json"),
        r"--json model\.npz/run\.json: cannot create a file in model\.npz",
    ),
    "json = save": (
        ("--json", "out.x", "--save", "out.x"),
        r"--save out\.x: the same file as --json; give two different paths",
    ),
    # ------------------------------------------------------------ check
    "check jobs 0": (("check", "--jobs", "0"), r"argument --jobs: expected a positive integer"),
    "check jobs text": (("check", "--jobs", "x"), r"argument --jobs: expected a positive integer"),
    "check unknown claim": (("check", "C99"), r"unknown claim 'C99'; available: C1, C2"),
    "check budget": (("check", "--budget", "huge"), r"argument --budget: invalid choice: 'huge'"),
    "check executor": (("check", "--executor", "nope"), r"unknown executor 'nope'; available:"),
    "check algorithm": (("check", "--algorithm", "nope"), r"unknown algorithm 'nope'"),
    "check timeout -1": (("check", "--timeout", "-1"), r"--timeout: expected seconds > 0"),
    "check timeout 0": (("check", "--timeout", "0"), r"--timeout: expected seconds > 0"),
    "check timeout nan": (("check", "--timeout", "nan"), r"--timeout: expected seconds > 0"),
    "check timeout inf": (("check", "--timeout", "inf"), r"--timeout: expected seconds > 0"),
    "check timeout text": (("check", "--timeout", "x"), r"--timeout: expected seconds > 0"),
    "check job-timeout nan": (
        ("check", "--job-timeout", "nan"),
        r"argument --job-timeout: expected seconds > 0, got 'nan'",
    ),
    "check job-timeout -5": (("check", "--job-timeout", "-5"), r"--job-timeout: expected seconds"),
    "check json folder": (("check", "C1", "--json", "folder"), r"--json folder: is a folder"),
    "check json under a file": (
        ("check", "C1", "--json", "db-file/r.json"),
        r"cannot create a file in db-file",
    ),
    "check twice": (("check", "C1", "C1"), r"claim C1 named twice; name each claim once"),
    "check strict controls": (
        ("check", "--strict", "--controls"),
        r"--strict has no effect with --controls",
    ),
    # ------------------------------------------------------------ report
    "report no args": (("report",), r"the following arguments are required: RESULTS\.json, --out"),
    "report no out": (("report", "good.json"), r"the following arguments are required: --out"),
    "report missing": (("report", "missing.json", "--out", "rep"), r"missing\.json: no such file"),
    "report folder": (("report", "folder", "--out", "rep"), r"folder: cannot read it"),
    "report not json": (("report", "not-json.json", "--out", "rep"), r"not JSON \(Expecting"),
    "report binary": (("report", "binary.json", "--out", "rep"), r"binary\.json: cannot read it"),
    "report deep": (("report", "deep.json", "--out", "rep"), r"deep\.json: not JSON this reader"),
    "report list": (("report", "list.json", "--out", "rep"), r"not an scb-verify results file"),
    "report npz": (("report", "model.npz", "--out", "rep"), r"model\.npz: cannot read it"),
    "report out is a file": (
        ("report", "good.json", "--out", "model.npz"),
        r"--out model\.npz: exists and is not a folder",
    ),
    # ------------------------------------------------------------ diff
    "diff one file": (("diff", "good.json"), r"the following arguments are required: NEW\.json"),
    "diff missing old": (("diff", "missing.json", "good.json"), r"missing\.json: no such file"),
    "diff missing new": (("diff", "good.json", "missing.json"), r"missing\.json: no such file"),
    "diff not json": (("diff", "good.json", "not-json.json"), r"not-json\.json: not JSON"),
    # ------------------------------------------------------------ falsify
    "falsify nothing": (("falsify",), r"falsify: name a CLAIM or use --list; falsifiable: C1"),
    "falsify unknown": (("falsify", "C9"), r"'C9' is not a claim"),
    "falsify C3": (("falsify", "C3"), r"'C3' has no falsifier; falsifiable: C1, C2, C4, C5, C6"),
    "falsify examples 0": (("falsify", "C1", "--examples", "0"), r"expected a positive integer"),
    "falsify examples text": (("falsify", "C1", "--examples", "x"), r"expected a positive int"),
    "falsify seed -1": (("falsify", "C1", "--seed", "-1"), r"expected a non-negative integer"),
    "falsify budget": (("falsify", "C1", "--budget", "x"), r"argument --budget: invalid choice"),
    "falsify list replay": (
        ("falsify", "--list", "--replay", "{}"),
        r"falsify: --list and --replay exclude each other",
    ),
    "falsify list json": (("falsify", "--list", "--json", "x.json"), r"--list takes no --json"),
    "falsify replay merge": (
        ("falsify", "C1", "--replay", "{}", "--merge", "good.json"),
        r"falsify: --replay takes no --merge \(only a search does\)",
    ),
    "falsify replay examples": (
        ("falsify", "C1", "--replay", "{}", "--examples", "3"),
        r"--replay takes no --examples",
    ),
    "falsify db file": (("falsify", "C1", "--db", "db-file"), r"--db db-file: exists and is not"),
    "falsify json = merge": (
        ("falsify", "C1", "--json", "good.json", "--merge", "good.json"),
        r"--merge good\.json: the same file as --json",
    ),
    "falsify json folder": (("falsify", "C1", "--json", "folder"), r"--json folder: is a folder"),
    "falsify merge missing": (("falsify", "C1", "--merge", "missing.json"), r"no such file"),
    "falsify merge bad": (("falsify", "C1", "--merge", "id-int.json"), r"claims\[0\]\.id must"),
    "replay two claims": (("falsify", "C1", "C6", "--replay", "{}"), r"exactly one CLAIM"),
    "replay not json": (("falsify", "C1", "--replay", "{oops"), r"not JSON \(Expecting property"),
    "replay list": (("falsify", "C1", "--replay", "[1]"), r"must be a JSON object .*got \[1\]"),
    "replay NaN": (("falsify", "C1", "--replay", "NaN"), r"NaN is not allowed in an instance"),
    "replay empty": (("falsify", "C1", "--replay", "{}"), r"the instance lacks task, V, A"),
    "replay unknown key": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "extra", 1)),
        r"has unknown key\(s\) extra; allowed keys: task, V, A",
    ),
    "replay C1 task int": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "task", 3)),
        r"as make_task arguments: task must be an object.*as explicit arrays: task must be",
    ),
    "replay C1 N text": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "task.N", "3")),
        r"task\.N must be an integer in 2\.\.8, got \"3\"",
    ),
    "replay C1 N too big": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "task.N", 100000)),
        r"task\.N must be an integer in 2\.\.8, got 100000",
    ),
    "replay C1 Q>T": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "task.Q", 5)),
        r"task: sparsity Q must satisfy 1 <= Q <= T=4, got Q=5",
    ),
    "replay C1 support": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "task.support", "all")),
        r"task\.support must be one of \"random\", \"window\", \"shared\"",
    ),
    "replay C1 seed bool": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "task.seed", True)),
        r"task\.seed must be an integer in 0\.\.4294967295, got true",
    ),
    "replay C1 V shape": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "V", [[0.0, 0.0]] * 2)),
        r"V must be 3×3 and A 4×3 \(the task's N, T\), got 2×2 and 4×3",
    ),
    "replay C1 V ragged": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "V", [[0.0], [0.0, 1.0]])),
        r"V must be a matrix \(list of equal-length lists\)",
    ),
    "replay C1 V range": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "V", [[9.0] * 3] * 3)),
        r"V must be a matrix .* in \[-2, 2\], got",
    ),
    "replay C1 A infeasible": (
        ("falsify", "C1", "--replay", _with(C1_INSTANCE, "A", [[0.5] * 3] * 4)),
        r"A must be feasible \(every column summing to 1\)",
    ),
    "replay C1 P not stochastic": (
        (
            "falsify",
            "C1",
            "--replay",
            _with(C1_INSTANCE, "task", {"P": [[0.5, 0.5], [0.6, 0.5]], "Qstar": [[1, 1]], "Q": 1}),
        ),
        r"as explicit arrays: task: ",
    ),
    "replay C2 samples": (
        (
            "falsify",
            "C2",
            "--replay",
            json.dumps({"task": {"N": 3, "T": 4, "seed": 0, "concentration": 0.5}, "samples": -5}),
        ),
        r"the instance lacks seed; allowed keys: task, samples, seed",
    ),
    "replay C2 samples value": (
        (
            "falsify",
            "C2",
            "--replay",
            json.dumps(
                {
                    "task": {"N": 3, "T": 4, "seed": 0, "concentration": 0.5},
                    "samples": 1024.5,
                    "seed": 0,
                }
            ),
        ),
        r"samples must be one of 1024, 2048, 4096, got 1024\.5",
    ),
    "replay C2 concentration": (
        (
            "falsify",
            "C2",
            "--replay",
            json.dumps(
                {
                    "task": {"N": 3, "T": 4, "seed": 0, "concentration": 2},
                    "samples": 1024,
                    "seed": 0,
                }
            ),
        ),
        r"task\.concentration must be one of 0\.5, got 2",
    ),
    "replay C2 runaway budget": (
        (
            "falsify",
            "C2",
            "--replay",
            json.dumps(
                {
                    "task": {"N": 3, "T": 4, "seed": 0, "concentration": 0.5},
                    "samples": 10**12,
                    "seed": 0,
                }
            ),
        ),
        r"samples must be one of 1024, 2048, 4096, got 1000000000000",
    ),
    "replay C4 data_seeds": (
        (
            "falsify",
            "C4",
            "--replay",
            json.dumps({"task": C4_TASK, "seed": 0, "data_seeds": ["a"]}),
        ),
        r"data_seeds must be a list of 1\.\.1000 integers",
    ),
    "replay C4 T": (
        ("falsify", "C4", "--replay", json.dumps({"task": {**C4_TASK, "T": 4}, "seed": 0})),
        r"task\.T must be an integer in 8\.\.64, got 4",
    ),
    "replay C4 N": (
        ("falsify", "C4", "--replay", json.dumps({"task": {**C4_TASK, "N": 50}, "seed": 0})),
        r"task\.N must be one of \d+, got 50",
    ),
    "replay C5 perturb": (
        (
            "falsify",
            "C5",
            "--replay",
            json.dumps({"task": C5_TASK, "perturb_P": True, "seed": 0}),
        ),
        r"perturb_P must be one of 0\.0, 0\.1, got true",
    ),
    "replay C6 m": (
        (
            "falsify",
            "C6",
            "--replay",
            json.dumps({"task": C4_TASK, "m": 1, "delta": 0.1, "seed": 0}),
        ),
        r"the instance's class|task\.seed must be one of|m must be one of",
    ),
    "replay C6 delta": (
        ("falsify", "C6", "--replay", json.dumps({"task": {}, "m": 16, "delta": 2, "seed": 0})),
        r"task lacks N, T, Q, seed",
    ),
}
# A case that starts with an option (other than --plugin) is a train case.
CASES = {
    key: (
        (*TRAIN, *argv) if argv[:1] and argv[0][:2] == "--" and argv[0] != "--plugin" else argv,
        msg,
    )
    for key, (argv, msg) in CASES.items()
}
for _name, (_mutate, _message) in RESULTS_MUTATIONS.items():
    CASES[f"report {_name}"] = (("report", f"{_name}.json", "--out", "rep"), _message)
    CASES[f"diff {_name}"] = (("diff", "good.json", f"{_name}.json"), _message)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a digest of its content."""
    out = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        out[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def assert_one_line_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 2, (code, out, err)
    assert out == "", out
    assert re.match(r"scb-verify( \w+)?: error: ", err) and err.count("\n") == 1, err
    assert err.count("error:") == 1, err
    assert "Traceback" not in err
    assert re.search(message, err), err


@pytest.mark.parametrize(("argv", "message"), list(CASES.values()), ids=list(CASES))
def test_bad_input_is_a_one_line_error_and_changes_nothing(cli, workspace, argv, message):
    before = snapshot(workspace)
    code, out, err = cli(*argv)
    assert_one_line_error(code, out, err, message)
    assert snapshot(workspace) == before


def test_the_table_covers_every_command():
    commands = {"train", "plugins", "claims", "check", "report", "diff", "falsify"}
    named = [next((a for a in argv if a in commands), None) for argv, _ in CASES.values()]
    tally = {c: named.count(c) for c in commands}
    assert len(CASES) >= 100 and all(n >= 2 for n in tally.values()), tally


PLUGINS = {
    "import raises": ("raise RuntimeError('boom at import')", r"cannot import plugin .*boom"),
    "import exits": ("import sys\nsys.exit(3)", r"cannot import plugin module .*: 3"),
    "hook raises": (
        "@hookimpl\ndef register_algorithms():\n    raise ValueError('hook broke')",
        r"register_algorithms raised ValueError: hook broke",
    ),
    "hook returns int": (
        "@hookimpl\ndef register_claims():\n    return 3",
        r"register_claims returned 3, not a list",
    ),
    "hook returns junk": (
        "@hookimpl\ndef register_algorithms():\n    return ['pppd']",
        r"register_algorithms returned 'pppd', not a Algorithm",
    ),
    "duplicate name": (
        "from plugins.pppd import PPPD\n@hookimpl\ndef register_algorithms():\n    return [PPPD()]",
        r"algorithm 'pppd' is registered twice",
    ),
}


@pytest.mark.parametrize("command", ["plugins", "claims", "train"])
@pytest.mark.parametrize(("source", "message"), list(PLUGINS.values()), ids=list(PLUGINS))
def test_a_broken_plugin_is_a_one_line_error(
    cli, plugin_module, tmp_path, command, source, message
):
    name = plugin_module("from scb_verify.hookspecs import hookimpl\n" + source)
    before = snapshot(tmp_path)
    argv = ["--plugin", name, command] + (list(TRAIN[1:]) if command == "train" else [])
    assert_one_line_error(*cli(*argv), message)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "case", ["set nan", "init NaN", "report slope-string", "replay C1 N text", "check twice"]
)
def test_the_console_script_behaves_the_same(workspace, case):
    argv, message = CASES[case]
    before = snapshot(workspace)
    proc = subprocess.run(
        [shutil.which("scb-verify"), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, message)
    assert snapshot(workspace) == before
