"""The training engine against a textbook autograd implementation (issue 4).

    python benchmarks/bench_engine.py               # reference size, float32 and float64, CPU
    python benchmarks/bench_engine.py --quick       # a smoke run (few steps, one repeat)
    python benchmarks/bench_engine.py --profile     # also split the engine's step into its phases
    python benchmarks/bench_engine.py --device cuda # on a GPU: one process, under 2 minutes
    python benchmarks/bench_engine.py --device cuda --paper  # paper-scale training vs the CPU

Reference size: N = 20, T = 256, Q = 4, batch m = 1024. Configurations, each timed end to end
(sampling, the update and the metrics included):

  (a) baseline — what one would write first: dense one-hot X (m, N, T), an ``nn.Module``,
      ``loss.backward()``, ``torch.optim.SGD``, one run at a time, a sampler built from
      ``torch.multinomial`` per draw type; the §4 metrics at the same log-spaced steps as ``train``.
      Its update is the ``sgd`` plugin's: plain SGD, then the mean shift back onto 1ᵀa_k = 1.
  (b) the engine, one run: ``scb_verify.training.train`` with the ``sgd`` plugin (the same update
      as (a)) and with ``pppd`` (the paper's algorithm), exactly as the CLI runs them.
  (c) the engine, R = 16 runs stacked in one ``train`` call.

Throughput is samples per second counted over all runs (so for (c) it is R times the per-run
rate; equivalently the time per run is the wall time / R). Ratios: b/a, c/a and c/b — c/b is
"R runs batched" against "R runs one after the other", both on the engine.

Before timing, the engine's closed-form gradients are checked against autograd on the baseline
model on the same batch (float64, relative error ≤ 1e-10).

Peak memory: every configuration runs in a fresh subprocess and reports its peak resident set
(VmHWM of /proc/self/status, which sees torch's allocations, unlike tracemalloc). Two net
figures: "over idle" subtracts the peak of an idle subprocess that did the same start-up —
imported torch and scb_verify, loaded the plugins, built the tasks, ran one 64×64 matmul (so
torch's thread pool and BLAS are initialized) — and stopped; "data" subtracts the peak of the
same configuration run at one sample per step, i.e. it leaves out what a code path costs
whatever the problem size (the code pages of the kernels it calls, autograd's and the
allocator's fixed structures) and keeps what grows with the batch. On CUDA:
``torch.cuda.max_memory_allocated``.

On an accelerator (``--device cuda``, issue 23) the configurations run in this one process (a
fresh process per configuration would spend its time starting the device), each after a
warm-up, timed between device synchronizations; peak memory is ``max_memory_allocated``. Beside
the table it prints the tensor sampler's rate against the baseline's ``torch.multinomial``
sampler and against the device's own bound — its measured copy bandwidth over the token traffic
of a sample (3T bytes: the uint8 tokens written once, read twice) — and the engine's rate
against the CPU engine's on all the machine's cores (a subprocess at the same size).
``--paper`` runs only the paper's scale instead (N = 20, T = 1024, Q = 4, batch 4,096, 2M
samples): ``train`` with pppd on the device against the CPU engine on all cores.

Timing: each configuration is repeated (fresh subprocesses, configurations interleaved so slow
phases of a shared machine hit all of them alike); the median is reported, with the range. The
whole table is produced with 2 threads (the 2-core target) and with 1: torch's intra-op threads
for the baseline, torch's and the compiled kernels' threads for the engine.
Wall-clock is what the targets are about; CPU time (all threads) is printed too, because on a
shared machine it is less sensitive to other tenants. The load average is printed before and
after: read the numbers with it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time

REF = dict(N=20, T=256, Q=4, m=1024)
PAPER = dict(N=20, T=1024, Q=4, m=4096, samples=2_000_000)
SMALL = dict(N=5, T=40, Q=2, m=32)  # the spec's prototype size: per-step overhead dominates
SGD_LR = 0.05  # small enough that no run diverges at the reference size
#: OpenMP's wait policy is left as the environment sets it (printed with the results). Unset,
#: idle OpenMP threads spin for a while before sleeping: on a machine whose cores other
#: processes also use, a spinning thread can hold the core its partner needs, and torch's
#: parallel operators stall (measured: up to 15× slower 2-thread steps under load); with
#: OMP_WAIT_POLICY=PASSIVE they sleep at once, which spares torch but makes numba's OpenMP pool
#: wake its threads at every kernel call (measured: the 2-thread engine 30% slower). Run the
#: benchmark on a quiet machine; the load average is printed before and after.


# --------------------------------------------------------------------------- worker side


def peak_rss_mib() -> float:
    """High-water mark of this process's resident set (VmHWM), MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def make_tasks(cfg):
    from scb_verify.task import make_task

    return [make_task(cfg["N"], cfg["T"], cfg["Q"], seed=r) for r in range(cfg["R"])]


