"""The paper's sample-complexity bounds as sympy expressions (docs/reference.md §0 S3/S4, §6, §7).

Exponents and constants are symbols — the paper's values are not known here — so a claim checks
the *shape* of a bound through its local exponent ∂log f/∂log x (:func:`checks.local_exponent`),
and measures and reports the exponents instead of hard-coding them. The range a measured
exponent must lie in comes from the statement itself (:func:`predicted_range`), with its ends
open where the statement is strict.
"""

from __future__ import annotations

import math

import sympy
from sympy.core.relational import Relational

from scb_verify.checks import local_exponent
from scb_verify.verdict import Range

T, N, Q = sympy.symbols("T N Q", positive=True, integer=True)
eps = sympy.Symbol("epsilon", positive=True)
C, a, b, c, kappa = sympy.symbols("C a b c kappa_1", positive=True)

#: Stage 1 (S3): escaping uniform attention costs poly(T) samples.
STAGE1 = C * T**kappa
#: Stage 2 (S3) and finetuning (S4): poly(N, Q, 1/ε) samples, independent of T up to logs.
STAGE2 = C * N**a * Q**b * eps**-c * sympy.log(T)


def predicted_range(statement: sympy.Expr | Relational) -> Range:
    """The values a statement allows, with open ends where it is strict.

    A relation in one symbol (``sympy.Gt(s, 0)``: "s > 0") gives the set sympy solves it to
    (``as_set``), which must be an interval: Gt → open end, Ge → closed. An expression (an
    exponent such as κ₁ from ``local_exponent(C·T**κ₁, T)``) gives what its sign assumptions
    state: positive → (0, ∞), nonnegative → [0, ∞), negative → (−∞, 0), nonpositive → (−∞, 0].
    ValueError when the statement determines no such range (e.g. κ₁ − 1/log T, whose sign the
    assumptions leave open)."""
    if isinstance(statement, Relational):
        if len(statement.free_symbols) != 1:
            raise ValueError(f"{statement} must relate exactly one symbol to constants")
        allowed = statement.as_set()
        if not isinstance(allowed, sympy.Interval):
            raise ValueError(f"{statement} allows {allowed}, not one interval")
        return Range(
            float(allowed.start),
            float(allowed.end),
            lo_closed=not allowed.left_open,
            hi_closed=not allowed.right_open,
        )
    for test, found in (
        ("is_positive", Range(0.0, math.inf, lo_closed=False)),
        ("is_nonnegative", Range(0.0, math.inf)),
        ("is_negative", Range(-math.inf, 0.0, hi_closed=False)),
        ("is_nonpositive", Range(-math.inf, 0.0)),
    ):
        if getattr(statement, test):
            return found
    raise ValueError(f"the assumptions on {statement} state no sign: no predicted range")


def log_growth_range(bound: sympy.Expr, t_min: float) -> Range:
    """(−∞, w] with w the largest local exponent in T of ``bound`` on T ≥ t_min (other symbols
    at 1): the slopes in T compatible with an *upper* bound that grows only through log T.

    For C·…·log T, w = 1/ln t_min. A measured slope whose interval lies below w is "does not
    grow with T beyond logs" — a cost that falls with T does not contradict an upper bound;
    an interval above w is growth faster than the bound allows. Closed at w: a cost growing
    exactly like the bound is within it.
    """
    others = {s: 1 for s in bound.free_symbols if s != T}
    width = float(local_exponent(bound, T, {T: t_min, **others}))
    return Range(-math.inf, width)
