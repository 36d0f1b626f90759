"""Models as data: named states and sourced parameters, plus pure numerical functions.

A :class:`Model` is a readable description (states with units, parameters with value, unit, meaning,
source, confidence and between-patient variability) together with a handful of pure functions written
in plain Python over flat ``float64`` arrays, so that a solver can compile them (numba) or call them
directly (scipy) without knowing anything about the biology:

``initial_state(p, y0)``
    fill ``y0`` with the pre-treatment state for parameter vector ``p``.
``rhs(t, y, p, mode, dydt)``
    write ``dy/dt``; ``mode`` holds the current value (0.0 or 1.0) of each discrete switch. A model
    whose equations contain ``t`` itself (not only through switches) sets ``autonomous=False``.
``switches(t, y, p, g)``
    write the switch functions; switch ``k`` is *on* (``mode[k] == 1``) while ``g[k] > 0``. Solvers
    locate the zero crossings of ``g`` and flip the mode there, so threshold rules in published models
    (e.g. "B-cell release stops below 1 cell/uL") are integrated exactly rather than smeared by the
    step-size controller.
``dose(input_index, amount, p, y)``
    apply one dosing event of model input ``input_index`` (e.g. a CAR-cell infusion) to ``y``.
``observe(t, y, p, out)``
    write the model's observables (see :mod:`immunoreset.observables`) in clinical units.

The model knows no solver; the engine in :mod:`immunoreset.simulate` applies dosing events, handles
switches and records observables.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from immunoreset.observables import OBSERVABLES

CONFIDENCE_LEVELS = {
    "H": "primary source",
    "M": "secondary or curated source, or a value read off a published figure",
    "L": "derived or weakly supported",
    "assumption": "no source; a documented assumption",
}
OMEGA2_SCALES = ("log", "logit")
"""Scales of between-patient variability: log-normal, or logit-normal for shares in (0, 1)."""


@dataclass(frozen=True)
class State:
    """One state variable of a model.

    ``atol_scale`` multiplies the solver's absolute tolerance for this state: the size, in the
    state's unit, below which a change is biologically meaningless relative to other states
    measured in the same solver units (e.g. receptor complexes counted per litre).
    """

    name: str
    unit: str
    description: str
    atol_scale: float = 1.0


@dataclass(frozen=True)
class Parameter:
    """A model parameter with its provenance.

    Attributes:
        name: identifier used in code and scenario files.
        value: typical (population) value in ``unit``.
        unit: unit of ``value``.
        meaning: what the parameter means, in words.
        source: citation (paper, table) or the reason for an assumption.
        confidence: ``H``, ``M``, ``L`` or ``assumption`` (see :data:`CONFIDENCE_LEVELS`).
        omega2: between-patient variance of ``log(value)`` (log-normal variability); 0 = none.
        note: anything a user must know (errata, digitised values, conversions).
        prior_low, prior_high: plausible range of the value (same unit), required for an
            ``assumption`` so that the uncertainty of every unsourced number is stated and can be
            explored; optional otherwise (``nan`` = not given).
        omega2_scale: ``log`` (default) or ``logit``: for a share that must stay between 0 and 1
            (a fraction of a cell pool), ``omega2`` is the variance of ``logit(value)``
            (logit-normal variability, as NONMEM/Monolix models bound fractions), so that no
            virtual patient draws a share of 1 or more.
    """

    name: str
    value: float
    unit: str
    meaning: str
    source: str
    confidence: str
    omega2: float = 0.0
    note: str = ""
    prior_low: float = math.nan
    prior_high: float = math.nan
    omega2_scale: str = "log"

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCE_LEVELS:
            raise ValueError(
                f"parameter {self.name!r}: confidence {self.confidence!r} is not one of "
                f"{', '.join(CONFIDENCE_LEVELS)}"
            )
        if not math.isfinite(self.value):
            raise ValueError(f"parameter {self.name!r}: value {self.value!r} is not finite")
        if self.omega2 < 0 or not math.isfinite(self.omega2):
            raise ValueError(f"parameter {self.name!r}: omega2 {self.omega2!r} must be >= 0")
        if self.omega2_scale not in OMEGA2_SCALES:
            raise ValueError(
                f"parameter {self.name!r}: omega2_scale {self.omega2_scale!r} is not one of "
                f"{', '.join(OMEGA2_SCALES)}"
            )
        if self.omega2_scale == "logit" and not 0.0 < self.value < 1.0:
            raise ValueError(
                f"parameter {self.name!r}: a logit-scale share needs a value between 0 and 1, "
                f"got {self.value!r}"
            )
        self._check_prior()

    def _check_prior(self) -> None:
        given = [math.isfinite(v) for v in (self.prior_low, self.prior_high)]
        if self.confidence == "assumption" and not all(given):
            raise ValueError(
                f"parameter {self.name!r}: an assumption needs a prior range (prior_low, prior_high)"
            )
        if any(given) and not (all(given) and self.prior_low <= self.value <= self.prior_high):
            raise ValueError(
                f"parameter {self.name!r}: prior range [{self.prior_low!r}, {self.prior_high!r}]"
                f" must be given in full and contain the value {self.value!r}"
            )

    @property
    def has_prior(self) -> bool:
        """Whether a plausible range is stated."""
        return math.isfinite(self.prior_low) and math.isfinite(self.prior_high)


@dataclass(frozen=True)
class DoseInput:
    """A route by which a regimen acts on the model (an infusion, a chemotherapy dose)."""

    name: str
    unit: str
    description: str


@dataclass(frozen=True)
class RegimenLimits:
    """Which regimens a model's structure can represent; anything else is rejected at validation.

    A published model may hold its dosing in its structure (a switch at an absolute day, an
    infusion that seeds a fixed level): such a model declares it here, so a scenario cannot ask it
    for what it would answer wrongly.

    Attributes:
        max_infusions: most CAR infusions the model represents (None: any number).
        infusion_days: the only allowed infusion days (None: any day).
        whole_dose_only: infusions must give the whole product dose (``fraction`` 1).
        reason: why, in words, for the error message.
    """

    max_infusions: int | None = None
    infusion_days: tuple[float, ...] | None = None
    whole_dose_only: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Model:
    """A mechanistic model: data plus pure functions (see the module docstring)."""

    name: str
    title: str
    reference: str
    description: str
    states: tuple[State, ...]
    parameters: tuple[Parameter, ...]
    inputs: tuple[DoseInput, ...]
    observables: tuple[str, ...]
    switch_names: tuple[str, ...]
    initial_state: Callable[..., None]
    rhs: Callable[..., None]
    switches: Callable[..., None]
    dose: Callable[..., None]
    observe: Callable[..., None]
    default_plots: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    autonomous: bool = True
    regimen_limits: RegimenLimits = field(default_factory=RegimenLimits)

    def __post_init__(self) -> None:
        for obs in self.observables:
            if obs not in OBSERVABLES:
                raise ValueError(f"model {self.name!r}: unknown observable {obs!r}")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.name!r}: duplicate parameter names")

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(
            f"model {self.name!r} has no parameter {name!r}; known: {', '.join(self.parameter_names)}"
        )

    def input_index(self, name: str) -> int:
        for i, inp in enumerate(self.inputs):
            if inp.name == name:
                return i
        allowed = ", ".join(i.name for i in self.inputs) or "none"
        raise KeyError(f"model {self.name!r} has no dosing input {name!r}; allowed: {allowed}")

    def typical_parameters(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Parameter vector of the typical patient, with optional overrides by name."""
        values = np.array([p.value for p in self.parameters], dtype=np.float64)
        for name, value in (overrides or {}).items():
            values[self.parameter_names.index(self.parameter(name).name)] = float(value)
        return values

    def absolute_tolerances(self, atol: float) -> np.ndarray:
        """Per-state absolute tolerances for a solver's scalar ``atol``."""
        return np.array([atol * s.atol_scale for s in self.states], dtype=np.float64)

    def initial(self, p: np.ndarray) -> np.ndarray:
        y0 = np.zeros(self.n_states)
        self.initial_state(p, y0)
        return y0


