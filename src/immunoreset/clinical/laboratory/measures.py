"""Reporting and series helpers shared by the laboratory and toxicity instruments.

The value types that every family uses (non-negative exact numbers, integers that refuse booleans)
live in :mod:`immunoreset.clinical.core`. The helpers here turn the cross-field rules that several
laboratory and toxicity instruments share (one quantity given in either of two units, a series of
timed samples) into :class:`~immunoreset.clinical.core.InstrumentInputError` s, and present exact
values as plain numbers in results.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from operator import itemgetter
from typing import TypeVar

from immunoreset.clinical.core import InstrumentInputError, Record

V = TypeVar("V")


def plain(value: Decimal) -> int | float:
    """Return ``value`` as a plain number for reporting: ``int`` when integral, else ``float``."""
    return int(value) if value == value.to_integral_value() else float(value)


def one_of_units(record: Record, field: str, alt_field: str, alt_per_unit: Decimal) -> Decimal:
    """Return a quantity given in exactly one of two unit fields, in the unit of ``field``.

    ``alt_per_unit`` is how many ``alt_field`` units make one ``field`` unit (100 mg/dL per g/L of
    IgG; 10 mg/L per mg/dL of CRP). Giving both fields, or neither, is an error naming ``field``.
    """
    value, alt = getattr(record, field), getattr(record, alt_field)
    if (value is None) == (alt is None):
        raise InstrumentInputError(
            field, {field: value, alt_field: alt}, f"exactly one of {field} or {alt_field}"
        )
    return value if alt is None else alt / alt_per_unit


def timed_series(
    times: Sequence[Decimal], values: Sequence[V], times_field: str, values_field: str
) -> list[tuple[Decimal, V]]:
    """Pair timed samples, drop those before time 0 and sort them by time.

    Errors name ``values_field`` when the two lists differ in length and ``times_field`` when a time
    occurs twice (input order is otherwise irrelevant).
    """
    if len(times) != len(values):
        raise InstrumentInputError(
            values_field, len(values), f"as many entries as {times_field} ({len(times)})"
        )
    if len(set(times)) < len(times):  # one set for a valid series; the loop names the repeat
        seen: set[Decimal] = set()
        for time in times:
            if time in seen:
                raise InstrumentInputError(times_field, time, "each time at most once")
            seen.add(time)
    return sorted(
        ((time, value) for time, value in zip(times, values, strict=True) if time >= 0),
        key=itemgetter(0),
    )
