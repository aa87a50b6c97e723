"""``scb-verify train``: the JSON record and finetuning from a saved model (bad input to every
command: test_bad_input.py). In-process through ``cli.main``, plus one run of the real script."""

import json
import shutil
import subprocess

from scb_verify.runs import Params
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
