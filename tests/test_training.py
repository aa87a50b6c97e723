"""The training loop and the built-in algorithms (docs/reference.md §4–§5): well-formed,
reproducible, stack-invariant results; divergence and milestones; the algorithms learn where
they must."""

import json
import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import BUILTIN_ALGORITHMS
from hypothesis import given, settings
from hypothesis import strategies as st

from scb_verify import kernels, training
from scb_verify import strategies as scb
from scb_verify.algorithm import SettingsError
from scb_verify.registry import load_registry
from scb_verify.runs import HIGHER_IS_BETTER, Milestone, Params, RunSpec
from scb_verify.task import bigram_task, make_task
from scb_verify.training import record_steps, train

TASK = make_task(3, 4, 2, seed=1)
STACKABLE = [make_task(3, 4, q, seed=s) for q, s in ((1, 2), (2, 3), (4, 4))]
METRICS = set(HIGHER_IS_BETTER)
#: pppd settings the learning tests rely on, pinned against changes of the defaults.
PPPD_FIXED = {"variant": "simplex", "eta_V": 0.5, "eta_A": 0.5, "lam": 0.0, "decay": 0.0}


def spec(task=TASK, **kw) -> RunSpec:
    """A tiny run: batch 8, 12 steps unless overridden."""
    return RunSpec(task, **{"batch": 8, "samples": 96, **kw})


