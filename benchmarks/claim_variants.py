"""Run claims with grid parameters overridden: a claim's documented variants on the same seeds.

A claim's grid (docs/reference.md §6) is fixed per budget; the command line has no switch for its
fields. This script runs claims with some fields replaced at every budget — e.g. the stage
claims' earlier ``reading = "aggregate"`` (§6.3), a wider T grid for the growth test of §7.1, more
seeds — and writes the same versioned results file as ``scb-verify check --json`` (readable by
``scb-verify report`` and ``diff``), so that a variant and the default compare seed for seed::

    python benchmarks/claim_variants.py C3 C4 C5 --budget ci --jobs 2 \\
        --grid reading=aggregate --json results/ci-aggregate.json
    python benchmarks/claim_variants.py C4 --budget full --jobs 16 \\
        --grid 'T=[32,64,128,256,512,1024,2048,4096]' --json results/full-c4-wide.json

``--grid KEY=VALUE`` takes VALUE as JSON (lists become tuples) or, if it is not JSON, as a
string; the claim's grid class checks it. ``--set KEY=VALUE`` (same parsing) sets a setting of the
algorithm under test, for ablations::

    python benchmarks/claim_variants.py C5 --budget ci --jobs 2 --set lam=0 --json FILE

``--plugin MODULE`` registers extra plugin modules (e.g. ``PYTHONPATH=tests ... --plugin
broken_algorithms`` for the deliberately broken algorithms of the tests).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from scb_verify.cache import JobCache
from scb_verify.claimkit import with_grid
from scb_verify.executors import local_executor
from scb_verify.paths import job_cache
from scb_verify.registry import load_registry
from scb_verify.runner import run_claims
from scb_verify.schema import results_document


def grid_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, value): VALUE parsed as JSON, else kept as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="+")
    parser.add_argument("--budget", default="ci", choices=("smoke", "ci", "full"))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--algorithm")
    parser.add_argument("--controls", action="store_true")
    parser.add_argument("--grid", type=grid_value, action="append", default=[])
    parser.add_argument("--set", type=grid_value, action="append", default=[])
    parser.add_argument("--plugin", action="append", default=[])
    parser.add_argument("--cache", default=None, help="job cache (default: check's)")
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    registry = load_registry(args.plugin)
    claims = [with_grid(registry.claim(i), **dict(args.grid)) for i in args.claims]
    start = time.monotonic()
    with local_executor(args.jobs) as executor:
        reports = run_claims(
            claims,
            budget=args.budget,
            executor=executor,
            algorithm=args.algorithm,
            control=args.controls,
            plugins=args.plugin,
            cache=JobCache(args.cache or job_cache()),
            settings=dict(args.set),
        )
    doc = results_document(
        reports,
        budget=args.budget,
        algorithm=args.algorithm,
        control=args.controls,
        wall_time=time.monotonic() - start,
    )
    doc["grid_overrides"] = dict(args.grid)
    doc["settings_overrides"] = dict(args.set)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    for r in reports:
        print(f"{r.id}: {r.status.value}")
        for check in r.checks:
            print(f"    {check.headline}")
        if r.error:
            print(r.error, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
