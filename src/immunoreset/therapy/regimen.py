"""Therapy description: a CAR product dose and a regimen of timed events, turned into model inputs.

A regimen is data (days and amounts); the engine applies the resulting dosing events to the model
through its named inputs (``car_t_cells``, ``lymphodepletion``, ``fludarabine``,
``cyclophosphamide``, ...), so no dosing is hard-coded in a model's equations. Day 0 is the first
CAR infusion by convention. A product of several components (a co-infusion) splits each infusion
between the components' inputs (:attr:`ProductDose.split`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from immunoreset.model.core import Model

CAR_INPUT = "car_t_cells"
LYMPHODEPLETION_INPUT = "lymphodepletion"
CHEMOTHERAPY_AGENTS = ("fludarabine", "cyclophosphamide")
"""Lymphodepleting agents dosed separately (mg/m2) in models that have an input for each."""

CONDITIONING_PRESETS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "standard": (
        ("fludarabine", -5.0, 25.0),
        ("fludarabine", -4.0, 25.0),
        ("fludarabine", -3.0, 25.0),
        ("cyclophosphamide", -3.0, 1000.0),
    ),
    "reduced": (
        ("fludarabine", -4.0, 25.0),
        ("fludarabine", -3.0, 25.0),
        ("cyclophosphamide", -3.0, 500.0),
    ),
    "none": (),
}
"""(agent, day, mg/m2) of named regimens. Standard: the Erlangen regimen (fludarabine 25 mg/m2 on
days -5 to -3, cyclophosphamide 1000 mg/m2 on day -3; Mackensen 2022, Park 2025 Methods). Reduced:
an illustrative reduced-intensity regimen with two thirds of the fludarabine and half the
cyclophosphamide (no single published reduced regimen; state your own with explicit doses)."""


@dataclass(frozen=True)
class ProductDose:
    """CAR-positive cells per infusion: per kg body weight or flat, split between model inputs.

    ``split`` pairs each receiving input with its share of the dose (one input for a single
    product, two for a co-infusion of two products).
    """

    value: float
    unit: Literal["cells/kg", "cells"]
    split: tuple[tuple[str, float], ...] = ((CAR_INPUT, 1.0),)

    def cells(self, weight_kg: np.ndarray) -> np.ndarray:
        """Number of CAR+ cells for patients of the given weights (kg)."""
        w = np.asarray(weight_kg, dtype=float)
        return self.value * w if self.unit == "cells/kg" else np.full_like(w, self.value)


@dataclass(frozen=True)
class Infusion:
    """One infusion on ``day``, of ``fraction`` of the product dose (split or repeated dosing)."""

    day: float
    fraction: float = 1.0


@dataclass(frozen=True)
class LymphodepletionDose:
    """Lymphodepleting chemotherapy given on ``day`` as a K-PD amount in mg."""

    day: float
    amount_mg: float


@dataclass(frozen=True)
class ChemotherapyDose:
    """One dose of a lymphodepleting agent (``fludarabine``, ``cyclophosphamide``) in mg/m2."""

    agent: str
    day: float
    mg_m2: float


@dataclass(frozen=True)
class Regimen:
    infusions: tuple[Infusion, ...]
    lymphodepletion: tuple[LymphodepletionDose, ...] = field(default=())
    chemotherapy: tuple[ChemotherapyDose, ...] = field(default=())

    @property
    def first_day(self) -> float:
        days = (
            [i.day for i in self.infusions]
            + [d.day for d in self.lymphodepletion]
            + [c.day for c in self.chemotherapy]
        )
        return min(days) if days else 0.0


@dataclass(frozen=True)
class DosingEvents:
    """Events sorted by time; ``amounts[patient, event]`` in the model input's unit."""

    times: np.ndarray
    inputs: np.ndarray
    amounts: np.ndarray

    def for_patient(self, i: int) -> list[tuple[float, int, float]]:
        return [
            (float(t), int(k), float(a))
            for t, k, a in zip(self.times, self.inputs, self.amounts[i], strict=True)
        ]


def dosing_events(
    model: Model, dose: ProductDose, regimen: Regimen, weight_kg: np.ndarray
) -> DosingEvents:
    """Translate a regimen into per-patient dosing events for ``model``.

    Raises ``KeyError`` naming the missing input if the model cannot receive part of the regimen.
    """
    n = len(weight_kg)
    rows: list[tuple[float, int, np.ndarray]] = []
    if regimen.infusions:
        cells = dose.cells(weight_kg)
        for name, share in dose.split:
            car = model.input_index(name)
            rows += [(inf.day, car, cells * share * inf.fraction) for inf in regimen.infusions]
    if regimen.lymphodepletion:
        ld = model.input_index(LYMPHODEPLETION_INPUT)
        rows += [(d.day, ld, np.full(n, d.amount_mg)) for d in regimen.lymphodepletion]
    rows += [(c.day, model.input_index(c.agent), np.full(n, c.mg_m2)) for c in regimen.chemotherapy]
    # Stable sort by time: at equal times, events keep the order listed above.
    order = sorted(range(len(rows)), key=lambda k: rows[k][0])
    times = np.array([rows[k][0] for k in order], dtype=float)
    inputs = np.array([rows[k][1] for k in order], dtype=np.int64)
    amounts = (
        np.stack([rows[k][2] for k in order], axis=1) if rows else np.zeros((n, 0), dtype=float)
    )
    return DosingEvents(times, inputs, np.ascontiguousarray(amounts, dtype=float))