def assert_same_result(a, b, *, rtol: float = 0.0) -> None:
    """Same status, counts and metrics; parameters equal to ``rtol``."""
    for field in ("status", "samples", "steps", "milestones"):
        assert getattr(a, field) == getattr(b, field), field
    for key in a.final:
        assert a.final[key] == pytest.approx(b.final[key], rel=rtol, abs=rtol, nan_ok=True), key
    np.testing.assert_allclose(a.params.V, b.params.V, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(a.params.A, b.params.A, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
@settings(max_examples=5)
@given(data=st.data(), steps=st.integers(1, 12), batch=st.integers(1, 16))
def test_a_run_returns_a_well_formed_result(registry, name, data, steps, batch):
    algorithm = registry.algorithm(name)
    overrides = data.draw(scb.algorithm_settings(name), label="settings")
    s = RunSpec(TASK, seed=3, batch=batch, samples=steps * batch, settings=overrides)
    res = train(algorithm, [s])[0]
    assert res.algorithm == name and res.seed == 3 and res.batch == batch
    assert res.settings == algorithm.resolve_settings(overrides)
    assert res.task == TASK.describe()
    assert res.samples == res.steps * batch
    traj = res.trajectory
    assert set(traj) == {"step", "samples"} | METRICS
    assert len({len(v) for v in traj.values()}) == 1
    assert traj["step"] == sorted(set(traj["step"])) and traj["step"][0] == 0
    assert traj["samples"] == [t * batch for t in traj["step"]]
    assert res.params.V.shape == (3, 3) and res.params.A.shape == (4, 3)
    if res.status == "diverged":  # valid settings need not be stable ones
        assert res.stopped_early and res.steps < steps
        return
    assert res.status == "completed" and not res.stopped_early and res.steps == steps
    assert traj["step"][-1] == steps and {k: traj[k][-1] for k in METRICS} == res.final
    assert all(math.isfinite(v) for v in res.final.values())
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
def test_the_same_spec_gives_the_same_result(registry, name):
    algorithm = registry.algorithm(name)
    first, again = (train(algorithm, [spec(seed=5, init="random")])[0] for _ in range(2))
    assert_same_result(first, again)
    assert train(algorithm, [spec(seed=6, init="random")])[0].final != first.final


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
def test_stacked_runs_equal_individual_runs(registry, name):
    algorithm = registry.algorithm(name)
    specs = [spec(t, seed=10 + i) for i, t in enumerate(STACKABLE)]
    for stacked, alone in zip(train(algorithm, specs), specs, strict=True):
        assert_same_result(stacked, train(algorithm, [alone])[0], rtol=1e-10)


def test_runs_leaving_the_stack_do_not_disturb_the_others(registry):
    """sgd from a huge V diverges after a few steps; a population run reaching its milestone
    stops early; the runs that stay match their individual runs."""
    sgd, pop = registry.algorithm("sgd"), registry.algorithm("population")
    blowup = Params(np.full((3, 3), 1e3), np.full((4, 3), 0.25))
    specs = [spec(STACKABLE[0], seed=1), spec(STACKABLE[1], seed=2, init=blowup), spec(seed=3)]
    results = train(sgd, specs)
    assert results[1].status == "diverged" and 0 < results[1].steps < specs[1].steps
    for r in (0, 2):
        assert_same_result(results[r], train(sgd, [specs[r]])[0], rtol=1e-10)

    ms = (Milestone("excess_risk", 1e-8),)
    specs = [
        spec(
            t,
            seed=i,
            samples=8 * 100,
            milestones=ms,
            stop_at_milestones=True,
            settings=PPPD_FIXED,  # converges to 1e-8 within 100 steps on all three
        )
        for i, t in enumerate(STACKABLE)
    ]
    results = train(pop, specs)
    assert len({r.steps for r in results}) > 1  # they stopped at different steps
    for res, s in zip(results, specs, strict=True):
        assert_same_result(res, train(pop, [s])[0], rtol=1e-10)


def test_drawing_ahead_on_a_second_thread_changes_no_result(registry):
    """With two threads the next batch is drawn while a step runs; runs that leave the stack
    (divergence, milestones) take their batch in flight with them."""
    sgd = registry.algorithm("sgd")
    blowup = Params(np.full((3, 3), 1e3), np.full((4, 3), 0.25))
    ms = (Milestone("correlation", 0.99),)
    specs = [
        spec(STACKABLE[0], seed=1, milestones=ms, stop_at_milestones=True),
        spec(STACKABLE[1], seed=2, init=blowup),
        spec(seed=3),
    ]
    serial = train(sgd, specs)
    kernels.set_threads(2)
    try:
        ahead = train(sgd, specs)
    finally:
        kernels.set_threads(1)
    assert serial[1].status == "diverged"
    for a, b in zip(serial, ahead, strict=True):
        assert_same_result(a, b)
        np.testing.assert_equal(a.trajectory, b.trajectory)  # NaN equals NaN here


@pytest.mark.slow
def test_a_thread_pool_that_forbids_concurrent_calls_draws_in_turn():
    """numba's workqueue pool aborts the process when two threads call kernels at once; with
    it, two threads must fall back to drawing batches in turn (same result)."""
    script = (
        "from scb_verify import kernels; from scb_verify.registry import load_registry\n"
        "from scb_verify.runs import RunSpec; from scb_verify.task import make_task\n"
        "from scb_verify.training import train\n"
        "kernels.set_threads(2); assert not kernels.concurrent_calls_safe()\n"
        "spec = RunSpec(make_task(5, 64, 2), seed=0, batch=512, samples=20480)\n"
        "print(train(load_registry().algorithm('pppd'), [spec])[0].final['correlation'])\n"
    )
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    spec = RunSpec(make_task(5, 64, 2), seed=0, batch=512, samples=20480)
    serial = train(load_registry().algorithm("pppd"), [spec])[0]
    assert float(proc.stdout.split()[-1]) == serial.final["correlation"]


def test_a_non_finite_iterate_ends_the_run_as_diverged(registry):
    res = train(registry.algorithm("sgd"), [spec(settings={"lr": 1e6}, samples=8 * 50)])[0]
    assert res.status == "diverged" and res.stopped_early
    assert 0 < res.steps < 50 and res.samples == res.steps * 8
    assert not all(math.isfinite(res.final[k]) for k in ("dist_V", "dist_A", "excess_risk"))


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
def test_a_non_finite_initialization_diverges_at_step_zero(registry, name):
    nan = Params(np.full((3, 3), np.nan), np.full((4, 3), 0.25))
    res = train(registry.algorithm(name), [spec(init=nan)])[0]
    assert (res.status, res.steps, res.samples) == ("diverged", 0, 0)


def test_milestones_record_first_crossings_and_can_stop_the_run(registry):
    """The population algorithm is deterministic, so the run with stop_at_milestones is a
    prefix of the full run."""
    pop = registry.algorithm("population")
    ms = (Milestone("correlation", 0.99), Milestone("excess_risk", 1e-6))
    full = train(pop, [spec(samples=8 * 200, milestones=ms, record_points=2000)])[0]
    stop = train(pop, [spec(samples=8 * 200, milestones=ms, stop_at_milestones=True)])[0]
    assert full.steps == 200 and not full.stopped_early
    hits = full.milestones
    assert set(hits) == {"correlation>=0.99", "excess_risk<=1e-06"}
    assert all(v is not None for v in hits.values())
    assert stop.milestones == hits and stop.stopped_early and stop.status == "completed"
    assert stop.samples == max(hits.values()) < full.samples
    traj = full.trajectory
    assert traj["step"] == list(range(201))  # every step recorded
    for m in ms:
        first = next(
            s for s, v in zip(traj["samples"], traj[m.metric], strict=True) if m.reached(v)
        )
        assert hits[m.name] == first
    assert stop.final["correlation"] >= 0.99 and stop.final["excess_risk"] <= 1e-6


def test_pppd_recovers_the_bigram_as_samples_grow(registry):
    """With η_t = η₀/(1 + 0.1 t) the error of a stochastic step decays like samples^(−1/2): 64×
    the samples should cut dist_V about 8×. An algorithm stuck at a noise floor keeps the ratio at
    ≈ 1; the mean over 8 seeds must at least halve."""
    pppd = registry.algorithm("pppd")
    tasks = [bigram_task(3, 4, seed=s, concentration=2.0) for s in range(8)]
    dist = {}
    for budget in (320, 64 * 320):
        specs = [
            RunSpec(t, seed=s, batch=32, samples=budget, settings={**PPPD_FIXED, "decay": 0.1})
            for s, t in enumerate(tasks)
        ]
        dist[budget] = np.mean([r.final["dist_V"] for r in train(pppd, specs)])
    assert dist[64 * 320] <= 0.5 * dist[320], dist


def test_population_algorithm_reaches_the_ground_truth(registry):
    """Exact gradients: the excess risk falls (no recorded value more than 10% above the best
    before it) to ≤ 1e-10 of its start within 38 steps."""
    s = spec(make_task(3, 8, 2), samples=300, settings=PPPD_FIXED)
    res = train(registry.algorithm("population"), [s])[0]
    risk = np.array(res.trajectory["excess_risk"])
    assert risk[-1] <= 1e-10 * risk[0]
    assert np.all(risk[1:] <= 1.1 * np.minimum.accumulate(risk)[:-1] + 1e-15)
    assert res.final["correlation"] > 1 - 1e-9 and res.final["support_recovery"] == 1.0


def test_population_algorithm_at_the_defaults_reaches_the_ground_truth(registry):
    """The population algorithm follows pppd's default (the sparse variant, noise-calibrated
    threshold): with exact gradients the threshold vanishes at the fixed point, so it converges
    to (P, Q*) itself, not to an ℓ1-biased point (C7's ci instance class, 1,536 steps)."""
    task = make_task(5, 32, 2, seed=0)
    [res] = train(registry.algorithm("population"), [spec(task, batch=32, samples=49152)])
    assert np.linalg.norm(res.params.A - task.Qstar) <= 1e-3 * np.linalg.norm(task.Qstar)
    assert np.linalg.norm(res.params.V - task.P) <= 1e-3 * np.linalg.norm(task.P)


def test_the_l1_term_matters_at_a_small_batch(registry):
    """The regularizer does real work (docs/reference.md §5.1): on C7's ci instance class at
    batch 32, seeds 0–3, pppd with λ = 0 ends farther from Q* than pppd at its defaults on every
    seed, and by a factor ≥ 2 at the median (measured 1.3, 6.6, 7.4, 10; over seeds 0–7 the
    median ‖A − Q*‖/‖Q*‖ is 0.063 against 0.210). A λ that did nothing would give ratios ≈ 1."""
    pppd = registry.algorithm("pppd")
    tasks = [make_task(5, 32, 2, seed=s) for s in range(4)]

    def dist_A(settings):
        specs = [
            RunSpec(t, seed=s, batch=32, samples=49152, settings=settings)
            for s, t in enumerate(tasks)
        ]
        return np.array([r.final["dist_A"] for r in train(pppd, specs)])

    ratio = dist_A({"lam": 0.0}) / dist_A({})
    assert np.all(ratio > 1.0) and np.median(ratio) >= 2.0, ratio


def test_position_noise_tracks_the_per_position_gradient_noise():
    """σ̂_k (1.4826 × the MAD of g_k across positions) against the standard deviation of g_kt over
    300 independent batches at (P, Q*), off the support. σ̂ is a robust scale, not the sd: a
    position's gradient sums only ≈ m·μ_k per-sample terms, a skewed, heavy-tailed law whose MAD
    falls short of its sd (measured σ̂/sd 0.51–0.76 at batch 32, 0.74–0.78 at batch 512, where
    the law is closer to normal). What the threshold needs is that σ̂ follows the noise within a
    bounded factor while the noise itself falls 4×: σ̂/sd within [0.4, 1.25] at both batches."""
    import torch
    from scb_verify.plugins.pppd import position_noise

    from scb_verify.gradients import minibatch_gradients
    from scb_verify.sampler import Sampler

    task = make_task(5, 32, 2, seed=1)
    V = torch.tensor(task.P)[None]
    A = torch.tensor(task.Qstar)[None]
    off = task.Qstar == 0
    ratio = {}
    for m in (32, 512):
        sampler = Sampler([task], [m])
        grads, sigma = [], []
        for _ in range(300):
            g = minibatch_gradients(V, A, sampler.sample(m)).A
            grads.append(g[0].numpy())
            sigma.append(position_noise(g)[0].numpy())
        grads = np.array(grads)
        sd = np.array([grads[:, off[:, k], k].std() for k in range(task.N)])
        ratio[m] = np.mean(sigma, 0) / sd
        assert np.all((ratio[m] > 0.4) & (ratio[m] < 1.25)), (m, ratio[m])
    assert position_noise(torch.zeros(1, 32, 5, dtype=torch.float64)).abs().max() == 0


def test_pppd_warm_started_at_the_truth_only_moves_by_sampling_noise(registry):
    """At (P, Q*) the minibatch gradients have mean zero, so the iterate only fluctuates, by
    ∝ (η/m)^(1/2). 16× the batch should shrink the largest excursion about 4×; a biased update
    (wrong fixed point) would not shrink it. The mean over 4 seeds must at least halve."""
    pppd = registry.algorithm("pppd")
    tasks = [make_task(3, 6, 2, seed=s, concentration=1.0) for s in range(4)]
    excursion = {}
    for m in (128, 16 * 128):
        specs = [
            RunSpec(
                t,
                seed=s,
                batch=m,
                samples=40 * m,
                settings={**PPPD_FIXED, "eta_V": 0.1, "eta_A": 0.1},
                init=Params(t.P.copy(), t.Qstar.copy()),
            )
            for s, t in enumerate(tasks)
        ]
        results = train(pppd, specs)
        assert all(r.trajectory["dist_V"][0] == 0.0 for r in results)
        excursion[m] = np.array(
            [[max(r.trajectory[k]) for k in ("dist_V", "dist_A")] for r in results]
        ).mean(0)
    assert np.all(excursion[16 * 128] <= 0.5 * excursion[128]), excursion


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
def test_an_unknown_setting_lists_the_allowed_ones(registry, name):
    algorithm = registry.algorithm(name)
    with pytest.raises(SettingsError, match=rf"{name}: unknown setting 'bogus'; allowed: ") as e:
        algorithm.resolve_settings({"bogus": 1})
    assert all(key in str(e.value) for key in algorithm.defaults)


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("pppd", {"eta_V": "fast"}, r"pppd: setting 'eta_V' must be a finite number, got 'fast'"),
        ("pppd", {"variant": "box"}, r"pppd: variant must be .*, got 'box'"),
        ("pppd", {"eta_A": 0}, r"setting 'eta_A' must be > 0"),
        ("pppd", {"lam": -1}, r"lam, eps and decay must be >= 0"),
        ("sgd", {"lr": -0.1}, r"sgd: setting 'lr' must be > 0"),
        ("softmax", {"optimizer": "lbfgs"}, r"optimizer must be 'adam' or 'sgd'"),
        ("softmax", {"loss": "hinge"}, r"loss must be 'mse' or 'ce'"),
    ],
)
def test_invalid_settings_are_rejected_before_any_run(registry, name, overrides, message):
    algorithm = registry.algorithm(name)
    with pytest.raises(SettingsError, match=message):
        train(algorithm, [spec(), spec(settings=overrides)])


