"""``scb-verify train``: the JSON record, finetuning from a saved model, and one-line usage errors
(exit code 2, no traceback). In-process through ``cli.main``, plus one run of the real script."""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from scb_verify.learner import Params
from scb_verify.task import make_task

TINY = ("--N", 3, "--T", 4, "--Q", 2, "--batch", 16, "--quiet")
FINAL = {"correlation", "dist_V", "dist_A", "excess_risk"}


def assert_train_record(doc: dict, *, seed: int, samples: int, batch: int = 16) -> None:
    assert doc["kind"] == "train" and doc["status"] == "completed"
    assert doc["task"] == make_task(3, 4, 2, seed=seed).describe()
    assert doc["seed"] == seed and doc["batch"] == batch and doc["samples"] == samples
    assert set(doc["final"]) >= FINAL
    traj = doc["trajectory"]
    assert len({len(v) for v in traj.values()}) == 1 and traj["samples"][-1] == samples
    assert {k: traj[k][-1] for k in FINAL} == {k: doc["final"][k] for k in FINAL}
    assert "scb-verify" in doc["versions"]


def test_train_writes_a_json_record(cli, tmp_path, registry):
    path = tmp_path / "new" / "run.json"  # missing folders are created
    code, out, err = cli(
        "train", *TINY, "--seed", 7, "--samples", 160, "--set", "eta_A=0.3", "--json", path
    )
    assert code == 0 and err == "", err
    doc = json.loads(path.read_text())
    assert_train_record(doc, seed=7, samples=160)
    assert doc["algorithm"] == "pppd" and doc["steps"] == 10
    assert doc["settings"] == {**registry.algorithm("pppd").defaults, "eta_A": 0.3}
    header, _, row = out.splitlines()[:3]
    assert header.split()[:3] == ["algorithm", "status", "samples"]
    assert row.split()[:3] == ["pppd", "completed", "160"]


def test_data_seed_varies_the_samples_on_the_same_task(cli, tmp_path):
    docs = []
    for i, extra in enumerate(([], ["--data-seed", 7], ["--data-seed", 8])):
        path = tmp_path / f"run{i}.json"
        assert cli("train", *TINY, "--seed", 7, "--samples", 160, *extra, "--json", path)[0] == 0
        docs.append(json.loads(path.read_text()))
    assert docs[0]["task"] == docs[1]["task"] == docs[2]["task"]
    assert docs[0]["seed"] == docs[1]["seed"] == 7 and docs[2]["seed"] == 8
    assert docs[0]["final"] == docs[1]["final"] != docs[2]["final"]


def test_save_then_init_finetunes_from_the_saved_model(cli, tmp_path):
    model, pre, fine = tmp_path / "model.npz", tmp_path / "pre.json", tmp_path / "fine.json"
    assert cli("train", *TINY, "--samples", 320, "--save", model, "--json", pre)[0] == 0
    saved = Params.load(model)
    assert saved.V.shape == (3, 3) and saved.A.shape == (4, 3)
    code, _, err = cli("train", *TINY, "--samples", 16, "--init", model, "--json", fine)
    assert code == 0, err
    pre_doc, fine_doc = (json.loads(p.read_text()) for p in (pre, fine))
    start = {k: v[0] for k, v in fine_doc["trajectory"].items() if k in FINAL}
    assert start == {k: pre_doc["final"][k] for k in FINAL}  # step 0 is the saved model
    assert start["correlation"] != pre_doc["trajectory"]["correlation"][0]  # not uniform


def test_the_console_script_runs(tmp_path):
    path = tmp_path / "run.json"
    proc = subprocess.run(
        [shutil.which("scb-verify"), "train", *map(str, TINY), "--samples", "64", "--json", path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert_train_record(json.loads(path.read_text()), seed=0, samples=64)
    assert "pppd" in proc.stdout


@pytest.fixture
def init_files(tmp_path):
    """Parameter files for --init: a valid N=3, T=4 model and malformed ones."""
    Params(np.zeros((3, 3)), np.full((4, 3), 0.25)).save(tmp_path / "model.npz")
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 not really a zip")
    np.save(tmp_path / "array.npy", np.zeros((3, 3)))
    np.savez(tmp_path / "no_A.npz", V=np.zeros((3, 3)))
    return tmp_path


#: id → (arguments, regex the one-line error must match); "{tmp}" is the init_files folder.
BAD_ARGUMENTS = {
    "unknown algorithm": (
        ("train", "--algorithm", "nope"),
        r"unknown algorithm 'nope'; available: .*pppd",
    ),
    "N=1": (("train", "--N", "1"), r"vocabulary size N must be at least 2, got N=1"),
    "Q>T": (("train", "--T", "4", "--Q", "5"), r"sparsity Q must satisfy 1 <= Q <= T=4, got Q=5"),
    "batch 0": (("train", "--batch", "0"), r"argument --batch: expected a positive integer, got 0"),
    "samples x": (("train", "--samples", "x"), r"argument --samples: expected a positive integer"),
    "samples<batch": (
        ("train", "--samples", "8"),
        r"samples \(8\) must be at least one batch \(256\)",
    ),
    "--set without =": (
        ("train", "--set", "eta_A"),
        r"argument --set: expected KEY=VALUE, got 'eta_A'",
    ),
    "unknown setting": (
        ("train", "--set", "bogus=1"),
        r"pppd: unknown setting 'bogus'; allowed: variant, ",
    ),
    "setting type": (
        ("train", "--set", "eta_A=fast"),
        r"setting 'eta_A' must be float, got 'fast'",
    ),
    "concentration": (
        ("train", "--concentration", "-1"),
        r"concentration must be a positive finite number",
    ),
    "support": (
        ("train", "--support", "diagonal"),
        r"argument --support: invalid choice: 'diagonal'",
    ),
    "init missing": (
        ("train", "--init", "{tmp}/missing.npz"),
        r"cannot read parameters from .*missing\.npz",
    ),
    "init not a zip": (
        ("train", "--init", "{tmp}/garbage.npz"),
        r"cannot read .*: File is not a zip file",
    ),
    "init .npy": (("train", "--init", "{tmp}/array.npy"), r"cannot read .*: not an \.npz archive"),
    "init without A": (
        ("train", "--init", "{tmp}/no_A.npz"),
        r"cannot read parameters from .*no_A\.npz",
    ),
    "init shapes": (
        ("train", "--T", "5", "--init", "{tmp}/model.npz"),
        r"init parameters have V \(3, 3\), A \(4, 3\); the task needs V \(3, 3\) and "
        r"A \(5, 3\)",
    ),
    "unknown command": (("frobnicate",), r"argument command: invalid choice: 'frobnicate'"),
    "no command": ((), r"the following arguments are required: command"),
}


@pytest.mark.parametrize(("args", "message"), list(BAD_ARGUMENTS.values()), ids=list(BAD_ARGUMENTS))
def test_bad_arguments_are_one_line_errors_with_exit_code_2(cli, init_files, args, message):
    base = ("--N", "3", "--T", "4", "--Q", "2", "--quiet") if args[:1] == ("train",) else ()
    argv = [a.format(tmp=init_files) for a in args[:1] + base + args[1:]]
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert err.startswith("scb-verify: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert re.search(message, err), err
