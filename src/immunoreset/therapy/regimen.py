"""Therapy description: a CAR product dose and a regimen of timed events, turned into model inputs.

A regimen is data (days and amounts); the engine applies the resulting dosing events to the model
through its named inputs (``car_t_cells``, ``lymphodepletion``), so no dosing is hard-coded in a
model's equations. Day 0 is the first CAR infusion by convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from immunoreset.model.core import Model

CAR_INPUT = "car_t_cells"
LYMPHODEPLETION_INPUT = "lymphodepletion"


@dataclass(frozen=True)
class ProductDose:
    """CAR-positive cells per infusion: per kg body weight or flat."""

    value: float
    unit: Literal["cells/kg", "cells"]

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
class Regimen:
    infusions: tuple[Infusion, ...]
    lymphodepletion: tuple[LymphodepletionDose, ...] = field(default=())

    @property
    def first_day(self) -> float:
        days = [i.day for i in self.infusions] + [d.day for d in self.lymphodepletion]
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
        car = model.input_index(CAR_INPUT)
        cells = dose.cells(weight_kg)
        rows += [(inf.day, car, cells * inf.fraction) for inf in regimen.infusions]
    if regimen.lymphodepletion:
        ld = model.input_index(LYMPHODEPLETION_INPUT)
        rows += [(d.day, ld, np.full(n, d.amount_mg)) for d in regimen.lymphodepletion]
    # Stable sort by time: at equal times, lymphodepletion and infusions keep listed order.
    order = sorted(range(len(rows)), key=lambda k: rows[k][0])
    times = np.array([rows[k][0] for k in order], dtype=float)
    inputs = np.array([rows[k][1] for k in order], dtype=np.int64)
    amounts = (
        np.stack([rows[k][2] for k in order], axis=1) if rows else np.zeros((n, 0), dtype=float)
    )
    return DosingEvents(times, inputs, np.ascontiguousarray(amounts, dtype=float))
