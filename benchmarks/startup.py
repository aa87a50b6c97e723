"""Start-up time and peak memory of the light commands, against ``python -c pass`` measured in
the same run (issue 21: ``--version`` and ``diff`` must not start the engine).

    python benchmarks/startup.py [--repeat 5]

Prints, per command, the median wall time over the repeats, its ratio to ``python -c pass``,
and the peak resident memory of the child (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(argv: list[str], repeat: int) -> tuple[float, float]:
    """(median seconds, peak resident MiB) of running ``argv`` ``repeat`` times."""
    times, peak = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - t0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited with {child.returncode}")
        peak = max(peak, usage.ru_maxrss)
    return statistics.median(times), peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    baseline = ROOT / "baselines" / "ci.json"
    cli = [shutil.which("scb-verify") or "scb-verify"]
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "scb-verify --version": [*cli, "--version"],
            "scb-verify diff": [*cli, "diff", str(baseline), str(baseline)],
            "scb-verify report": [*cli, "report", str(baseline), "--out", tmp],
        }
        rows = {name: measure(argv, args.repeat) for name, argv in commands.items()}
    base = rows["python -c pass"][0]
    print(f"{'command':24} {'median s':>9} {'× python':>9} {'peak MiB':>9}")
    for name, (seconds, mib) in rows.items():
        print(f"{name:24} {seconds:9.3f} {seconds / base:9.1f} {mib:9.0f}")


if __name__ == "__main__":
    main()