def baseline_model(N: int, T: int, dtype):
    """The textbook model: parameters V (N, N), A (T, N); input the dense one-hot X (m, N, T)."""
    import torch
    from torch import nn

    class LinearTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.V = nn.Parameter(torch.zeros(N, N, dtype=dtype))
            self.A = nn.Parameter(torch.full((T, N), 1.0 / T, dtype=dtype))

        def forward(self, X, k):
            a = self.A[:, k].T  # (m, T): the attention column of each query
            h = torch.bmm(X, a.unsqueeze(-1)).squeeze(-1)  # X a_k: (m, N)
            return h @ self.V.T

    return LinearTransformer()


def baseline_loss(model, X, k, o):
    import torch.nn.functional as F

    pred = model(X, k)
    return 0.5 * ((pred - F.one_hot(o, pred.shape[-1]).to(pred.dtype)) ** 2).sum(-1).mean()


def one_hot_context(x, N: int, dtype):
    """Dense X (m, N, T) from context tokens x (m, T)."""
    import torch.nn.functional as F

    return F.one_hot(x, N).transpose(1, 2).to(dtype)


def run_baseline(cfg, dtype, device, steps: int) -> int:
    """The textbook training loop: returns the samples drawn."""
    import torch

    from scb_verify.metrics import all_metrics
    from scb_verify.population import Population
    from scb_verify.training import record_steps

    (task,) = make_tasks({**cfg, "R": 1})
    N, T, m = cfg["N"], cfg["T"], cfg["m"]
    mu = torch.tensor(task.mu, device=device)
    Qt = torch.tensor(task.Qstar.T.copy(), device=device)  # row k: law of the position
    Pt = torch.tensor(task.P.T.copy(), device=device)  # row j: law of the token after j
    gen = torch.Generator(device=device).manual_seed(0)
    pop = Population.of(task, dtype=dtype, device=device)
    model = baseline_model(N, T, dtype).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=SGD_LR)
    record_at = set(record_steps(steps, 40).tolist())
    for t in range(1, steps + 1):
        tokens = torch.multinomial(mu, m * (T + 1), replacement=True, generator=gen)
        tokens = tokens.view(m, T + 1)
        x, k = tokens[:, :T], tokens[:, T]
        s = torch.multinomial(Qt[k], 1, generator=gen)
        o = torch.multinomial(Pt[x.gather(1, s).squeeze(1)], 1, generator=gen).squeeze(1)
        loss = baseline_loss(model, one_hot_context(x, N, dtype), k, o)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.A -= (model.A.sum(0) - 1.0) / T
            if t in record_at:
                _ = {k: v.cpu() for k, v in all_metrics(pop, model.V[None], model.A[None]).items()}
    return steps * m


def run_engine(cfg, dtype, device, steps: int) -> int:
    """``train`` with the configured plugin on R stacked runs: returns the samples drawn."""
    from scb_verify.registry import load_registry
    from scb_verify.runs import RunSpec
    from scb_verify.training import train

    algorithm = load_registry().algorithm(cfg["algo"])
    settings = {"lr": SGD_LR} if cfg["algo"] == "sgd" else {}
    specs = [
        RunSpec(task, seed=r, batch=cfg["m"], samples=steps * cfg["m"], settings=settings)
        for r, task in enumerate(make_tasks(cfg))
    ]
    results = train(algorithm, specs, dtype=dtype, device=device)
    bad = [r.status for r in results if r.status != "completed"]
    if bad:
        raise RuntimeError(f"{len(bad)} runs did not complete: {bad[:3]}")
    return sum(r.samples for r in results)


