"""The cost estimate before a run: runaway sizes are refused (exit 2, one line, with the estimate
and the limit) before anything of their size is allocated; long runs say so when they start."""

from __future__ import annotations

import re
import tracemalloc

import pytest

import scb_verify.training as training_module
from scb_verify import cost
from scb_verify.runs import RunSpec
from scb_verify.task import make_task
from scb_verify.training import train

GIB = 1024**3


def run_traced(cli_run, *argv):
    """(exit code, stdout, stderr, peak bytes numpy and Python allocated during the call)."""
    tracemalloc.start()
    try:
        code, out, err = cli_run(*argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return code, out, err, peak


def assert_refused(code, out, err, peak, *, need: str, limit: str) -> None:
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(rf"needs about {need} \(tokens .*, parameters .*\)", err), err
    assert re.search(rf"more than the {limit} available", err), err
    assert peak < 64 * 1024**2, f"refused only after allocating {cost.size(peak)}"


@pytest.mark.parametrize(
    ("argv", "need"),
    [
        (("--N", "100000"), r"8\d\d GiB"),  # V alone is 80 GB
        (("--batch", "1000000000", "--samples", "1000000000"), r"1\d\d GiB"),
        (("--batch", "1000000000"), r"1\d\d GiB"),  # a batch above the budget: its size first
    ],
    ids=["N=100000", "batch=1e9, samples=1e9", "batch=1e9"],
)
def test_runaway_sizes_are_refused_before_allocating(cli, argv, need):
    """Beyond any machine's memory: refused against the real available memory."""
    code, out, err, peak = run_traced(cli, "train", "--quiet", *argv)
    assert_refused(code, out, err, peak, need=need, limit=r"[\d.]+ [GMT]iB")


def test_a_run_beyond_this_machine_is_refused_with_the_estimate_and_the_limit(cli, monkeypatch):
    """N = 5000, T = 100000 grew to 8.7 GB before it was killed: on a machine with 8 GiB free it
    is refused at once, naming its estimate and the limit."""
    monkeypatch.setattr(cost, "available_memory", lambda: 8 * GIB)
    code, out, err, peak = run_traced(cli, "train", "--N", "5000", "--T", "100000", "--quiet")
    assert_refused(code, out, err, peak, need=r"39\.\d GiB", limit="8 GiB")


def test_a_long_run_says_so_when_it_starts(cli, monkeypatch):
    """--samples 10^12 at defaults: the note comes before any step runs (here the user stops it
    right after the note, as with Ctrl-C)."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training_module, "train", interrupted)
    code, _, err = cli("train", "--samples", str(10**12))
    assert code == 130
    assert re.search(
        r"note: a long run: 1e\+12 samples × \(T \+ 1 = 65\) tokens = 6\.5e\+13 token draws, "
        r"roughly [\d.e+]+ days on one core; about [\d.]+ KiB",
        err,
    ), err
    code, _, err = cli("train", "--samples", str(10**12), "--quiet")
    assert code == 130 and "note:" not in err  # --quiet: no note


def test_a_short_run_has_no_note(cli):
    code, _, err = cli(
        "train", "--N", "3", "--T", "4", "--Q", "2", "--batch", "16", "--samples", "160"
    )
    assert code == 0 and "note:" not in err, err


def test_training_refuses_a_stack_too_large_for_the_memory_before_allocating(registry):
    task = make_task(3, 4, 2)
    spec = RunSpec(task=task, batch=10**9, samples=10**9)
    with pytest.raises(cost.CostError, match=r"batch 1000000000, 3 runs needs about"):
        train(registry.algorithm("pppd"), [spec] * 3)


def test_the_estimate_grows_with_every_size():
    base = cost.estimate(10, 16, batch=32, samples=320)
    for bigger in (
        cost.estimate(20, 16, batch=32, samples=320),
        cost.estimate(10, 32, batch=32, samples=320),
        cost.estimate(10, 16, batch=64, samples=320),
        cost.estimate(10, 16, batch=32, samples=320, runs=2),
        cost.estimate(10, 16, batch=32, samples=320, float_bytes=16),
    ):
        assert bigger.memory > base.memory
    assert cost.estimate(10, 16, batch=32, samples=640).seconds > base.seconds
    assert base.token_draws == 320 * 17
    assert cost.estimate(10, 16, batch=32, samples=33).samples == 64  # whole batches


def test_check_memory_refuses_only_above_the_limit():
    need = cost.estimate(10, 16, batch=32, samples=320)
    cost.check_memory(need, available=need.memory)
    with pytest.raises(cost.CostError, match="more than the"):
        cost.check_memory(need, available=need.memory - 1)


def test_available_memory_is_what_the_system_reports():
    available = cost.available_memory()
    assert available is None or 0 < available < 2**60


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(512, "512 B"), (3.5 * 1024**2, "3.5 MiB"), (44 * GIB, "44 GiB"), (2 * 1024**5, "2 PiB")],
)
def test_size(nbytes, text):
    assert cost.size(nbytes) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (720, "12 min"), (3.1 * 3600, "3.1 h"), (7.5 * 86400, "7.5 days")],
)
def test_duration(seconds, text):
    assert cost.duration(seconds) == text
