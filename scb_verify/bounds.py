"""The paper's sample-complexity bounds as sympy expressions (docs/reference.md §0 S3/S4, §6, §7).

Exponents and constants are symbols — the paper's values are not known here — so a claim checks
the *shape* of a bound through its local exponent ∂log f/∂log x (:func:`checks.local_exponent`),
and measures and reports the exponents instead of hard-coding them.
"""

from __future__ import annotations

import math

import sympy

from scb_verify.checks import local_exponent

T, N, Q = sympy.symbols("T N Q", positive=True, integer=True)
eps = sympy.Symbol("epsilon", positive=True)
C, a, b, c, kappa = sympy.symbols("C a b c kappa_1", positive=True)

#: Stage 1 (S3): escaping uniform attention costs poly(T) samples.
STAGE1 = C * T**kappa
#: Stage 2 (S3) and finetuning (S4): poly(N, Q, 1/ε) samples, independent of T up to logs.
STAGE2 = C * N**a * Q**b * eps**-c * sympy.log(T)


def log_growth_range(bound: sympy.Expr, t_min: float) -> tuple[float, float]:
    """(−∞, w] with w the largest local exponent in T of ``bound`` on T ≥ t_min (other symbols
    at 1): the slopes in T compatible with an *upper* bound that grows only through log T.

    For C·…·log T, w = 1/ln t_min. A measured slope whose interval lies below w is "does not
    grow with T beyond logs" — a cost that falls with T does not contradict an upper bound;
    an interval above w is growth faster than the bound allows.
    """
    others = {s: 1 for s in bound.free_symbols if s != T}
    width = float(local_exponent(bound, T, {T: t_min, **others}))
    return (-math.inf, width)
