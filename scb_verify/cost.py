"""The cost of a training run, estimated from its sizes before anything is allocated.

A stack of R runs over N tokens and context length T, with batch m and float size b bytes
(docs/reference.md §5), holds at its peak:

- **tokens**: the batches alive at once — the one being used and the one drawn ahead — each
  R·m·(T·t + 16) bytes (contexts in t = 1, 2 or 4 bytes per token, query and output as int64);
- **parameters**: V (N×N) and A (T×N) of every run, R·(N² + TN) numbers, four times: the initial
  arrays and their stacked copy (float64), the tensors and the algorithm's state (b bytes);
- **gradients**: G_V and G_A, one temporary of the update, the transposed copy of A the compiled
  kernel reads, and the kernel's float64 partial sums, one set per chunk of the batch
  (:func:`scb_verify.kernels.chunks`);
- **task**: P and Q* of each task (float64), the population's P, Q* and Σ (b bytes), the
  sampler's CDF of P (int64).

Work is R·samples·(T + 1) token draws and as many samples through the gradient (∝ T + N² each),
plus per step a fixed overhead and the O(N³) preconditioning and metrics, plus per run the O(N²)
task checks. The constants below, measured on one core of the development machine with
``scb-verify train`` (N = 5, T = 64 at batch 16 and 256; N = 400, T = 8 at batch 16 and 512;
N = 1000, T = 2000), turn it into a rough
time: within a factor of 2 there, an underestimate by about 4× at N = 2000, T = 20000 (194 s
measured, peak memory 3.2 GiB above the idle process against 3.3 GiB estimated).
:func:`check_memory` refuses a run that needs more than the memory available.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

#: Rough seconds per token drawn and consumed on one core: 2.7 µs per sample at T = 256
#: (benchmarks/README.md, the engine's profile), about 10 ns per token.
SECONDS_PER_TOKEN = 1.0e-8
#: Rough seconds per sample and N² (the gradient's V·h and Vᵀr): 0.98 ms per sample at N = 400.
SECONDS_PER_SQUARE = 6.0e-9
#: Rough seconds per step whatever the sizes (the loop, metrics, milestones): 3.0 ms measured at
#: N = 5, T = 64 at batch 16 and at batch 256 alike.
SECONDS_PER_STEP = 3.0e-3
#: Rough seconds per step and N³ (preconditioning, the watched metric): 79 ms at N = 400.
SECONDS_PER_CUBE = 1.2e-9
#: Rough seconds per run and N² (the task's ergodicity check and stationary law): 8 s at N = 1000.
SECONDS_PER_ENTRY = 8.0e-6
#: A run estimated to take longer than this says so when it starts.
LONG_RUN_SECONDS = 600.0
#: Batches alive at once: the one in use and the one drawn ahead.
BATCHES_ALIVE = 2


class CostError(ValueError):
    """A run that would need more memory than the machine has."""


@dataclass(frozen=True)
class Cost:
    """Estimated peak memory (bytes, by part) and work of a stack of ``runs`` runs."""

    runs: int
    N: int
    T: int
    batch: int
    samples: int
    tokens: int
    parameters: int
    gradients: int
    task: int

    @property
    def memory(self) -> int:
        """Peak bytes: every part together."""
        return self.tokens + self.parameters + self.gradients + self.task

    @property
    def token_draws(self) -> int:
        """Tokens drawn over the whole run: runs × samples × (T + 1)."""
        return self.runs * self.samples * (self.T + 1)

    @property
    def seconds(self) -> float:
        """Rough time on one core (the constants above)."""
        per_sample = (self.T + 1) * SECONDS_PER_TOKEN + self.N**2 * SECONDS_PER_SQUARE
        steps = self.samples // self.batch
        per_run = (
            self.samples * per_sample
            + steps * (SECONDS_PER_STEP + self.N**3 * SECONDS_PER_CUBE)
            + self.N**2 * SECONDS_PER_ENTRY
        )
        return self.runs * per_run

    def memory_text(self) -> str:
        """``"about 44 GiB (tokens …, parameters …, gradients …, task …)"``."""
        parts = ", ".join(
            f"{name} {size(getattr(self, name))}"
            for name in ("tokens", "parameters", "gradients", "task")
        )
        return f"about {size(self.memory)} ({parts})"

    def work_text(self) -> str:
        """``"1e+12 samples × (T + 1 = 65) tokens = 6.5e+13 token draws, roughly 7.5 days on
        one core"``."""
        runs = f"{self.runs} runs × " if self.runs > 1 else ""
        return (
            f"{runs}{self.samples:.3g} samples × (T + 1 = {self.T + 1}) tokens = "
            f"{self.token_draws:.3g} token draws, roughly {duration(self.seconds)} on one core"
        )


