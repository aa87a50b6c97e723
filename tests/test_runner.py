"""The runner under crashes, hangs and kills (issue 15): a job whose worker dies or overruns
costs only its own claim, deadlines stop the work, and the results file keeps every verdict
reached when ``check`` itself is killed.

The misbehaving algorithms and claims are an ordinary plugin module (``--plugin``), run beside
the real claims C1 (measured in the driver) and C8 (training jobs in the pool) at ``--jobs 2``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from scb_verify.cli import EXIT_ERRORED
from scb_verify.records import ClaimRun
from scb_verify.schema import load_results
from scb_verify.verdict import Status

PLUGIN = '''
import os, signal, time
from pathlib import Path

from scb_verify.checks import threshold_check
from scb_verify.claim import Claim, ClaimOutcome, Job
from scb_verify.hookspecs import hookimpl
from scb_verify.runs import RunSpec
from scb_verify.plugins.null import Null
from scb_verify.task import make_task


def note_pid():
    """Append this worker's pid to $SCB_TEST_PIDS (the test checks it is gone afterwards)."""
    with open(os.environ["SCB_TEST_PIDS"], "a") as f:
        f.write(f"{os.getpid()}\\n")


class Sigkill(Null):
    name, summary = "test-sigkill", "kills its own worker with SIGKILL at step 3"

    def step(self, state, batch, t, settings):
        if t == 3:
            os.kill(os.getpid(), signal.SIGKILL)


class Exits(Null):
    name, summary = "test-exit", "ends its worker with os._exit(3) at step 3"

    def step(self, state, batch, t, settings):
        if t == 3:
            os._exit(3)


class Hangs(Null):
    name, summary = "test-hang", "never returns from step 3"

    def step(self, state, batch, t, settings):
        if t == 3:
            note_pid()
            time.sleep(3600)


class Trains(Claim):
    """One job of one tiny run with the algorithm named by the claim."""

    title = paper = statement = control = "test"

    def __init__(self, claim_id, algorithm):
        self.id, self.algorithm = claim_id, algorithm

    def measure(self, ctx):
        spec = RunSpec(task=make_task(3, 4, 1, seed=0), batch=8, samples=8 * 20, record_points=4)
        yield [Job(ctx.algorithm, (spec,), label="doomed")]
        return ClaimOutcome(checks=[threshold_check([0.0, 0.0], 1.0, direction="<=")])


class Waits(Trains):
    """Trains as Trains does, after 5 s in its measurement: its job is submitted after the
    other claims' first jobs."""

    def measure(self, ctx):
        time.sleep(5)
        return (yield from super().measure(ctx))


class HangsInMeasure(Claim):
    id, title, paper, statement, control = "XMEASURE", "test", "test", "test", "test"

    def measure(self, ctx):
        time.sleep(3600)
        yield []


class SpinsInTorch(Claim):
    """Measures for ever inside torch's C++ code (a matrix product releases the GIL)."""

    id, title, paper, statement, control = "XSPIN", "test", "test", "test", "test"

    def measure(self, ctx):
        import torch

        x = torch.randn(400, 400)
        while True:
            x @ x
        yield []


@hookimpl
def register_algorithms():
    return [Sigkill(), Exits(), Hangs()]


@hookimpl
def register_claims():
    return [
        Trains("XKILL", "test-sigkill"),
        Trains("XEXIT", "test-exit"),
        Trains("XHANG", "test-hang"),
        Waits("XLATE", "null"),
        HangsInMeasure(),
        SpinsInTorch(),
    ]
