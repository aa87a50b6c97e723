"""Instance families: overrides of the instance generator's parameters (docs/reference.md §1),
applied by the framework to every instance a claim builds (``check --family KEY=VALUE``).

A claim builds its instances with :meth:`scb_verify.claim.ClaimContext.task`, which calls
:func:`scb_verify.task.make_task` with the claim's own parameters and the family's on top, so a
third-party claim gets families for free. The parameters a family may set (:data:`PARAMETERS`):
the Dirichlet concentration of P's columns, the support pattern, the window of a window support
and the support weights. An empty family is the generator's defaults (and each claim's own
choices): the runs of a check without ``--family``.

Light: the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

#: Parameter → (what it is, how a value is read: a converter or the allowed words).
PARAMETERS: dict[str, tuple[str, Any]] = {
    "concentration": ("Dirichlet concentration of P's columns (> 0; large: weak signal)", float),
    "support": ("where each token's attended positions lie", ("random", "window", "shared")),
    "window": ("the last positions a window support draws from (≥ 1)", int),
    "weights": ("the weights of Q*'s support positions", ("dirichlet", "uniform")),
}


class FamilyError(ValueError):
    """A family that cannot be read, or that a claim's instances cannot take (one line)."""


def parse_family(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a family, each value read as its parameter's type; FamilyError
    names an unknown key (listing the allowed ones), a bad value or a key given twice."""
    family: dict[str, Any] = {}
    for key, text in pairs:
        if key not in PARAMETERS:
            raise FamilyError(f"unknown family parameter {key!r}; allowed: {', '.join(PARAMETERS)}")
        if key in family:
            raise FamilyError(f"family parameter {key} given twice; give it once")
        family[key] = _value(key, text)
    return family


def _value(key: str, text: str) -> Any:
    what, kind = PARAMETERS[key]
    if isinstance(kind, tuple):
        if text not in kind:
            raise FamilyError(f"family {key}={text!r}: expected one of {', '.join(kind)}")
        return text
    try:
        value = kind(text)
    except ValueError:
        raise FamilyError(f"family {key}={text!r}: expected {what}") from None
    if not (math.isfinite(value) and value > 0):
        raise FamilyError(f"family {key}={text!r}: expected {what}")
    return value


def family_label(family: Mapping[str, Any]) -> str:
    """``"concentration=5,support=window"`` (keys in :data:`PARAMETERS` order), or ``""`` for
    the default family."""
    return ",".join(f"{k}={family[k]:g}" if isinstance(family[k], float) else f"{k}={family[k]}"
                    for k in PARAMETERS if k in family)  # fmt: skip
