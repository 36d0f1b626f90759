"""Reading a result table: its checks, per-patient series and the sample a visit takes.

A result table is long in time and wide in observables: ``patient_id``, ``time`` (days, day 0 = CAR
infusion) and one column per observable named as in :mod:`immunoreset.observables`. Endpoints read
nothing else, so any model that emits an observable feeds every endpoint built on it.

Families loop over patients. They read each patient's rows as slices of numpy columns
(:class:`Rows`), cut at the patient boundaries of the sorted table: a per-patient DataFrame
(groupby, boolean masks, ``.loc``) costs milliseconds per patient and read, a slice microseconds,
which is what makes endpoints of trials with thousands of patients cheap next to their simulation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import pairwise

import numpy as np
import pandas as pd

PATIENT = "patient_id"
TIME = "time"


class ResultTableError(ValueError):
    """The table is not a result table (key columns missing or not numeric, duplicate times)."""


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` sorted by patient and time after checking its key columns.

    Raises :class:`ResultTableError` when ``patient_id`` or ``time`` is missing, not numeric,
    undefined, or when a patient has the same time twice.
    """
    for name in (PATIENT, TIME):
        if name not in table.columns:
            raise ResultTableError(f"result table has no {name!r} column")
        if not pd.api.types.is_numeric_dtype(table[name]) or table[name].isna().any():
            raise ResultTableError(f"column {name!r} must be numeric with no missing values")
    duplicated = table.duplicated([PATIENT, TIME])
    if duplicated.any():
        row = table.loc[duplicated].iloc[0]
        raise ResultTableError(
            f"patient {row[PATIENT]} has time {row[TIME]} more than once; one row per time"
        )
    return table.sort_values([PATIENT, TIME], kind="stable").reset_index(drop=True)


def absent(table: pd.DataFrame, names: Iterable[str]) -> list[str]:
    """The ``names`` that are not columns of ``table``."""
    return [name for name in names if name not in table.columns]


class Patients:
    """The patients of a result table: iterate for ``(patient_id, rows)`` in id order.

    The table is taken in patient order (stable, so each patient's rows keep their order: time
    order for a table from :func:`check_table`). Each column is converted to floats once, on first
    read, undefined values of any dtype becoming NaN.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        if not table[PATIENT].is_monotonic_increasing:
            table = table.sort_values(PATIENT, kind="stable")
        self.frame = table
        self._arrays: dict[str, np.ndarray] = {}
        ids = table[PATIENT].to_numpy()
        bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True]) if len(ids) else []
        self.spans = [
            (int(ids[start]), slice(int(start), int(stop))) for start, stop in pairwise(bounds)
        ]

    def __contains__(self, name: str) -> bool:
        return name in self.frame.columns

    def column(self, name: str) -> np.ndarray:
        """Column ``name`` of the whole table as floats."""
        if name not in self._arrays:
            self._arrays[name] = self.frame[name].to_numpy(dtype=float, na_value=np.nan)
        return self._arrays[name]

    def __iter__(self) -> Iterator[tuple[int, Rows]]:
        """``(patient_id, rows)`` for each patient in id order."""
        for patient, span in self.spans:
            yield patient, Rows(self, span)


class Rows:
    """One patient's rows: ``rows[name]`` is column ``name`` over them, ``rows.times`` the times."""

    __slots__ = ("_table", "span", "times")

    def __init__(self, table: Patients, span: slice) -> None:
        self._table = table
        self.span = span
        self.times = table.column(TIME)[span]

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def __getitem__(self, name: str) -> np.ndarray:
        return self._table.column(name)[self.span]


def series(rows: Rows, name: str, start: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of ``name`` from day ``start`` on, undefined values dropped.

    Negative values, which an ODE solver leaves as round-off around zero, are read as 0: no
    observable of the vocabulary can be negative.
    """
    values = rows[name]
    kept = (rows.times >= start) & ~np.isnan(values)
    return rows.times[kept], np.maximum(values[kept], 0.0)


def nadir(times: np.ndarray, values: np.ndarray) -> tuple[float | None, float | None]:
    """Lowest value of a series and the earliest time it occurs; ``(None, None)`` when empty."""
    if not len(values):
        return None, None
    lowest = int(np.argmin(values))  # first occurrence: the series is in time order
    return float(values[lowest]), float(times[lowest])


def nearest(times: np.ndarray, day: float, tolerance: float) -> int | None:
    """Position of the sorted ``times`` entry nearest ``day`` within ``tolerance`` (ties: earlier).

    ``None`` when no time lies within the tolerance: the visit was missed, and nothing is
    interpolated in its place.
    """
    after = int(np.searchsorted(times, day))
    candidates = [i for i in (after - 1, after) if 0 <= i < len(times)]
    if not candidates:
        return None
    best = min(candidates, key=lambda i: (abs(times[i] - day), times[i]))
    return best if abs(times[best] - day) <= tolerance else None


def whole(value: float) -> int:
    """``value`` rounded to the nearest whole number, halves up.

    Scores that are integers by definition (ICE, mRSS, ordinal support levels) may come out of a
    model as continuous values; the instrument needs the whole number a rater would record.
    """
    return math.floor(value + 0.5)