@functools.cache
def _splitmix_words():
    """A compiled loop that XORs n SplitMix64 words (what the sampler spends per random word)."""
    import numba
    import numpy as np

    from scb_verify.kernels import GAMMA, _mix64

    @numba.njit
    def words(key, n):
        acc = np.uint64(0)
        for i in range(n):
            acc ^= _mix64(key + np.uint64(i + 1) * GAMMA)
        return acc

    return words


def machine(cfg, dtype, device) -> dict:
    """What this machine does per second on one core: SplitMix64 words (the engine's random
    numbers), uniforms from one torch generator (the baseline's), streaming copy bandwidth,
    matmul flops (with the configured threads)."""
    import numpy as np
    import torch

    def best(f, n=5):
        f()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        return min(times)

    g = torch.Generator().manual_seed(0)
    u = torch.empty(1 << 22, dtype=torch.float64)
    rng = best(lambda: torch.rand(u.shape, generator=g, dtype=torch.float64, out=u)) / u.numel()
    src = torch.ones(1 << 25, dtype=torch.float64)  # 256 MiB
    dst = torch.empty_like(src)
    bw = 2 * src.numel() * 8 / best(lambda: dst.copy_(src))
    words, n = _splitmix_words(), 1 << 24
    word = best(lambda: words(np.uint64(12345), n)) / n
    out = {"rand_ns": rng * 1e9, "word_ns": word * 1e9, "copy_GBps": bw / 1e9}
    for name in ("float32", "float64"):
        a = torch.randn(1024, 1024, dtype=getattr(torch, name))
        out[f"matmul_GFLOPs_{name}"] = 2 * 1024**3 / best(lambda a=a: a @ a) / 1e9
    return out


def worker(cfg: dict) -> dict:
    import torch

    from scb_verify import kernels
    from scb_verify.registry import load_registry

    kernels.set_threads(cfg["threads"])

    # Every worker, idle included, starts alike: modules and plugins loaded, the tasks built,
    # and torch's thread pool and BLAS initialized by one tiny matmul (fixed costs of any
    # torch process, not of a training method).
    load_registry()
    dtype, device = getattr(torch, cfg["dtype"]), torch.device(cfg["device"])
    make_tasks(cfg)
    torch.ones(64, 64, dtype=dtype, device=device) @ torch.ones(64, 64, dtype=dtype, device=device)
    if cfg["kind"] == "idle":
        return {"peak_mib": peak_rss_mib()}
    if cfg["kind"] == "machine":
        return machine(cfg, dtype, device)
    if cfg["kind"] == "profile":
        return {"table": profile(cfg, dtype, device)}
    run = run_baseline if cfg["kind"] == "baseline" else run_engine
    run(cfg, dtype, device, cfg["warmup"])  # warm-up: imports, plugin registry, allocator
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0, c0 = time.perf_counter(), time.process_time()
    samples = run(cfg, dtype, device, cfg["steps"])
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss_mib()
    return {"samples": samples, "wall": wall, "cpu": cpu, "peak_mib": peak}


# --------------------------------------------------------------------------- parent side


def spawn(cfg: dict) -> dict:
    """Run ``cfg`` in a fresh interpreter; returns the worker's JSON answer."""
    env = {**os.environ, "OMP_NUM_THREADS": str(cfg["threads"])}
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(cfg)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {cfg} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_gradients(device: str) -> float:
    """Relative error of the engine's closed-form gradients against autograd on the baseline
    model, same batch, float64; raises if above 1e-10."""
    import torch

    from scb_verify.gradients import minibatch_gradients
    from scb_verify.sampler import Sampler

    cfg = {**REF, "R": 1}
    (task,) = make_tasks(cfg)
    batch = Sampler([task], [123], device=device).sample(cfg["m"])
    model = baseline_model(cfg["N"], cfg["T"], torch.float64).to(device)
    g = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():  # a generic point: V random, A random columns summing to 1
        model.V.copy_(torch.randn(model.V.shape, generator=g, dtype=torch.float64, device=device))
        model.A.copy_(torch.rand(model.A.shape, generator=g, dtype=torch.float64, device=device))
        model.A /= model.A.sum(0)
    X = one_hot_context(batch.x[0].long(), cfg["N"], torch.float64)
    loss = baseline_loss(model, X, batch.k[0], batch.o[0])
    loss.backward()
    eng = minibatch_gradients(model.V.detach()[None], model.A.detach()[None], batch)
    err = 0.0
    for mine, ref in ((eng.V[0], model.V.grad), (eng.A[0], model.A.grad), (eng.loss[0], loss)):
        ref = ref.detach()
        err = max(err, float((mine - ref).abs().max() / ref.abs().max()))
    if not err <= 1e-10:
        raise AssertionError(f"engine gradients differ from autograd: relative error {err:.3g}")
    return err


