"""The device executor: training jobs on an accelerator, in one worker process that owns it.

``scb-verify check --executor cuda`` (and the ``--device cuda`` of ``check`` and pytest's
``--scb-device``, which choose it) sends every training job to one spawned worker process that
holds the device (:func:`device_executor`). A :class:`~scb_verify.claim.Job` is one cell of a
claim — all its seeds — and :func:`scb_verify.training.train` stacks its compatible runs into one
computation, so a job is one batched computation on the device: samples drawn there by the
tensor engine (the same bits as the CPU's compiled engine, :mod:`scb_verify.tensor_kernels`),
gradients and updates there, milestones checked there (:mod:`scb_verify.training`). Claims that
train nothing submit no jobs: their measurement runs in the driver, on the CPU, as before.

The worker is a :class:`~scb_verify.pool.ProcessPool` of one process whose initializer makes
the device the default of :func:`~scb_verify.training.train` in that process
(:func:`~scb_verify.training.set_default_device`), so the runner's job function
(``runner.execute_job``, which names no device) trains there unchanged, and the pool's
guarantees hold: a job whose worker dies fails alone (the worker is replaced), cancelling a
running job (a deadline) terminates the worker. Jobs run one at a time: the device is shared
by stacking, not by concurrent processes, each of which would hold its own device context.

Results: a job's samples are bit-identical on every engine and device; the arithmetic differs
in rounding only (reductions in another order), so metrics agree with the CPU's to ~1e-12
relative in float64 (``tests/test_training.py`` holds the tensor path to 1e-9 against the
compiled one), and the job cache, keyed by the job's specs, serves either device's results.
"""

from __future__ import annotations

import concurrent.futures as cf
import os

import torch

from scb_verify import kernels, training
from scb_verify.hookspecs import ExecutorFactory, hookimpl
from scb_verify.pool import ProcessPool


class DeviceUnavailable(ImportError):
    """The device named cannot be used here (one line, naming what is available). An
    ImportError, as for an executor whose package is missing: the executor cannot start here,
    which ``check --executor NAME`` reports in one line, exit code 2."""


def available_devices() -> list[str]:
    """The devices this process can train on: ``cpu`` and every CUDA device torch sees."""
    return ["cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]


def check_device(device: str) -> torch.device:
    """``device`` as a torch device that is available here, else :class:`DeviceUnavailable`
    (e.g. ``device 'cuda' is not available here; allowed: cpu``)."""
    available = available_devices()
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or f"{dev.type}:{dev.index or 0}" not in {
        a if ":" in a else f"{a}:0" for a in available
    }:
        raise DeviceUnavailable(
            f"device {device!r} is not available here; allowed: {', '.join(available)}"
        )
    return dev


def _worker_init(device: str, engine: str | None, threads: int) -> None:
    """The worker's set-up: its CPU threads, and ``device`` (with ``engine``) as the default of
    ``train``."""
    kernels.set_threads(threads)
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    training.set_default_device(dev, engine)


def device_executor(jobs: int, device: str, *, engine: str | None = None) -> cf.Executor:
    """An executor training every submitted job on ``device`` in one worker process that owns
    it, drawing samples with ``engine`` (default: the device's; ``tensor`` on the CPU runs the
    accelerator's code on CPU tensors, as the tests do). ``jobs`` is the worker's CPU threads
    (capped at the cores; for the work that stays on the host). Raises
    :class:`DeviceUnavailable` before starting anything when the device is not available here."""
    dev = check_device(device)
    threads = max(1, min(jobs, os.cpu_count() or 1))
    init = f"{__name__}:_worker_init"
    return ProcessPool(1, initializer=init, initargs=(str(dev), engine, threads))


def _cuda_executor(jobs: int) -> cf.Executor:
    """The registered ``cuda`` factory: :func:`device_executor` on the current CUDA device."""
    return device_executor(jobs, "cuda")


@hookimpl
def register_executors():
    return [
        ExecutorFactory(
            "cuda",
            _cuda_executor,
            "training jobs on the GPU, each cell's seeds stacked, in one worker process that "
            "owns it; claims that train nothing stay on the CPU",
        )
    ]
