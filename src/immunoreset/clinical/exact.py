"""Exact percentage comparisons shared by the response and progression rules of every family.

Many published rules compare a change with a percentage of a reference (an mRSS fall of at least
25 % of baseline, an FVC decline of 15 %, a PGA rise of at most 10 %, a 20 % core set improvement).
Worked examples often sit exactly on such a boundary, where binary floating point can land on the
wrong side (``(2.2 - 2.0) / 2.0`` is ``0.10000000000000009``). The helpers below therefore work in
:class:`fractions.Fraction` or by cross-multiplication, which is exact for the decimal inputs the
records hold and also defines the case of a reference of 0.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

ExactNumber = Decimal | int | Fraction


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


def within_percent(change: ExactNumber, reference: ExactNumber, percent: ExactNumber) -> bool:
    """Whether ``change`` is at most ``percent`` % of ``reference``, compared exactly.

    Cross-multiplied (``100 * change <= percent * reference``): from a reference of 0 only a change
    of at most 0 stays within any percentage.
    """
    return Fraction(change) * 100 <= Fraction(percent) * Fraction(reference)
