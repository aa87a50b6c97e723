"""The device executor (issue 23): training jobs in one worker process that owns the device,
samples drawn there by the tensor engine. CI has no accelerator, so the worker runs the
accelerator's code on CPU tensors (``engine="tensor"``): the same operations a CUDA device runs."""

from __future__ import annotations

import pytest
import torch

from scb_verify import diff
from scb_verify.claim import Job
from scb_verify.device_executor import DeviceUnavailable, check_device, device_executor
from scb_verify.executors import SerialExecutor, execute_job
from scb_verify.registry import load_registry
from scb_verify.runner import run_claims
from scb_verify.runs import Milestone
from scb_verify.schema import new_results
from scb_verify.task import make_task
from scb_verify.training import train


def test_a_device_that_is_not_here_is_refused_in_one_line():
    for name in ("cuda:99", "tpu", "nonsense"):
        with pytest.raises(DeviceUnavailable) as err:
            device_executor(1, name)
        message = str(err.value)
        assert "\n" not in message and f"device {name!r} is not available here" in message
        assert "allowed: cpu" in message
    assert str(check_device("cpu")) == "cpu"


def test_the_cuda_executor_where_there_is_no_gpu_is_one_line(cli, tmp_path):
    """``check --executor cuda`` on a machine whose torch sees no CUDA device (as in CI): one
    line, exit code 2, nothing run or written."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    out = tmp_path / "r.json"
    code, _, err = cli("check", "C3", "--budget", "smoke", "--executor", "cuda", "--json", out)
    assert code == 2 and not out.exists()
    (line,) = err.strip().splitlines()
    assert line.endswith(
        "error: executor 'cuda' cannot start: device 'cuda' is not available here; allowed: cpu"
    )


def test_a_job_in_the_device_worker_gives_the_cpu_engines_results():
    """One cell (four seeds stacked) stopping at its milestones: the worker's results equal the
    compiled CPU engine's (same samples; arithmetic to rounding)."""
    tasks = [(s, make_task(5, 32, 2, seed=s)) for s in range(4)]
    ms = (Milestone("correlation", 0.5),)
    job = Job.per_seed(
        "pppd", tasks, batch=64, samples=64 * 40, milestones=ms, stop_at_milestones=True
    )
    with device_executor(1, "cpu", engine="tensor") as executor:
        on_device = executor.submit(execute_job, job).result(timeout=300)
    on_cpu = train(load_registry().algorithm("pppd"), list(job.specs))
    assert any(r.stopped_early for r in on_cpu)
    for a, b in zip(on_cpu, on_device, strict=True):
        assert (a.status, a.steps, a.milestones) == (b.status, b.steps, b.milestones)
        assert a.trajectory["step"] == b.trajectory["step"]
        for key, value in a.final.items():
            assert b.final[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def _assert_same_measurements(cpu, dev, where="measurements"):
    """Counts (samples to each milestone, steps, batches, seeds, flags) equal; the diagnostics
    read off an iterate (correlation and cosines at the hand-off, off-support mass) equal to
    rounding: the two engines sum the same float64 terms in a different order."""
    if isinstance(cpu, dict):
        assert isinstance(dev, dict) and cpu.keys() == dev.keys(), where
        for key in cpu:
            _assert_same_measurements(cpu[key], dev[key], f"{where}[{key!r}]")
    elif isinstance(cpu, list):
        assert isinstance(dev, list) and len(cpu) == len(dev), where
        for i, (a, b) in enumerate(zip(cpu, dev, strict=True)):
            _assert_same_measurements(a, b, f"{where}[{i}]")
    elif isinstance(cpu, float):  # a float count (samples 1280.0) is still compared to < 1
        assert dev == pytest.approx(cpu, rel=1e-9, abs=1e-12), where
    else:
        assert type(dev) is type(cpu) and dev == cpu, where


def test_claims_on_the_device_executor_diff_as_no_change_against_the_cpu():
    """C3 and C5 at the smoke budget through the runner: the device worker's reports have the
    CPU's verdicts and measurements (samples to each milestone and the fitted slopes equal, not
    merely close; diagnostics of the iterates to rounding), and the baseline gate between the
    two results files reports no change."""
    reg = load_registry()
    claims = [reg.claim("C3"), reg.claim("C5")]

    def document(executor):
        with executor:
            reports = run_claims(claims, budget="smoke", executor=executor)
        results = new_results(reports, budget="smoke", algorithm=None, control=False, wall_time=0.0)
        return reports, results

    cpu_reports, cpu = document(SerialExecutor())
    dev_reports, dev = document(device_executor(1, "cpu", engine="tensor"))
    for a, b in zip(cpu_reports, dev_reports, strict=True):
        assert b.status == a.status and b.error is None
        _assert_same_measurements(a.measurements, b.measurements)
        assert (b.runs, b.samples, b.seeds) == (a.runs, a.samples, a.seeds)
    assert diff.compare(cpu, dev) == []


def test_check_device_is_one_line_before_any_work(cli):
    code, out, err = cli("check", "C2", "--device", "cuda:7", "--no-cache")
    assert (code, out) == (2, "")
    assert err.strip().startswith("scb-verify: error: device 'cuda:7' is not available here")
    code, _, err = cli("check", "C2", "--device", "cpu:0", "--executor", "ray", "--no-cache")
    assert code == 2 and "a device is for the local executor, not 'ray'" in err