'''


@pytest.fixture
def misbehaving(plugin_module, tmp_path, monkeypatch):
    """The plugin module's name; $SCB_TEST_PIDS collects the pids of hung workers."""
    monkeypatch.setenv("SCB_TEST_PIDS", str(tmp_path / "pids"))
    return plugin_module(PLUGIN)


def command(plugin: str, *args: str) -> list[str]:
    return [shutil.which("scb-verify"), "--plugin", plugin, "check", "--budget", "smoke", *args]


def check(plugin: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(plugin, *args), capture_output=True, text=True, timeout=300, cwd=cwd
    )


def kill_9_when(ready, plugin: str, *args: str, cwd: Path) -> None:
    """Run check with ``args`` in ``cwd`` and SIGKILL it (only it, not its workers) once
    ``ready()``."""
    proc = subprocess.Popen(
        command(plugin, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd
    )
    try:
        deadline = time.monotonic() + 240
        while not ready() and time.monotonic() < deadline:
            assert proc.poll() is None, "check ended before it was killed"
            time.sleep(0.2)
        assert ready()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()


def claims_of(path: Path) -> dict[str, ClaimRun]:
    return load_results(path).by_key()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie has exited
        return f.read().split()[2] != "Z"


def hung_pids(tmp_path: Path) -> list[int]:
    path = tmp_path / "pids"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_dying_worker_costs_only_its_own_claim(misbehaving, tmp_path, jobs):
    """With one worker too: the pool starts a new one for the jobs after the death."""
    out = tmp_path / "r.json"
    res = check(
        misbehaving, "C1", "XKILL", "C8", "XEXIT", "--jobs", jobs, "--json", str(out), cwd=tmp_path
    )
    assert res.returncode == EXIT_ERRORED, res.stderr
    assert "Traceback" not in res.stderr
    assert load_results(out).complete is True
    claims = claims_of(out)
    assert list(claims) == ["C1", "XKILL", "C8", "XEXIT"]
    assert claims["XKILL"].status is Status.ERROR
    died = "job 0 (doomed): worker process died"
    assert claims["XKILL"].error == f"{died} (killed by signal SIGKILL)"
    assert claims["XEXIT"].error == f"{died} (exit code 3)"
    for real in ("C1", "C8"):
        assert claims[real].status is Status.HOLDS, claims[real].error
        assert claims[real].checks and claims[real].error is None
    assert claims["C8"].runs > 0


def test_deadlines_stop_the_work_and_the_rest_goes_on(misbehaving, tmp_path):
    """The job deadline (10 s from the job's start) stops XHANG before the claim deadline
    (120 s, generous: a loaded machine may take tens of seconds to start a worker); XMEASURE
    hangs in its own measurement and is stopped at the claim deadline. Asserted by what
    happened and in what order, not by how many seconds it took."""
    out = tmp_path / "r.json"
    res = check(
        misbehaving,
        *("C1", "XMEASURE", "XHANG", "--jobs", "2", "--timeout", "120", "--job-timeout", "10"),
        *("--json", str(out)),
        cwd=tmp_path,
    )
    assert res.returncode == EXIT_ERRORED, res.stderr
    claims = claims_of(out)
    assert claims["C1"].status is Status.HOLDS
    assert claims["XMEASURE"].error == "timed out after 120 s"
    assert claims["XHANG"].error == "job 0 (doomed) timed out after 10 s"
    # stopped at its job's deadline, before its claim's
    assert claims["XHANG"].wall_time < claims["XMEASURE"].wall_time
    [pid] = hung_pids(tmp_path)
    assert not alive(pid), "the timed-out job's worker was not stopped"


def test_with_one_worker_a_hung_job_costs_only_its_own_claim(misbehaving, tmp_path):
    """--jobs 1 (issue 24: the serial executor let a hung job make the claim queued behind it
    an error): XHANG's job holds the only worker until XHANG's claim deadline (45 s); XLATE's
    job, submitted 5 s later, waits behind it without spending XLATE's own deadline (also
    45 s), and XLATE holds."""
    out = tmp_path / "r.json"
    res = check(
        misbehaving, "XHANG", "XLATE", "--jobs", "1", "--timeout", "45", "--json", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == EXIT_ERRORED, res.stderr
    claims = claims_of(out)
    assert claims["XHANG"].error == "timed out after 45 s"
    assert claims["XLATE"].status is Status.HOLDS, claims["XLATE"].error
    assert claims["XLATE"].wall_time > 45  # it waited behind XHANG past its own deadline
    [pid] = hung_pids(tmp_path)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "the timed-out claim's worker was not stopped"


def test_kill_9_of_check_keeps_the_verdicts_reached(misbehaving, tmp_path):
    out = tmp_path / "r.json"
    kill_9_when(
        lambda: hung_pids(tmp_path) and out.exists(),
        *(misbehaving, "C1", "XHANG", "--jobs", "2", "--json", str(out)),
        cwd=tmp_path,
    )
    doc = load_results(out)
    assert doc.complete is False
    assert [(c.id, c.status) for c in doc.claims] == [("C1", Status.HOLDS)]
    [pid] = hung_pids(tmp_path)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "a worker outlived check"


def test_kill_9_before_any_verdict_leaves_the_old_results_file_intact(misbehaving, tmp_path):
    out = tmp_path / "r.json"
    old = '{"not": "touched"}\n'
    out.write_text(old)
    kill_9_when(
        lambda: hung_pids(tmp_path),
        *(misbehaving, "XHANG", "--jobs", "2", "--json", str(out)),
        cwd=tmp_path,
    )
    assert out.read_text() == old
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.json")] == []


def test_an_address_needs_the_ray_executor(cli):
    code, _, err = cli("check", "C1", "--address", "127.0.0.1:1", "--no-cache")
    assert (code, err.strip()) == (
        2,
        "scb-verify: error: an address is for the ray executor, not 'local'",
    )


@pytest.mark.parametrize(
    ("sig", "group", "code", "said"),
    [
        (signal.SIGTERM, False, 143, "scb-verify: terminated"),
        (signal.SIGINT, True, 130, "scb-verify: interrupted"),  # Ctrl-C: the whole group
    ],
)
def test_a_signal_ends_the_run_cleanly(misbehaving, tmp_path, sig, group, code, said):
    """SIGTERM to check, or SIGINT to its process group as a terminal's Ctrl-C sends it: the
    run ends with its own exit code and one line, no traceback and no leaked-semaphore
    warning; the verdict reached is kept and the hung job's worker is gone."""
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        command(misbehaving, "C1", "XHANG", "--jobs", "2", "-q", "--json", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,  # its own process group, as a shell job has
    )
    try:
        deadline = time.monotonic() + 240
        while not (hung_pids(tmp_path) and out.exists()) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == said, err
    assert "Traceback" not in err and "leaked" not in err, err
    assert [(c.id, c.status) for c in load_results(out).claims] == [("C1", Status.HOLDS)]
    [pid] = hung_pids(tmp_path)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "a worker outlived check"


def test_workers_are_capped_at_what_the_memory_holds(monkeypatch):
    from scb_verify import session

    monkeypatch.setattr(session, "cores", lambda: 64)
    workers = session.worker_count(8, executor="local", memory=3 * session.WORKER_BYTES)
    assert workers.count == 3
    assert (
        workers.note
        == "--jobs 8 capped at 3, what its available memory (1.5 GiB) holds at 512 MiB a worker"
    )
    assert session.worker_count(8, executor="local", memory=1).count == 1  # never none
    assert session.worker_count(8, executor="local", memory=2**40).count == 8
    assert session.worker_count(100, executor="local", memory=2**40).note.endswith(
        "capped at 64, the cores this machine has"
    )
    assert session.worker_count(100, executor="ray", memory=1).count == 100  # a cluster's own


def test_workers_are_capped_at_the_cores(cli):
    from scb_verify.session import cores

    for asked in ("1000", "1000000000"):
        code, _, err = cli("check", "C1", "--jobs", asked, "-q", "--no-cache")
        assert code == 0, err
        assert f"--jobs {asked} capped at {cores()}, the cores this machine has" in err


def test_a_run_with_nothing_to_run_is_a_usage_error(cli):
    code, out, err = cli("check", "C1", "--algorithm", "sgd", "--no-cache")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "scb-verify: error: nothing to run: C1 trains nothing: not run with --algorithm sgd"
    )


@pytest.fixture
def on_ray(misbehaving, tmp_path, monkeypatch):
    """Runs ``check --executor ray --jobs 2 --no-cache *args`` on a real local Ray instance
    (the misbehaving plugin loaded) and returns its claims, once it has ended as a run with an
    errored claim does, without a traceback."""
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    out = tmp_path / "r.json"

    def run(*args: str) -> dict:
        ray = ("--executor", "ray", "--jobs", "2", "--no-cache", "--json", str(out))
        res = subprocess.run(
            command(misbehaving, *args, *ray),
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
        assert res.returncode == EXIT_ERRORED, res.stderr
        assert "Traceback" not in res.stderr
        return claims_of(out)

    return run


def test_a_step_abandoned_inside_torch_does_not_abort_the_exit(misbehaving, tmp_path):
    """A measurement stopped at its claim's deadline while its thread runs torch's C++ code:
    check ends with its exit code. Left to the interpreter's finalization, the thread was
    ended by ``pthread_exit`` inside C++ frames and the process aborted (SIGABRT, "terminate
    called without an active exception")."""
    out = tmp_path / "r.json"
    res = check(misbehaving, "XSPIN", "--timeout", "3", "--json", str(out), cwd=tmp_path)
    assert (res.returncode, "terminate called" in res.stderr) == (EXIT_ERRORED, False)
    assert claims_of(out)["XSPIN"].error == "timed out after 3 s"


def test_on_ray_a_dying_job_costs_only_its_own_claim(on_ray):
    """The isolation table against the Ray executor: a worker killed by a signal or ending
    itself fails its claim once Ray's retries are spent, named as a worker's death; C1 and C8
    hold. No deadline is set (the budget's applies): every crash starts a new Ray worker,
    which took minutes on 2 cores under a load of 6, and a deadline here would measure that."""
    claims = on_ray("C1", "XKILL", "C8", "XEXIT")
    for real in ("C1", "C8"):
        assert claims[real].status is Status.HOLDS, claims[real].error
    died = "job 0 (doomed): worker process died (Ray: the worker crashed 4 times)"
    assert claims["XKILL"].error == died
    assert claims["XEXIT"].error == died


def test_on_ray_a_hung_job_stops_at_its_claim_deadline(on_ray, tmp_path):
    """A hung job and a hung measurement stop at the claim deadline (Ray does not report when
    a task starts, so the per-job deadline does not apply there; the deadline counts queue
    time) and the hung worker is gone; C1 holds on the other Ray CPU."""
    claims = on_ray("C1", "XHANG", "XMEASURE", "--timeout", "90")
    assert claims["C1"].status is Status.HOLDS, claims["C1"].error
    assert claims["XHANG"].error == "timed out after 90 s"
    assert claims["XMEASURE"].error == "timed out after 90 s"
    pids = hung_pids(tmp_path)
    assert pids, "XHANG's job never started: the test checked no hung worker"
    for pid in pids:  # one per attempt Ray made before the deadline
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(pid), "a hung Ray worker outlived check"


def test_ctrl_c_while_the_workers_start_is_clean(misbehaving, tmp_path):
    """Ctrl-C (SIGINT to the process group) at several moments of the first seconds, while the
    workers are still importing: each run ends with 130 and one line, never a worker's
    KeyboardInterrupt traceback (before the fix, about 3 of 11 such moments printed one) and
    never a hang. The moments are spread over the start-up; none is asserted to be inside it."""
    for delay in (1.0, 1.75, 2.5, 3.0, 3.5, 4.0):
        proc = subprocess.Popen(
            command(misbehaving, "C1", "XHANG", "--jobs", "2", "-q", "--no-cache"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            start_new_session=True,
        )
        try:
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        assert proc.returncode == 130, (delay, err)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, (delay, err)
        assert err.strip().splitlines()[-1] == "scb-verify: interrupted", (delay, err)
    deadline = time.monotonic() + 30
    while any(alive(p) for p in hung_pids(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in hung_pids(tmp_path)), "a worker outlived check"


NOT_JSON = """
from scb_verify.checks import threshold_check
from scb_verify.claim import Claim, ClaimOutcome
from scb_verify.hookspecs import hookimpl


def circular():
    me = {}
    me["me"] = me
    return me


#: claim id -> (the outcome's field that cannot be JSON, a function that makes it)
KINDS = {
    "XOBJECT": ("measurements", lambda: {"x": object()}),
    "XSET": ("measurements", lambda: {"x": {1, 2}}),
    "XTUPLEKEY": ("measurements", lambda: {(1, 2): 3}),
    "XBIGINT": ("measurements", lambda: {"x": 2**70}),
    "XCIRCULAR": ("artifacts", circular),
}


class ReturnsNotJson(Claim):
    title = paper = statement = control = "test"

    def __init__(self, claim_id):
        self.id = claim_id

    def measure(self, ctx):
        field, make = KINDS[self.id]
        checks = [threshold_check([0.0, 0.0], 1.0, direction="<=")]
        return ClaimOutcome(checks=checks, **{field: make()})
        yield


@hookimpl
def register_claims():
    return [ReturnsNotJson(claim_id) for claim_id in KINDS]
"""

#: claim id -> what its error must name (the field and the type)
NOT_JSON_ERRORS = {
    "XOBJECT": "measurements/x has type object",
    "XSET": "measurements/x has type set",
    "XTUPLEKEY": "measurements has key (1, 2)",
    "XBIGINT": "measurements/x is an integer beyond 64 bits",
    "XCIRCULAR": "circular reference",
}


@pytest.mark.parametrize(
    "bad", [*([claim] for claim in NOT_JSON_ERRORS), list(NOT_JSON_ERRORS)], ids=str
)
def test_an_outcome_that_is_not_json_costs_only_its_own_claim(cli, plugin_module, tmp_path, bad):
    """Each kind of outcome JSON cannot hold, alone and all at once, beside C1: that claim is an
    error naming the field and the type, C1 keeps its verdict, and the results file is written
    (issue 24: the run used to abort or exit 1 with no verdict kept)."""
    out = tmp_path / "r.json"
    code, stdout, err = cli(
        "--plugin", plugin_module(NOT_JSON), "check", "C1", *bad, "-q", "--jobs", "1",
        "--json", out,
    )  # fmt: skip
    assert code == EXIT_ERRORED, stdout + err
    claims = claims_of(out)
    assert claims["C1"].status is Status.HOLDS
    for claim in bad:
        assert claims[claim].status is Status.ERROR
        assert claims[claim].error.startswith("its outcome cannot be recorded: ")
        assert NOT_JSON_ERRORS[claim] in claims[claim].error
    assert load_results(out).complete
