"""The job cache (issue 11): keys that change exactly when a job's results can, entries read
without pickle and never trusted when damaged, and a rerun after ``kill -9`` that redoes only
the jobs that had not finished."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from scb_verify.cache import CacheError, JobCache, job_key
from scb_verify.claim import Job
from scb_verify.executors import execute_job
from scb_verify.runs import RunSpec
from scb_verify.task import make_task


def tiny_job(**changes) -> Job:
    fields = {"task": make_task(3, 4, 1, seed=0), "seed": 0, "batch": 8, "samples": 64}
    spec = RunSpec(**{**fields, **changes}, record_points=4)
    return Job("pppd", (spec, dataclasses.replace(spec, seed=1)), label="tiny")


def same_results(a, b) -> bool:
    return all(
        x.to_dict() == y.to_dict()
        and np.array_equal(x.params.V, y.params.V)
        and np.array_equal(x.params.A, y.params.A)
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture(scope="module")
def trained():
    job = tiny_job()
    return job, execute_job(job)


def test_an_entry_gives_back_exactly_what_was_stored(trained, tmp_path, registry):
    job, results = trained
    cache = JobCache(tmp_path)
    key, miss = cache.lookup(registry.algorithm("pppd"), job)
    assert miss is None and (cache.hits, cache.misses) == (0, 1)
    cache.put(key, results)
    key2, hit = cache.lookup(registry.algorithm("pppd"), job)
    assert key2 == key and (cache.hits, cache.misses) == (1, 1)
    assert same_results(hit, results)
    assert [p.name for p in cache.path(key).parent.iterdir()] == [f"{key}.npz"]  # no temp left


def test_the_key_follows_everything_that_determines_the_results(registry):
    pppd = registry.algorithm("pppd")
    base = job_key(pppd, tiny_job())
    assert job_key(pppd, tiny_job()) == base
    assert job_key(pppd, dataclasses.replace(tiny_job(), label="other")) == base
    # resolved settings: the defaults spelled out are the same job
    assert job_key(pppd, tiny_job(settings=dict(pppd.defaults))) == base
    changed = [
        tiny_job(seed=5),
        tiny_job(batch=16),
        tiny_job(samples=128),
        tiny_job(settings={"eta_V": 0.25}),
        tiny_job(task=make_task(3, 4, 1, seed=1)),
        tiny_job(init="random"),
        Job("sgd", tiny_job().specs),
    ]
    keys = [job_key(registry.algorithm(j.algorithm), j) for j in changed]
    assert base not in keys and len(set(keys)) == len(keys)


def damaged_entries(path: Path, data: bytes) -> dict[str, bytes]:
    """Ways an entry can be wrong, each as the bytes of the file."""
    import io
    import zipfile

    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))

    def npz_of(**changes):
        buf = io.BytesIO()
        np.savez(buf, **{**arrays, **changes})
        return buf.getvalue()

    other_key = {**meta, "key": "0" * 64}
    one_result = {**meta, "results": meta["results"][:1]}
    bad_type = {**meta, "results": [{**meta["results"][0], "samples": "many"}, meta["results"][1]]}
    pickled = io.BytesIO()
    with zipfile.ZipFile(pickled, "w") as z:  # an object array: only pickle could read it
        buf = io.BytesIO()
        np.save(buf, np.array([{"V": 1}], dtype=object), allow_pickle=True)
        z.writestr("meta.npy", buf.getvalue())
    return {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "not an npz": b"hello",
        "another key": npz_of(meta=np.array(json.dumps(other_key))),
        "too few results": npz_of(meta=np.array(json.dumps(one_result))),
        "wrong field type": npz_of(meta=np.array(json.dumps(bad_type))),
        "wrong shape": npz_of(V0=np.zeros((2, 2))),
        "wrong dtype": npz_of(A1=arrays["A1"].astype(np.float32)),
        "pickled object": pickled.getvalue(),
    }


def test_a_damaged_entry_is_reported_in_one_line_and_recomputed(trained, tmp_path, registry):
    job, results = trained
    pppd = registry.algorithm("pppd")
    cache = JobCache(tmp_path)
    key = job_key(pppd, job)
    cache.put(key, results)
    path = cache.path(key)
    for what, data in damaged_entries(path, path.read_bytes()).items():
        warnings = []
        damaged = JobCache(tmp_path, warn=warnings.append)
        path.write_bytes(data)
        with pytest.raises(CacheError):
            damaged.get(key, job)
        assert damaged.lookup(pppd, job) == (key, None), what
        assert damaged.bad == 1 and len(warnings) == 1, what
        assert "\n" not in warnings[0] and str(path) in warnings[0], what


PLUGIN = """
import os, time

