"""What one endpoint family hands back: values per patient and per visit, column docs, notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["patient", "visit"]


@dataclass(frozen=True)
class Column:
    """One output column: its table (``patient`` or ``visit``), name, unit and meaning."""

    level: Level
    name: str
    unit: str
    description: str


@dataclass(frozen=True)
class Part:
    """Results of one endpoint family.

    Attributes:
        patient: ``patient_id -> {column: value}``.
        visits: ``(patient_id, visit_day) -> {column: value}``.
        columns: the columns this family fills, with units.
        notes: why the family (or part of it) was skipped, and per-patient scoring problems.
    """

    patient: dict[int, dict[str, Any]] = field(default_factory=dict)
    visits: dict[tuple[int, float], dict[str, Any]] = field(default_factory=dict)
    columns: tuple[Column, ...] = ()
    notes: tuple[str, ...] = ()


def skipped(family: str, missing: list[str]) -> Part:
    """A family that cannot run because the table lacks the observables in ``missing``."""
    return Part(notes=(f"{family}: skipped, the table has no {', '.join(missing)} column",))