def lower_bound(info: dict, N: int, T: int, threads: int) -> tuple[list[str], float]:
    """Work per sample, what this machine does per second, and the bounds that follow;
    returns the lines and the random-word bound in samples/s per core."""
    from scb_verify.kernels import words_per_sample

    W = words_per_sample(T)
    flops = 2 * T + 6 * N * N  # h: T adds; V h, r hᵀ, Vᵀ r: 3 × 2N²; G_A: T adds
    word_bound = 1 / (W * info["word_ns"] * 1e-9)
    token_bytes = 3 * T  # one byte per token: written by the sampler, read twice per sample
    bw = info["copy_GBps"] * 1e9
    lines = [
        f"work per sample: W = {W} SplitMix64 words (T + 1 = {T + 1} token draws, 2 per word, "
        f"+ 1 for position and output), T + 1 guide-table lookups, 2T + 6N² = {flops} flops, "
        f"~{token_bytes} B of token traffic (uint8: written once, read twice)",
        f"this machine: {info['word_ns']:.2f} ns per SplitMix64 word (compiled loop, one core); "
        f"torch.rand {info['rand_ns']:.2f} ns per float64 uniform; copy "
        f"{info['copy_GBps']:.1f} GB/s; matmul {info['matmul_GFLOPs_float32']:.0f} GFLOP/s f32 / "
        f"{info['matmul_GFLOPs_float64']:.0f} f64 ({threads} threads)",
        f"bounds, samples/s: random words {word_bound:,.0f} per core, "
        f"{threads * word_bound:,.0f} on {threads}; flops "
        f"{info['matmul_GFLOPs_float32'] * 1e9 / flops:,.0f}; token traffic "
        f"{bw / token_bytes:,.0f} (none binds: the loops are bound by chains of dependent "
        "loads and stores)",
    ]
    return lines, word_bound


def spawn_rows(rows, base: dict, repeats: int) -> list[list[dict]]:
    """Every row ``repeats`` times, rows interleaved within each repeat."""
    out: list[list[dict]] = [[] for _ in rows]
    for rep in range(repeats):
        for i, row in enumerate(rows):
            out[i].append(spawn({**base, **row["cfg"]}))
        load = os.getloadavg()[0]
        print(f"  [threads={base['threads']}] repeat {rep + 1}/{repeats}; load {load:.2f}")
    return out


def benchmark_rows(dtypes: list[str], R: int, small: bool, scale: float) -> list[dict]:
    """The configurations: (a), (b), (c) for each dtype at the reference size, and the same
    at the small size (float64) where batching has per-step overhead to amortize."""

    def steps(n: int) -> int:
        return max(3, int(n * scale))

    sizes = [("ref", REF, dtypes, (25, 150, 15))]
    if small:
        sizes.append(("small", SMALL, ["float64"], (400, 400, 400)))
    rows = []
    for size, dims, dts, (sa, sb, sc) in sizes:
        for dtype in dts:
            cfg = {**dims, "dtype": dtype}
            rows.append(
                dict(
                    label="a baseline",
                    size=size,
                    dtype=dtype,
                    algo=None,
                    cfg={**cfg, "kind": "baseline", "R": 1, "steps": steps(sa)},
                )
            )
            for algo in ("sgd", "pppd"):
                for label, r, n in ((f"b {algo} R=1", 1, sb), (f"c {algo} R={R}", R, sc)):
                    rows.append(
                        dict(
                            label=label,
                            size=size,
                            dtype=dtype,
                            algo=algo,
                            cfg={**cfg, "kind": "engine", "algo": algo, "R": r, "steps": steps(n)},
                        )
                    )
    return rows


