"""Building blocks shared by the SLE instruments: value types, rule strings, three-valued logic.

The types below carry the physical limits that every SLE instrument enforces on its inputs, so an
impossible value (a negative dose, a physician global assessment outside 0-3, a boolean where a
count is expected) is rejected by :func:`immunoreset.clinical.core.parse_record` with an error that
names the field.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from immunoreset.clinical.core import FieldSpec, InstrumentInputError, NonNegative

Pga = Annotated[Decimal, Field(ge=0, le=3)]
"""Physician global assessment on the 0-3 visual analogue scale (SELENA-SLEDAI PGA)."""

DoseMgDay = NonNegative
"""Prednisolone or equivalent dose in mg/day; negative doses are impossible."""


def pga_field(name: str, description: str) -> FieldSpec:
    """CSV column of a required :data:`Pga`, so every SLE instrument states the same scale."""
    return FieldSpec(name, "number", "0-3 scale", "0-3", required=True, description=description)


def dose_field(name: str, description: str) -> FieldSpec:
    """CSV column of a required :data:`DoseMgDay`."""
    return FieldSpec(name, "number", "mg/day", ">= 0", required=True, description=description)


_COMPARATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


def meets(value: Decimal | int, rule: str) -> bool:
    """Whether ``value`` satisfies ``rule``, a comparison written as operator then number.

    ``meets(Decimal("5.0"), "<=5")`` is True and ``meets(2, ">2")`` is False. The bound is read as
    an exact decimal, so the comparison has no rounding error.
    """
    symbol = rule.rstrip("0123456789.")
    return _COMPARATORS[symbol](Decimal(value), Decimal(rule[len(symbol) :]))


def one_of(table: Mapping[str, Any], what: str) -> AfterValidator:
    """Pydantic validator accepting only the keys of ``table``; the error lists them."""

    def check(key: str) -> str:
        if key not in table:
            raise ValueError(f"{what}: " + ", ".join(table))
        return key

    return AfterValidator(check)


def require_known(keys: Iterable[str], table: Mapping[str, Any], field: str, what: str) -> None:
    """Raise :class:`InstrumentInputError` naming ``field`` if a key is not in ``table``."""
    unknown = sorted(set(keys) - table.keys())
    if unknown:
        raise InstrumentInputError(field, unknown, f"{what}: " + ", ".join(table))


def in_table_order(keys: Iterable[str], table: Iterable[str]) -> tuple[str, ...]:
    """The distinct ``keys`` in the order of ``table`` (duplicates count once)."""
    present = set(keys)
    return tuple(key for key in table if key in present)


def three_valued_and(values: Iterable[bool | None]) -> bool | None:
    """Kleene AND: any False gives False; otherwise any None gives None; otherwise True."""
    collected = tuple(values)
    if any(value is False for value in collected):
        return False
    if any(value is None for value in collected):
        return None
    return True