def test_settings_are_coerced_to_the_type_of_their_default(registry):
    pppd = registry.algorithm("pppd")
    out = pppd.resolve_settings({"eta_V": "0.25", "lam": 1})
    assert out["eta_V"] == 0.25 and isinstance(out["lam"], float)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"batch": 0}, r"batch must be a positive integer"),
        ({"samples": 4}, r"samples \(4\) must be at least one batch \(8\)"),
        ({"init": "zeros"}, r"init must be 'uniform', 'random' or Params"),
        (
            {"init": Params(np.zeros((3, 3)), np.zeros((5, 3)))},
            r"init parameters have V \(3, 3\), A \(5, 3\); the task needs",
        ),
    ],
)
def test_invalid_run_specs_are_rejected(kw, message):
    with pytest.raises(ValueError, match=message):
        spec(**kw)


def test_unknown_milestone_metric_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown milestone metric 'loss'; allowed: \["):
        Milestone("loss", 0.1)


@given(st.integers(1, 10_000), st.integers(0, 60))
def test_record_steps_are_sorted_and_include_both_ends(steps, points):
    rec = record_steps(steps, points).tolist()
    assert rec == sorted(set(rec)) and rec[0] == 0 and rec[-1] == steps
    assert len(rec) <= max(points, 2) + 1


@pytest.mark.parametrize("device", ["cpu", *(["cuda"] if torch.cuda.is_available() else [])])
@pytest.mark.parametrize("name", ["pppd", "sgd", "population"])
def test_the_tensor_engine_gives_the_compiled_engines_results(registry, name, device):
    """Issue 23: the accelerator's path on CPU tensors — samples drawn by the tensor kernel (the
    same bits), gradients by tensor operations, the end of runs noticed LAG steps late and
    rewound to the step where it happened — gives the compiled engine's results to rounding: the
    same statuses, steps, milestones and trajectory steps, with runs leaving the stack by
    divergence and at their milestones while the others go on. On a GPU where there is one."""
    algorithm = registry.algorithm(name)
    blowup = Params(np.full((3, 3), 1e3), np.full((4, 3), 0.25))
    ms = (Milestone("correlation", 0.9), Milestone("dist_V", 0.5))
    settings = {"lr": 1.0} if name == "sgd" else PPPD_FIXED
    specs = [
        spec(
            t,
            seed=i,
            samples=8 * 60,
            milestones=ms,
            stop_at_milestones=True,
            settings=settings,
            record_points=4,
        )
        for i, t in enumerate(STACKABLE)
    ]
    specs.append(replace(specs[0], seed=9, init=blowup))
    compiled = train(algorithm, specs)
    tensor = train(algorithm, specs, device=device, engine="tensor")
    if name == "sgd":
        assert compiled[-1].status == "diverged"
    assert len({r.steps for r in compiled}) > 1  # runs left the stack at different steps
    for a, b in zip(compiled, tensor, strict=True):
        assert_same_result(a, b, rtol=1e-9)
        assert a.trajectory["step"] == b.trajectory["step"]
        for key in METRICS:
            np.testing.assert_allclose(a.trajectory[key], b.trajectory[key], rtol=1e-9, atol=1e-9)


def test_a_device_set_for_the_process_is_the_default_of_train(registry, monkeypatch):
    """A device executor's worker sets its device once; ``train`` without a device uses it
    (here torch's data-less ``meta`` device: the run gets as far as reading a value back)."""
    monkeypatch.setattr(training, "_DEFAULT_DEVICE", training.default_device())
    training.set_default_device("meta")
    assert training.default_device() == torch.device("meta")
    with pytest.raises(NotImplementedError, match="meta tensor"):
        train(registry.algorithm("sgd"), [spec(seed=1)])
    res = train(registry.algorithm("sgd"), [spec(seed=1)], device="cpu")
    assert res[0].status == "completed" and res[0].steps == 12
