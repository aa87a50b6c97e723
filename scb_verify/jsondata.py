"""The one JSON normaliser of the project: plain, strict JSON from evidence and measurements.

Strict JSON (RFC 8259) has no NaN or Infinity. :func:`to_json` writes a non-finite float as
``null`` and says why in a separate map from the value's JSON Pointer (RFC 6901, relative to the
normalised value) to ``"nan"``, ``"inf"`` or ``"-inf"``.
Imports numpy only (results files are read without torch or numba).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def _reason(number: float) -> str:
    if math.isnan(number):
        return "nan"
    return "inf" if number > 0 else "-inf"


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def to_json(
    value: Any, name: str = "value", *, int_keys: bool = False
) -> tuple[Any, dict[str, str]]:
    """``(plain, nonfinite)``: a strict-JSON copy of ``value`` (numpy scalars and arrays, tuples
    and enums become Python scalars, lists and their values; a non-finite float becomes None)
    and ``{pointer: reason}`` for every float that became None. Raises TypeError for anything
    else, or for a mapping key that is not a str, naming where (``name`` + pointer). With
    ``int_keys``, integer keys become their decimal text, as ``json.dump`` writes them."""
    nonfinite: dict[str, str] = {}

    def walk(v: Any, at: str) -> Any:
        if v is None or isinstance(v, str | bool):
            return v
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, int | np.integer):
            return int(v)
        if isinstance(v, float | np.floating):
            number = float(v)
            if math.isfinite(number):
                return number
            nonfinite[at] = _reason(number)
            return None
        if isinstance(v, enum.Enum):
            return walk(v.value, at)
        if isinstance(v, np.ndarray):
            return walk(v.tolist(), at)
        if isinstance(v, Mapping):
            out = {}
            for key, item in v.items():
                if int_keys and isinstance(key, int | np.integer) and not isinstance(key, bool):
                    key = str(int(key))
                if not isinstance(key, str):
                    raise TypeError(f"{name}{at} has key {key!r}; JSON keys must be str")
                out[key] = walk(item, f"{at}/{_escape(key)}")
            return out
        if isinstance(v, list | tuple):
            return [walk(item, f"{at}/{i}") for i, item in enumerate(v)]
        raise TypeError(
            f"{name}{at} has type {type(v).__name__}; allowed: None, bool, int, float, str, "
            "list/tuple, dict with str keys, numpy scalars and arrays"
        )

    return walk(value, ""), nonfinite
