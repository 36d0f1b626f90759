"""Reporting and series helpers shared by the laboratory and toxicity instruments.

The value types that every family uses (non-negative exact numbers, integers that refuse booleans)
live in :mod:`immunoreset.clinical.core`. The helpers here turn the cross-field rules that several
laboratory and toxicity instruments share (one quantity given in either of two units, a series of
timed samples) into :class:`~immunoreset.clinical.core.InstrumentInputError` s, and present exact
values as plain numbers in results.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal

from immunoreset.clinical.core import InstrumentInputError, Record


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


def timed_positions(
    times: Sequence[Decimal], n_values: int, times_field: str, values_field: str
) -> Sequence[int]:
    """Positions of the timed samples from time 0 on, in time order.

    Errors name ``values_field`` when there are not as many values as times and ``times_field``
    when a time occurs twice (input order is otherwise irrelevant). The sample times of a
    population's simulated series are one shared tuple, so the positions of the last few tuples
    are remembered.
    """
    if len(times) != n_values:
        raise InstrumentInputError(
            values_field, n_values, f"as many entries as {times_field} ({len(times)})"
        )
    if isinstance(times, tuple):
        return _positions(times, times_field)
    return _positions.__wrapped__(times, times_field)


@functools.lru_cache(maxsize=8)
def _positions(times: Sequence[Decimal], times_field: str) -> tuple[int, ...]:
    if len(set(times)) < len(times):  # one set for a valid series; the loop names the repeat
        seen: set[Decimal] = set()
        for time in times:
            if time in seen:
                raise InstrumentInputError(times_field, time, "each time at most once")
            seen.add(time)
    return tuple(sorted((i for i, time in enumerate(times) if time >= 0), key=times.__getitem__))
