"""Command-line conventions: ``--version``, ``-q``, ``-`` as standard output, outputs written
atomically only to regular files (devices, pipes and links are left in place) with the umask's
permissions, distinct exit codes, one clean line per error."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

import scb_verify
from scb_verify.cli import EXIT_CODES, EXIT_ERRORED, EXIT_USAGE, EXIT_VIOLATED, main
from scb_verify.provenance import write_atomic, write_json_atomic
from scb_verify.runs import Params

TINY = ("--N", 3, "--T", 4, "--Q", 2, "--batch", 16, "--samples", 64)

PLUGIN = """
from scb_verify.claim import Claim, ClaimOutcome
from scb_verify.hookspecs import hookimpl
from scb_verify.verdict import CheckResult


class Fixed(Claim):
    title = "a claim with a fixed outcome"
    paper = "-"
    statement = "none"
    control = "none"

    def __init__(self, claim_id, status):
        self.id, self.status = claim_id, status

    def measure(self, ctx):
        if self.status == "raise":
            raise RuntimeError("broken on purpose")
        return ClaimOutcome(checks=[CheckResult("threshold", self.status, self.status, {})])
        yield


@hookimpl
def register_claims():
    return [Fixed("XH", "holds"), Fixed("XV", "violated"), Fixed("XU", "unreached"),
            Fixed("XE", "raise")]
"""


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_umask_mode_and_no_temporary_file_is_left(tmp_path, umask_022):
    path = tmp_path / "sub" / "out.json"
    write_json_atomic(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert mode(path) == 0o644
    assert os.listdir(path.parent) == ["out.json"]


def test_a_replaced_file_keeps_its_mode(tmp_path, umask_022):
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o640)
    inode = os.stat(path).st_ino
    write_atomic(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o640
    assert os.stat(path).st_ino != inode  # replaced by a rename, not rewritten in place


def test_a_symlink_stays_and_its_target_is_replaced(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


@pytest.mark.parametrize("through_link", [False, True])
def test_a_pipe_is_written_directly_and_stays_a_pipe(tmp_path, through_link):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    path = fifo
    if through_link:  # like /dev/stdout → /proc/self/fd/1
        path = tmp_path / "stdout"
        path.symlink_to(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_atomic(path, "through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert not through_link or path.is_symlink()
    assert sorted(os.listdir(tmp_path)) == sorted({"fifo", path.name})


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"scb-verify {scb_verify.__version__}\n"


def test_json_dash_is_stdout_and_the_table_goes_to_stderr(cli, tmp_path):
    code, out, err = cli("check", "C1", "-q", "--jobs", "1", "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert [c["id"] for c in doc["claims"]] == ["C1"]
    assert "verdict" in err and not (tmp_path / "-").exists() and not os.path.exists("-")


def test_a_stream_gets_one_document_though_check_rewrites_files_as_claims_finish(
    cli, plugin_module
):
    mod = plugin_module(PLUGIN)
    code, out, err = cli("--plugin", mod, "check", "XH", "XV", "-q", "--jobs", "1", "--json", "-")
    assert code == EXIT_VIOLATED, err
    doc = json.loads(out)  # one document, not one per finished claim
    assert [c["id"] for c in doc["claims"]] == ["XH", "XV"] and doc["complete"] is True


def test_train_json_and_save_dash(cli):
    code, out, err = cli("train", *TINY, "-q", "--json", "-")
    assert code == 0, err
    assert json.loads(out)["kind"] == "train" and "dist_V" in err

    code, _, err = cli("train", *TINY, "-q", "--json", "/dev/null")
    assert code == 0, err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # written to, not replaced


def test_save_is_atomic_and_loadable(cli, tmp_path):
    path = tmp_path / "model.npz"
    code, _, err = cli("train", *TINY, "-q", "--save", path)
    assert code == 0, err
    assert Params.load(path).V.shape == (3, 3) and os.listdir(tmp_path) == ["model.npz"]


def test_a_usage_error_is_one_line_naming_the_subcommand_once(cli):
    code, out, err = cli("check", "--budget", "nope")
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and err.count("error:") == 1
    assert err.startswith("scb-verify check: error: argument --budget: invalid choice: 'nope'")


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (["XH"], 0),
        (["XH", "XV"], EXIT_VIOLATED),
        (["XH", "XU"], EXIT_VIOLATED),  # not reached within the budget asked for: not good
        (["XV", "XE"], EXIT_ERRORED),
        (["XU", "XE"], EXIT_ERRORED),
    ],
)
def test_violated_and_errored_claims_have_their_own_exit_codes(
    cli, plugin_module, claims, expected
):
    mod = plugin_module(PLUGIN)
    code, out, err = cli("--plugin", mod, "check", *claims, "-q", "--jobs", "1")
    assert code == expected, out + err
    assert ("broken on purpose" in out) == ("XE" in claims)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [(["XV", "XU"], 0), (["XU", "XH"], EXIT_VIOLATED)],
)
def test_a_control_is_good_when_violated_or_unreached(cli, plugin_module, claims, expected):
    # Fixed ignores ctx.control: each control comes out as the claim does.
    mod = plugin_module(PLUGIN)
    code, out, err = cli("--plugin", mod, "check", *claims, "--controls", "-q", "--jobs", "1")
    assert code == expected, out + err
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("X")}
    assert "unreached (ok)" in rows["XU"]
    assert ("CHECK CANNOT FAIL?" in rows.get("XH", "")) == ("XH" in claims)


def test_the_exit_codes_are_distinct_and_in_the_help(capsys):
    assert sorted(EXIT_CODES) == [0, EXIT_VIOLATED, EXIT_USAGE, EXIT_ERRORED] == [0, 1, 2, 3]
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(f"{code} {' '.join(what.split())}" in text for code, what in EXIT_CODES.items())
