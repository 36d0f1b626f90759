"""Exact values shared by the systemic sclerosis and myositis instruments.

Two things recur across the skin, lung and muscle response rules: small integer item scores (an mRSS
site 0-3, an MMT group 0-10) and "did the change reach X % of the reference" tests. Both are kept
exact here: item scores reject booleans and fractions instead of coercing them, and percentages are
computed as :class:`fractions.Fraction` or by cross-multiplication, so a change of exactly 25 % of
baseline is exactly 25 % (specification section 0.2).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

ExactNumber = Decimal | int | Fraction


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an integer score, not a boolean")
    return value


def item_int(low: int, high: int) -> Any:
    """Type of an integer item score in ``[low, high]``; booleans and fractions are rejected."""
    return Annotated[int, BeforeValidator(_reject_bool), Field(ge=low, le=high)]


def percent_of(change: ExactNumber, reference: ExactNumber) -> Fraction:
    """``change`` as an exact percentage of a positive ``reference``: 100 * change / reference."""
    if reference <= 0:
        raise ValueError("the reference of a percentage must be positive")
    return Fraction(change) * 100 / Fraction(reference)


def reaches_percent(change: ExactNumber, reference: ExactNumber, percent: ExactNumber) -> bool:
    """Whether ``change`` is at least ``percent`` % of ``reference``, compared exactly.

    Cross-multiplied (``100 * change >= percent * reference``), so it is also defined for a
    reference of 0, where any non-negative change reaches every percentage.
    """
    return Fraction(change) * 100 >= Fraction(percent) * Fraction(reference)
