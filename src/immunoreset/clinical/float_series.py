"""Long series of floats decided as the exact decimals the floats stand for.

An instrument reads a float as the decimal of its shortest text, ``Decimal(str(x))`` (what pydantic
makes of it), so that ``0.3`` meets a threshold of ``0.3``. A simulated profile holds hundreds of
floats per patient, and converting every sample to a Decimal costs more than the rest of scoring it.
The shortest text of a float rounds back to that float, and rounding is monotone, so the decimals of
the floats are in the floats' order: a comparison of such a decimal with an exact threshold is a
comparison of the float with one float cutoff (:func:`at_least`, :func:`above`). A float64 array can
therefore be checked and compared in numpy with the outcome the decimals would give, and only the
few samples an instrument reports or adds up need converting (:func:`decimal_of`).

:func:`series_field` lets a record field that holds a long series take such an array as it is; an
array that fails the field's quick check is validated item by item as the field's type says, so its
errors name the item exactly as for a list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import ValidatorFunctionWrapHandler, WrapValidator

from immunoreset.clinical.units import LabQuantity


def decimal_of(value: float) -> Decimal | float:
    """``value`` as an instrument reads a float: the Decimal of its shortest text. A non-finite
    float stays a float, for the instrument to reject in its own words."""
    return Decimal(repr(float(value))) if math.isfinite(value) else float(value)


def at_least(threshold: Decimal) -> float:
    """The smallest float whose decimal is at least ``threshold``.

    ``decimal_of(x) >= threshold`` exactly when ``x >= at_least(threshold)``. The float nearest the
    threshold is the only one whose decimal can fall on either side of it (the decimal of each
    neighbour lies in the neighbour's own rounding interval), so the cutoff is that float or the
    next one up.
    """
    nearest = float(threshold)
    return nearest if decimal_of(nearest) >= threshold else math.nextafter(nearest, math.inf)


def above(threshold: Decimal) -> float:
    """The smallest float whose decimal exceeds ``threshold``: ``decimal_of(x) > threshold``
    exactly when ``x >= above(threshold)`` (see :func:`at_least`)."""
    nearest = float(threshold)
    return nearest if decimal_of(nearest) > threshold else math.nextafter(nearest, math.inf)


def is_float_series(value: Any) -> bool:
    """Whether ``value`` is a one-dimensional float64 array (the series this module decides on)."""
    return isinstance(value, np.ndarray) and value.dtype == np.float64 and value.ndim == 1


def series_field(accepts: Callable[[np.ndarray], bool]) -> WrapValidator:
    """Pydantic validator of a field holding a series: a float64 array for which ``accepts`` is
    true is kept as it is (read-only, not copied); anything else, and an array ``accepts``
    refuses, is validated item by item as the field's annotation says (the array as the decimals
    of its floats). ``accepts`` must refuse every array whose decimals the annotation would
    reject; refusing more only costs time."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if is_float_series(value):
            if accepts(value):
                view = value.view()
                view.flags.writeable = False
                return view
            return handler([decimal_of(item) for item in value.tolist()])
        return handler(value)

    return WrapValidator(validate)


def finite_at_least_zero(values: np.ndarray) -> bool:
    """Every value finite and its decimal >= 0 (``-0.0`` reads as 0)."""
    return bool(np.isfinite(values).all() and (values >= 0.0).all())


def plausible(values: np.ndarray, quantity: LabQuantity) -> bool:
    """Every value's decimal is plausible for ``quantity`` (the rule of
    :func:`immunoreset.clinical.units.is_plausible`: 0 where allowed, else inside the range)."""
    inside = (values >= at_least(quantity.low)) & (values < above(quantity.high))
    if quantity.zero:
        inside |= values == 0.0
    else:
        inside &= values != 0.0
    return bool(inside.all())
