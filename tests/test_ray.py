"""The Ray executor against a real local Ray instance (issue 11): the same results as the local
pool, also when a Ray worker is killed with SIGKILL in the middle of a job (Ray retries it).

Skipped where Ray is not installed (``pip install -e ".[ray]"``; ``.ci/run`` installs it).
Kept to the real claim C8 and one tiny plugin claim at the smoke budget: a Ray instance takes
10–20 s to start on 2 cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

pytest.importorskip("ray")

PLUGIN = '''
import os, signal

from scb_verify.checks import threshold_check
from scb_verify.claim import Claim, ClaimOutcome, Job
from scb_verify.hookspecs import hookimpl
from scb_verify.runs import RunSpec
from scb_verify.plugins.pppd import PPPD
from scb_verify.task import make_task


class KilledOnce(PPPD):
    """pppd, except that the first worker to reach step 5 SIGKILLs itself (it leaves its pid
    in $SCB_TEST_MARK, so later attempts and other runs go through)."""

    name, summary = "test-killed-once", "pppd; its first worker dies by SIGKILL at step 5"

    def step(self, state, batch, t, settings):
        if t == 5:
            try:
                fd = os.open(os.environ["SCB_TEST_MARK"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        return super().step(state, batch, t, settings)


class Retried(Claim):
    id, title, paper, statement, control = "XRETRY", "test", "test", "test", "test"
    algorithm = "test-killed-once"

    def measure(self, ctx):
        task = make_task(4, 8, 2, seed=0)
        specs = tuple(RunSpec(task=task, seed=s, batch=64, samples=64 * 40) for s in range(3))
        [results] = yield [Job(ctx.algorithm, specs, label="retried")]
        rho = [r.final["correlation"] for r in results]
        return ClaimOutcome(
            checks=[threshold_check(rho, 0.0, direction=">=")], measurements={"rho": rho}
        )


@hookimpl
def register_algorithms():
    return [KilledOnce()]


@hookimpl
def register_claims():
    return [Retried()]
'''


def without_wall_times(path) -> list[dict]:
    doc = json.loads(path.read_text())
    return [{k: v for k, v in c.items() if k != "wall_time"} for c in doc["claims"]]


def test_ray_gives_the_local_pools_results_even_after_a_worker_is_killed(
    plugin_module, tmp_path, monkeypatch
):
    plugin = plugin_module(PLUGIN)
    mark = tmp_path / "killed"
    monkeypatch.setenv("SCB_TEST_MARK", str(mark))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    exe = shutil.which("scb-verify")
    base = [exe, "--plugin", plugin, "check", "C8", "XRETRY", "--budget", "smoke", "--jobs", "2"]
    base += ["--no-cache", "--quiet"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*base, *args], cwd=tmp_path, capture_output=True, text=True, timeout=400
        )

    mark.write_text("")  # the local pool would report the kill as an error: no kill there
    local = run("--json", str(tmp_path / "local.json"))
    assert local.returncode == 0, local.stdout + local.stderr
    mark.unlink()
    on_ray = run("--executor", "ray", "--json", str(tmp_path / "ray.json"))
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    killed = int(mark.read_text())  # a Ray worker did die in the middle of the job
    assert killed != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)

    assert without_wall_times(tmp_path / "ray.json") == without_wall_times(tmp_path / "local.json")
    diff = subprocess.run(
        [exe, "diff", tmp_path / "local.json", tmp_path / "ray.json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert diff.returncode == 0 and "no change" in diff.stdout, diff.stdout
    statuses = {
        c["id"]: c["status"] for c in json.loads((tmp_path / "ray.json").read_text())["claims"]
    }
    assert statuses == {"C8": "holds", "XRETRY": "holds"}