def load_parameters(package: str, filename: str) -> tuple[Parameter, ...]:
    """Read a model's parameter table (CSV shipped as package data).

    Columns: ``name, value, unit, meaning, source, confidence, omega2, note`` and, optionally,
    ``prior_low, prior_high`` (required for ``assumption`` rows; empty = not given) and
    ``omega2_scale`` (``log`` if empty, or ``logit``).
    """
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    params = []
    for row in rows:
        params.append(
            Parameter(
                name=row["name"],
                value=float(row["value"]),
                unit=row["unit"],
                meaning=row["meaning"],
                source=row["source"],
                confidence=row["confidence"],
                omega2=float(row["omega2"] or 0.0),
                omega2_scale=row.get("omega2_scale") or "log",
                note=row.get("note", "") or "",
                prior_low=_optional_float(row.get("prior_low")),
                prior_high=_optional_float(row.get("prior_high")),
            )
        )
    return tuple(params)


def _optional_float(text: str | None) -> float:
    """A CSV cell as a float; an absent or empty cell is ``nan`` (not given)."""
    return float(text) if text not in (None, "") else math.nan


def index_map(parameters: tuple[Parameter, ...] | tuple[State, ...]) -> dict[str, int]:
    """Name -> position, for writing readable right-hand sides over flat arrays."""
    return {item.name: i for i, item in enumerate(parameters)}