def report(rows, results, tiny, idle, R: int, device: str) -> dict:
    """Print the table and the ratios; returns {(label, size, dtype): median samples/s}."""
    rates = {}
    print(
        f"{'config':14s} {'size':5s} {'dtype':8s} {'samples/s: median (range)':>30s} "
        f"{'CPU-s/Msample':>13s} {'MiB over idle':>13s} {'data MiB':>8s}"
    )
    stats = {}
    for row, res, ref in zip(rows, results, tiny, strict=True):
        rs = sorted(r["samples"] / r["wall"] for r in res)
        cpu = statistics.median(r["cpu"] / r["samples"] * 1e6 for r in res)
        peak = max(r["peak_mib"] for r in res)
        over_idle = peak - (idle[row["size"]] if device == "cpu" else 0.0)
        key = (row["label"], row["size"], row["dtype"])
        stats[key] = (statistics.median(rs), cpu, peak - ref, over_idle)
        rates[key] = stats[key][0]
        print(
            f"{row['label']:14s} {row['size']:5s} {row['dtype']:8s} {stats[key][0]:11,.0f} "
            f"({rs[0]:7,.0f}–{rs[-1]:8,.0f}) {cpu:13.2f} {over_idle:13.1f} {peak - ref:8.1f}"
        )
    print(
        "ratios of median throughputs (c counts all R runs: per-run time = wall / R); "
        "CPU-time ratios; memory ratios (engine one run / baseline):"
    )
    for (label, size, dtype), (a, a_cpu, a_data, a_idle) in stats.items():
        if label != "a baseline":
            continue
        for algo in ("sgd", "pppd"):
            b, b_cpu, b_data, b_idle = stats[(f"b {algo} R=1", size, dtype)]
            c, c_cpu, _, _ = stats[(f"c {algo} R={R}", size, dtype)]
            print(
                f"  {size:5s} {dtype:8s} {algo:4s}  b/a {b / a:5.1f}  c/a {c / a:5.1f}  "
                f"c/b {c / b:4.2f} | CPU: b/a {a_cpu / b_cpu:5.1f}  c/b {b_cpu / c_cpu:4.2f} | "
                f"memory: data {b_data / a_data:.3f}, over idle {b_idle / a_idle:.3f}"
            )
    return rates


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", default="2,1", help="torch thread counts to run (default 2,1)")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--runs", type=int, default=16, help="R for the batched engine")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="few steps, one repeat (smoke)")
    ap.add_argument("--no-small", action="store_true", help="skip the small-size rows")
    ap.add_argument("--profile", action="store_true", help="print the engine's profile")
    ap.add_argument(
        "--paper", action="store_true", help="with a device: only paper-scale training vs the CPU"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    import torch

    threads = [int(t) for t in args.threads.split(",")]
    policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, device {args.device}, "
        f"OMP_WAIT_POLICY={policy}; load average before: {os.getloadavg()[0]:.2f}"
    )
    err = check_gradients(args.device)
    print(f"gradient check (float64, engine vs autograd on one batch): relative error {err:.1e}")
    if args.device != "cpu":
        return device_main(args)
    if args.profile:  # in a worker, so that it runs with the same settings as the timings
        for th in threads:
            cfg = {**REF, "R": 1, "algo": "pppd", "kind": "profile", "steps": 100, "warmup": 0}
            cfg.update(device=args.device, threads=th, dtype="float32")
            print(f"profile: pppd, one run, reference size, float32, 100 steps, {th} thread(s):")
            print(spawn(cfg)["table"])
    rows = benchmark_rows(
        args.dtypes.split(","), args.runs, not args.no_small, 0.2 if args.quick else 1.0
    )
    repeats = 1 if args.quick else args.repeats
    for th in threads:
        base = dict(device=args.device, threads=th, warmup=2)
        print(f"\n== {th} thread(s) ==")
        idle = {
            size: spawn({**base, **dims, "kind": "idle", "R": 1, "dtype": "float64"})["peak_mib"]
            for size, dims in (("ref", REF), ("small", SMALL))
        }
        # The same code path at one sample per step: what a configuration costs whatever its
        # size (code pages of its kernels, plugin state, runtime pools); "data" subtracts it.
        tiny = [
            spawn({**base, **row["cfg"], "m": 1, "steps": 1, "warmup": 1})["peak_mib"]
            for row in rows
        ]
        results = spawn_rows(rows, base, repeats)
        rates = report(rows, results, tiny, idle, args.runs, args.device)
        if args.device != "cpu":
            continue
        info = spawn({**base, **REF, "kind": "machine", "R": 1, "dtype": "float64"})
        print("lower bound at the reference size:")
        lines, per_core = lower_bound(info, REF["N"], REF["T"], th)
        for line in lines:
            print("  " + line)
        for dtype in args.dtypes.split(","):
            for algo in ("sgd", "pppd"):
                b = rates[(f"b {algo} R=1", "ref", dtype)]
                c = rates[(f"c {algo} R={args.runs}", "ref", dtype)]
                print(
                    f"  {dtype} {algo}: R=1 at {b / (th * per_core):.0%} and R={args.runs} at "
                    f"{c / (th * per_core):.0%} of the {th}-core random-word bound"
                )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if args.device == "cpu":
        print(
            "peak memory: VmHWM of a fresh process per configuration; 'MiB over idle' "
            "subtracts an idle process's, 'data MiB' the same configuration's own run at one "
            "sample per step"
        )
    else:
        print("peak memory: torch.cuda.max_memory_allocated")
    return 0


