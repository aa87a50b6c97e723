"""The algorithm interface: what an algorithm plugin implements (docs/reference.md §5).

What a run takes and returns (:class:`~scb_verify.runs.RunSpec`,
:class:`~scb_verify.runs.RunResult`) is the light vocabulary of :mod:`scb_verify.runs`.

An algorithm is an :class:`Algorithm` subclass: it turns parameters into a *state* (a dict of
tensors, each with the run axis R first), updates the state from one fresh batch per step, and
exposes the linear-model view (V, A) of the state for evaluation. The training loop in
:mod:`scb_verify.training` does everything else — sampling, counting samples, metrics, milestones,
divergence, stacking R runs — identically for every algorithm.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch

from scb_verify.runs import RunSpec
from scb_verify.sampler import Batch

State = dict[str, torch.Tensor]


class SettingsError(ValueError):
    """Unknown or invalid algorithm settings."""


class TruthWithheld(PermissionError):
    """An algorithm that is not an exact-gradient reference read the ground truth."""


class Withheld:
    """What an algorithm that is not a reference (``Algorithm.reference = False``) gets in place of
    the ground truth: ``visible`` attributes (a task's shape N, T, Q) read normally, any other
    raises :class:`TruthWithheld` naming the algorithm and what it tried to read."""

    def __init__(self, algorithm: str, what: str, **visible: Any):
        self._algorithm, self._what = algorithm, what
        self.__dict__.update(visible)

    def __getattr__(self, name: str) -> Any:
        raise TruthWithheld(
            f"algorithm {self._algorithm!r} read {self._what}.{name}, but only an exact-gradient "
            "reference algorithm (Algorithm.reference = True, e.g. 'population') may read the "
            "ground truth (P, Q*, μ); an algorithm observes samples, its own iterates and losses "
            "on fresh samples (docs/reference.md §5)"
        )

    def __repr__(self) -> str:
        return f"<{self._what} withheld from {self._algorithm!r}>"


class Algorithm:
    """Base class of algorithm plugins (docs/reference.md §5). Subclasses set ``name``, ``summary``,
    ``defaults`` (every setting with its default value) and implement :meth:`init_state`,
    :meth:`step` and, if the state is not (V, A), :meth:`linear_view`.

    ``reference = True`` declares an exact-gradient reference algorithm (the population algorithm):
    it alone receives the ground truth — the stacked
    :class:`~scb_verify.population.Population` as ``truth`` and the real task in ``spec`` — and
    it consumes no data: the loop passes ``batch=None`` and still counts ``batch`` samples per
    step so its trajectory aligns with finite-sample runs; results record it
    (``RunResult.read_truth``). Every other algorithm gets :class:`Withheld` stand-ins: ``truth``,
    and ``spec.task`` with only its shape N, T, Q; reading anything else raises
    :class:`TruthWithheld`.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    defaults: ClassVar[Mapping[str, Any]] = {}
    reference: ClassVar[bool] = False

    def resolve_settings(self, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults updated by ``overrides``, each coerced to its default's type and checked by
        :meth:`check_settings`. Raises :class:`SettingsError` naming the allowed keys."""
        out = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in self.defaults:
                raise SettingsError(
                    f"{self.name}: unknown setting {key!r}; allowed: {', '.join(self.defaults)}"
                )
            out[key] = _coerce(self.name, key, value, self.defaults[key])
        self.check_settings(out)
        return out

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Raise :class:`SettingsError` for values out of range (override as needed)."""

    def init_state(
        self,
        V: torch.Tensor,
        A: torch.Tensor,
        spec: RunSpec,
        settings: dict[str, Any],
        truth: Any,
    ) -> State:
        """Build the state of R stacked runs from V (R, N, N) and A (R, T, N).

        ``truth`` is the stacked :class:`~scb_verify.population.Population` for a reference
        algorithm (``reference = True``) and a :class:`Withheld` stand-in for every other one.
        """
        raise NotImplementedError

    def step(self, state: State, batch: Batch | None, t: int, settings: dict[str, Any]) -> None:
        """Update ``state`` in place from one batch (step index t = 1, 2, …)."""
        raise NotImplementedError

    def linear_view(self, state: State) -> tuple[torch.Tensor, torch.Tensor]:
        """(V, A) of the state, for metrics and the saved model."""
        return state["V"], state["A"]


def check_positive(name: str, settings: dict[str, Any], *keys: str) -> None:
    """Raise :class:`SettingsError` unless each ``settings[key] > 0``."""
    for key in keys:
        if not settings[key] > 0:
            raise SettingsError(f"{name}: setting {key!r} must be > 0, got {settings[key]}")


def _coerce(algo: str, key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` (docs/reference.md §5): a bool default takes
    true/false/1/0, an int default integers, a float default finite numbers, a str default
    strings; text (from ``--set``) is parsed, anything else must already have the type (a bool
    is not an int). Other defaults are passed through."""
    kind = type(default)
    if kind not in (bool, int, float, str):
        return value
    allowed = {
        bool: "a bool (true, false, 1 or 0)",
        int: "an integer",
        float: "a finite number",
        str: "a string",
    }[kind]
    out = _parse(kind, value)
    if out is None:
        raise SettingsError(f"{algo}: setting {key!r} must be {allowed}, got {value!r}")
    return out


def _parse(kind: type, value: Any) -> Any:
    """``value`` as ``kind`` (bool, int, float or str), or None if it is not one."""
    if kind is str:
        return value if isinstance(value, str) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if kind is bool:
            return {"true": True, "1": True, "false": False, "0": False}.get(text)
        if kind is int and not text.lstrip("+-").isdigit():
            return None
        try:
            value = int(text) if kind is int else float(text)
        except ValueError:
            return None
    if kind is bool:
        return value if isinstance(value, bool | np.bool_) else None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    if kind is int:
        return int(value) if isinstance(value, numbers.Integral) else None
    return float(value) if math.isfinite(value) else None


__all__ = [
    "Algorithm",
    "SettingsError",
    "State",
    "TruthWithheld",
    "Withheld",
    "check_positive",
]