def estimate(
    N: int, T: int, *, batch: int, samples: int, runs: int = 1, float_bytes: int = 8
) -> Cost:
    """The :class:`Cost` of ``runs`` stacked runs (see the module docstring); ``samples`` is
    the per-run budget, rounded up to whole batches as the training loop does."""
    samples = math.ceil(samples / batch) * batch
    token_bytes = 1 if N <= 256 else 2 if N <= 1 << 15 else 4
    square, attention = runs * N * N, runs * T * N
    chunks = max(1, min(4, batch // 256))  # scb_verify.kernels.chunks
    return Cost(
        runs=runs,
        N=N,
        T=T,
        batch=batch,
        samples=samples,
        tokens=BATCHES_ALIVE * runs * batch * (T * token_bytes + 16),
        parameters=(square + attention) * (2 * 8 + 2 * float_bytes),
        gradients=(square + attention) * (2 * float_bytes + 8 * chunks) + attention * float_bytes,
        task=(square + attention) * 8 + (2 * square + attention) * float_bytes + square * 8,
    )


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable (/proc/meminfo), capped by the
    cgroup's limit (memory.max − memory.current) where there is one; ``os.sysconf``'s available
    pages elsewhere; None if the system does not say."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        cgroup = Path("/sys/fs/cgroup")
        cap = (cgroup / "memory.max").read_text().strip()
        if cap != "max":
            limits.append(int(cap) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return max(0, min(limits))


def check_memory(cost: Cost, available: int | None = None) -> None:
    """Raise :class:`CostError` if ``cost.memory`` exceeds ``available`` bytes (default:
    :func:`available_memory`; no check where that is unknown)."""
    available = available_memory() if available is None else available
    if available is not None and cost.memory > available:
        raise CostError(
            f"a run at N={cost.N}, T={cost.T}, batch {cost.batch}"
            + (f", {cost.runs} runs" if cost.runs > 1 else "")
            + f" needs {cost.memory_text()}, more than the {size(available)} available; "
            "reduce N, T, the batch or the runs stacked"
        )


def size(nbytes: float) -> str:
    """Bytes in binary units: ``"512 B"``, ``"3.4 MiB"``, ``"44 GiB"``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    i = 0
    while nbytes >= 1024 and i < len(units) - 1:
        nbytes, i = nbytes / 1024, i + 1
    return f"{nbytes:.0f} B" if i == 0 else f"{nbytes:.3g} {units[i]}"


def duration(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"3.1 h"``, ``"7.5 days"``, ``"2.1e+03 years"``."""
    for limit, unit, scale in ((60, "s", 1), (3600, "min", 60), (86400, "h", 3600)):
        if seconds < limit:
            return f"{seconds / scale:.2g} {unit}"
    days = seconds / 86400
    return f"{days:.2g} days" if days < 365 else f"{days / 365:.2g} years"


__all__ = [
    "LONG_RUN_SECONDS",
    "Cost",
    "CostError",
    "available_memory",
    "check_memory",
    "duration",
    "estimate",
    "size",
]
