"""Clinical reference lines drawn on plots, each with its source.

They help a reader place a simulated course against the thresholds clinicians use; they do not
change any endpoint (the endpoints library has its own, configurable thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceLine:
    value: float
    label: str
    source: str


@dataclass(frozen=True)
class ReferenceRange:
    low: float
    high: float
    label: str
    source: str


LINES: dict[str, tuple[ReferenceLine, ...]] = {
    "b_cells_blood": (
        ReferenceLine(
            1.0,
            "B-cell aplasia (< 1 cell/uL)",
            "endpoints default aplasia threshold (platform convention; Mackensen 2022 picture)",
        ),
    ),
    "neutrophils": (
        ReferenceLine(1000.0, "ANC 1,000", "CTCAE v5 grade 3 neutropenia threshold"),
        ReferenceLine(500.0, "ANC 500", "CTCAE v5 grade 4; ICAHT neutropenia threshold"),
    ),
    "igg_total": (
        ReferenceLine(
            4.0, "IgG 4 g/L", "hypogammaglobulinaemia threshold used for IgG replacement"
        ),
    ),
}

RANGES: dict[str, ReferenceRange] = {
    "c3": ReferenceRange(
        90.0, 180.0, "C3 normal range", "adult reference interval 0.9-1.8 g/L (endpoints default)"
    ),
}
