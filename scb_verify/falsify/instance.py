"""Instance schemas: what a JSON instance of a falsifier's class must look like.

A falsifier states its class twice, as a hypothesis strategy that *generates* instances and as a
schema (a :data:`Check`, :attr:`~scb_verify.falsify.engine.Falsifier.schema`) that *validates*
one — the ``--replay`` instance of ``scb-verify falsify``, checked before anything is measured.
The test suite checks that every generated instance passes its schema. A check raises
:class:`InstanceError` naming the field (``task.N``), what it got and what is allowed.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: ``check(value, where)`` raises :class:`InstanceError` unless ``value`` (at ``where``) fits.
Check = Callable[[Any, str], None]


class InstanceError(ValueError):
    """A JSON instance that is not in a falsifier's class."""


def _got(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _fail(where: str, allowed: str, value: Any) -> None:
    raise InstanceError(f"{where or 'the instance'} must be {allowed}, got {_got(value)}")


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(lo: int, hi: int) -> Check:
    """An integer in lo..hi."""

    def check(value: Any, where: str) -> None:
        if not (isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi):
            _fail(where, f"an integer in {lo}..{hi}", value)

    return check


def integers(lo: int, hi: int, *, max_length: int) -> Check:
    """A list of 1..max_length integers, each in lo..hi."""

    def check(value: Any, where: str) -> None:
        ok = (
            isinstance(value, list)
            and 1 <= len(value) <= max_length
            and all(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in value)
        )
        if not ok:
            _fail(where, f"a list of 1..{max_length} integers in {lo}..{hi}", value)

    return check


def number(lo: float, hi: float) -> Check:
    """A finite number in [lo, hi]."""

    def check(value: Any, where: str) -> None:
        if not (_real(value) and math.isfinite(value) and lo <= value <= hi):
            _fail(where, f"a finite number in [{lo:g}, {hi:g}]", value)

    return check


def one_of(*values: Any) -> Check:
    """One of ``values`` (an int where the value is an int: 1024, not 1024.0 or true)."""
    allowed = "one of " + ", ".join(json.dumps(v) for v in values)

    def check(value: Any, where: str) -> None:
        for v in values:
            kind_ok = type(value) is type(v) or (type(v) is float and type(value) is int)
            if kind_ok and value == v:
                return
        _fail(where, allowed, value)

    return check


def matrix(*, rows: int, columns: int, lo: float = -math.inf, hi: float = math.inf) -> Check:
    """A list of 1..rows lists, each of the same 1..columns finite numbers in [lo, hi]."""
    allowed = f"a matrix (list of equal-length lists) of at most {rows}×{columns} finite numbers"
    if math.isfinite(lo) or math.isfinite(hi):
        allowed += f" in [{lo:g}, {hi:g}]"

    def check(value: Any, where: str) -> None:
        ok = (
            isinstance(value, list)
            and 1 <= len(value) <= rows
            and all(isinstance(r, list) and len(r) == len(value[0]) for r in value)
            and 1 <= len(value[0]) <= columns
            and all(_real(x) and math.isfinite(x) and lo <= x <= hi for r in value for x in r)
        )
        if not ok:
            _fail(where, allowed, value)

    return check


def record(fields: Mapping[str, Check], optional: Mapping[str, Check] | None = None) -> Check:
    """An object with exactly the keys of ``fields`` (plus any of ``optional``), each valid."""
    optional = optional or {}

    def check(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            _fail(where, f"an object with keys {', '.join(fields)}", value)
        missing = [k for k in fields if k not in value]
        unknown = [k for k in value if k not in fields and k not in optional]
        if missing or unknown:
            what = (
                "lacks " + ", ".join(missing)
                if missing
                else "has unknown key(s) " + ", ".join(map(str, unknown))
            )
            allowed = ", ".join([*fields, *(f"{k} (optional)" for k in optional)])
            raise InstanceError(f"{where or 'the instance'} {what}; allowed keys: {allowed}")
        for key, value_check in {**fields, **optional}.items():
            if key in value:
                value_check(value[key], f"{where}.{key}" if where else key)

    return check


def either(*alternatives: tuple[str, Check]) -> Check:
    """Valid under one of the named alternatives (tried in order; the error lists them all)."""

    def check(value: Any, where: str) -> None:
        errors = []
        for name, alternative in alternatives:
            try:
                alternative(value, where)
                return
            except InstanceError as e:
                errors.append(f"as {name}: {e}")
        raise InstanceError("; ".join(errors))

    return check


def built(check: Check, build: Callable[[Any], Any], errors: Sequence[type[Exception]]) -> Check:
    """``check``, then ``build(value)``: an error of the types ``errors`` (a generator's own
    validation, e.g. :class:`~scb_verify.task.TaskError`) becomes an :class:`InstanceError`."""

    def checked(value: Any, where: str) -> None:
        check(value, where)
        try:
            build(value)
        except tuple(errors) as e:
            raise InstanceError(f"{where or 'the instance'}: {e}") from None

    return checked


def parse(text: str, schema: Check | None) -> dict[str, Any]:
    """The JSON object ``text``, validated by ``schema`` (if the falsifier has one); strict JSON
    (no NaN or Infinity)."""

    def constant(name: str) -> Any:
        raise InstanceError(f"{name} is not allowed in an instance (strict JSON)")

    try:
        instance = json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as e:
        raise InstanceError(f"not JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise InstanceError("not JSON this reader can parse (nested too deeply)") from None
    if not isinstance(instance, dict):
        raise InstanceError(f"must be a JSON object (an instance), got {_got(instance)}")
    if schema is not None:
        schema(instance, "")
    return instance


__all__ = [
    "Check",
    "InstanceError",
    "built",
    "either",
    "integer",
    "integers",
    "matrix",
    "number",
    "one_of",
    "parse",
    "record",
]