from scb_verify.checks import threshold_check
from scb_verify.claim import Claim, ClaimOutcome, Job
from scb_verify.hookspecs import hookimpl
from scb_verify.runs import RunSpec
from scb_verify.plugins.null import Null
from scb_verify.task import make_task


class MayHang(Null):
    name, summary = "test-may-hang", "never returns while $SCB_TEST_HANG names its seed"

    def step(self, state, batch, t, settings):
        if t == 2 and os.environ.get("SCB_TEST_HANG") == str(self.seed):
            time.sleep(3600)

    def init_state(self, V, A, spec, settings, pop):
        self.seed = spec.seed
        return super().init_state(V, A, spec, settings, pop)


class ThreeJobs(Claim):
    id, title, paper, statement, control = "XTHREE", "test", "test", "test", "test"
    algorithm = "test-may-hang"

    def measure(self, ctx):
        task = make_task(3, 4, 1, seed=0)
        jobs = [
            Job(ctx.algorithm, (RunSpec(task=task, seed=s, batch=8, samples=80, record_points=4),))
            for s in range(3)
        ]
        results = yield jobs
        final = [r.final["dist_V"] for [r] in results]
        return ClaimOutcome(
            checks=[threshold_check(final, 10.0, direction="<=")], measurements={"final": final}
        )


@hookimpl
def register_algorithms():
    return [MayHang()]


@hookimpl
def register_claims():
    return [ThreeJobs()]
"""


def test_a_rerun_after_kill_9_redoes_only_the_unfinished_jobs(plugin_module, tmp_path):
    plugin = plugin_module(PLUGIN)
    cache = tmp_path / "cache"
    check = [shutil.which("scb-verify"), "--plugin", plugin, "check", "XTHREE", "--budget"]
    check += ["smoke", "--jobs", "2", "--cache", str(cache)]
    hang = {**os.environ, "SCB_TEST_HANG": "2"}
    proc = subprocess.Popen(check, env=hang, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while len(list(cache.rglob("*.npz"))) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.2)
        time.sleep(1)  # the hung job is not stored: give it the chance to be wrong
        assert len(list(cache.rglob("*.npz"))) == 2
        proc.kill()
        proc.wait(timeout=30)
    finally:
        proc.kill()

    def run(name: str) -> tuple[str, dict]:
        out = tmp_path / name
        res = subprocess.run(
            [*check, "--json", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert res.returncode == 0, res.stderr
        [claim] = json.loads(out.read_text())["claims"]
        return res.stdout, {k: v for k, v in claim.items() if k != "wall_time"}

    resumed, first = run("resumed.json")
    assert "job cache" in resumed and "2 of 3 jobs reused, 1 computed" in resumed
    warm, again = run("warm.json")
    assert "3 of 3 jobs reused, 0 computed" in warm
    assert again == first and first["status"] == "holds"


def test_a_change_in_a_base_class_changes_the_key(tmp_path, monkeypatch):
    """A lab's algorithm subclassing another module's class: editing the base (not the module
    of the algorithm itself) gives its jobs new keys, so a rerun recomputes them."""
    import importlib

    from scb_verify.cache import algorithm_version

    monkeypatch.syspath_prepend(str(tmp_path))
    base = tmp_path / "scb_lab_base.py"
    base.write_text("from scb_verify.plugins.null import Null\n\nclass Base(Null):\n    pass\n")
    (tmp_path / "scb_lab_algo.py").write_text(
        "from scb_lab_base import Base\n\nclass Algo(Base):\n    name = 'lab'\n"
    )
    algo = importlib.import_module("scb_lab_algo").Algo()
    before = algorithm_version(algo)
    assert algorithm_version(algo) == before  # stable while nothing changes
    base.write_text(base.read_text() + "# a change of the base class\n")
    assert algorithm_version(algo) != before
