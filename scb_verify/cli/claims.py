"""``scb-verify claims``: the claims, their statements and sympy bounds."""

from __future__ import annotations

import argparse
import json

HELP = "list the claims with their statements and sympy bounds"
DESCRIPTION = f"""{HELP}.

example:
  scb-verify claims
  scb-verify claims --explain C4    # one claim with its grids and its section of the reference"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--explain",
        metavar="CLAIM",
        help="one claim in full: its statement, bounds, grids and section of docs/reference.md",
    )


def run(args: argparse.Namespace) -> int:
    from scb_verify import reference
    from scb_verify.cli.common import UsageError
    from scb_verify.records import claim_order
    from scb_verify.registry import load_registry

    reg = load_registry(args.plugin)
    if args.explain is not None:
        try:
            claim = reg.claim(args.explain)
        except KeyError as e:
            raise UsageError(e.args[0]) from None
        _print_claim(claim, reg.sources[("register_claims", claim.id)])
        for budget, grid in claim.grids.items():
            print(f"    grid {budget}: {json.dumps(grid.as_dict())}")
        found = reference.claim_section(claim.id)
        if found is None:
            print(f"\n{reference.SOURCE} has no section for {claim.id} (a plugin's own claim)")
        else:
            print(f"\nfrom {reference.SOURCE}:\n\n{found.text}", end="")
        return 0
    for claim_id in sorted(reg.claims, key=claim_order):
        _print_claim(reg.claims[claim_id], reg.sources[("register_claims", claim_id)])
    return 0


def _print_claim(claim, source: str) -> None:
    import sympy

    paper = f"paper {claim.paper}; " if claim.paper else ""
    print(f"{claim.id}  {claim.title}  [{paper}algorithm {claim.algorithm}]")
    print(f"    {claim.statement}")
    for name, expr in claim.bounds.items():
        pretty = sympy.pretty(expr, use_unicode=True).splitlines()
        print(f"    {name}: " + ("\n" + " " * (6 + len(name))).join(pretty))
    print(f"    negative control: {claim.control}")
    print(f"    source: {source}")