def on_cuda(device) -> bool:
    import torch

    return torch.device(device).type == "cuda"


def timed_on(device, f) -> float:
    """Wall seconds of ``f()``, between device synchronizations."""
    import torch

    sync = torch.cuda.synchronize if on_cuda(device) else (lambda: None)
    sync()
    t0 = time.perf_counter()
    f()
    sync()
    return time.perf_counter() - t0


def copy_bandwidth(device) -> float:
    """Bytes per second of a device-to-device copy of 1 GiB (read + write), best of 5."""
    import torch

    src = torch.ones(1 << 28, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    return 2 * src.numel() * 4 / min(timed_on(device, lambda: dst.copy_(src)) for _ in range(5))


def sampler_rates(device: str, dims: dict, steps: int) -> tuple[float, float]:
    """Samples per second of the tensor sampler and of the baseline's ``torch.multinomial``
    draws (tokens, position, output), at ``dims``, on ``device``."""
    import torch

    from scb_verify.sampler import Sampler

    (task,) = make_tasks({**dims, "R": 1})
    T, m = dims["T"], dims["m"]
    sampler = Sampler([task], [0], device=device)
    mu = torch.tensor(task.mu, device=device)
    Qt = torch.tensor(task.Qstar.T.copy(), device=device)
    Pt = torch.tensor(task.P.T.copy(), device=device)
    gen = torch.Generator(device=device).manual_seed(0)

    def textbook():
        tokens = torch.multinomial(mu, m * (T + 1), replacement=True, generator=gen).view(m, -1)
        s = torch.multinomial(Qt[tokens[:, T]], 1, generator=gen)
        torch.multinomial(Pt[tokens[:, :T].gather(1, s).squeeze(1)], 1, generator=gen)

    rates = []
    for draw in (lambda: sampler.sample(m), textbook):
        draw()
        rates.append(steps * m / timed_on(device, lambda d=draw: [d() for _ in range(steps)]))
    return rates[0], rates[1]


def device_main(args) -> int:
    """``--device`` other than cpu: the table of (a), (b), (c) in this process, the sampler
    against its baselines and the device's copy bound, the engine against the CPU engine on all
    cores, and with ``--paper`` paper-scale training (module docstring)."""
    import torch

    scale = 0.2 if args.quick else 1.0
    cores = os.cpu_count() or 1
    if args.paper:
        paper_scale(args.device, cores)
        return 0
    rows = benchmark_rows(args.dtypes.split(","), args.runs, not args.no_small, scale)
    print(f"\n{'config':14s} {'size':5s} {'dtype':8s} {'samples/s':>12s} {'peak MiB':>9s}")
    rates = {}
    for row in rows:
        cfg = {**row["cfg"], "device": args.device, "threads": 1}
        run = run_baseline if cfg["kind"] == "baseline" else run_engine
        dtype = getattr(torch, cfg["dtype"])
        run(cfg, dtype, args.device, 2)  # warm-up
        if on_cuda(args.device):
            torch.cuda.reset_peak_memory_stats()
        wall = timed_on(args.device, lambda c=cfg, r=run, d=dtype: r(c, d, args.device, c["steps"]))
        samples = cfg["steps"] * cfg["m"] * cfg["R"]
        rates[(row["label"], row["size"], row["dtype"])] = samples / wall
        peak = torch.cuda.max_memory_allocated() / 2**20 if on_cuda(args.device) else float("nan")
        print(
            f"{row['label']:14s} {row['size']:5s} {row['dtype']:8s} {samples / wall:12,.0f} "
            f"{peak:9.1f}"
        )
    for (label, size, dtype), a in rates.items():
        if label == "a baseline":
            for algo in ("sgd", "pppd"):
                b = rates[(f"b {algo} R=1", size, dtype)]
                c = rates[(f"c {algo} R={args.runs}", size, dtype)]
                print(f"  {size:5s} {dtype:8s} {algo:4s}  b/a {b / a:6.1f}  c/a {c / a:6.1f}")
    bw = copy_bandwidth(args.device)
    for name, dims in (("reference", REF), ("paper", PAPER)):
        ours, textbook = sampler_rates(args.device, dims, max(3, int(50 * scale)))
        bound = bw / (3 * dims["T"])
        print(
            f"sampler at the {name} size (T = {dims['T']}, m = {dims['m']}): {ours:,.0f} "
            f"samples/s, {ours / textbook:.1f}x torch.multinomial ({textbook:,.0f}); device "
            f"copy {bw / 1e9:,.0f} GB/s bounds the token traffic (3T B/sample) at {bound:,.0f} "
            f"samples/s: {ours / bound:.0%} of it"
        )
    (c_row,) = [r for r in rows if r["label"] == f"c pppd R={args.runs}" and r["size"] == "ref"
                and r["dtype"] == "float64"]  # fmt: skip
    cpu = spawn({**c_row["cfg"], "device": "cpu", "threads": cores, "warmup": 2})
    on_cpu = cpu["samples"] / cpu["wall"]
    ours = rates[(f"c pppd R={args.runs}", "ref", "float64")]
    print(
        f"engine pppd R={args.runs} float64, reference size: {ours:,.0f} samples/s on "
        f"{args.device} vs {on_cpu:,.0f} on the CPU engine ({cores} threads): {ours / on_cpu:.1f}x"
    )
    return 0


def paper_scale(device: str, cores: int) -> None:
    """pppd at the paper's scale, float64: ``train`` on ``device`` against the CPU engine on
    ``cores`` threads (a subprocess)."""
    steps = PAPER["samples"] // PAPER["m"]
    cfg = {**PAPER, "R": 1, "algo": "pppd", "kind": "engine", "dtype": "float64"}
    gpu = spawn({**cfg, "device": device, "threads": 1, "steps": steps, "warmup": 2})
    cpu = spawn({**cfg, "device": "cpu", "threads": cores, "steps": steps, "warmup": 2})
    print(
        f"paper scale (N = {PAPER['N']}, T = {PAPER['T']}, Q = {PAPER['Q']}, batch {PAPER['m']}, "
        f"{steps * PAPER['m']:,} samples, pppd, float64): {gpu['wall']:.2f} s on {device} vs "
        f"{cpu['wall']:.2f} s on the CPU engine ({cores} threads): "
        f"{cpu['wall'] / gpu['wall']:.1f}x"
    )


def profile(cfg: dict, dtype, device) -> str:
    """Where the engine's step goes (``cfg``: algorithm, R, size): seconds in the sampling
    kernel, in the gradient kernel, and in everything else (the algorithm's O(NT) update, the
    metrics at the recorded steps, Python, the run's setup), over ``cfg["steps"]`` steps. With
    two threads the sampling kernel runs on the helper thread, overlapping the rest."""
    from scb_verify import kernels

    spent = {"draw_samples": 0.0, "minibatch_gradients": 0.0}

    def timed(name):
        kernel = getattr(kernels, name)

        def call(*args):
            t0 = time.perf_counter()
            kernel(*args)
            spent[name] += time.perf_counter() - t0

        return call

    run_engine(cfg, dtype, device, 3)
    for name in spent:
        setattr(kernels, name, timed(name))
    t0 = time.perf_counter()
    samples = run_engine(cfg, dtype, device, cfg["steps"])
    total = time.perf_counter() - t0
    rest = total - sum(spent.values())
    per = 1e6 / samples
    return "\n".join(
        f"  {name:22s} {sec * per:6.3f} µs/sample  {sec / total:5.1%}"
        for name, sec in (*spent.items(), ("rest of the step", rest), ("total", total))
    )


if __name__ == "__main__":
    sys.exit(main())
