"""Float series decided as the decimals of their floats: cutoffs against exact Decimal comparisons,
and the CAR kinetics and B-cell instruments given a float64 array against the same values given as
a list (the layout charted data use). The outcomes must be identical, not close: a threshold is met
or not, and a reported level is the sample itself."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunoreset.clinical import InstrumentInputError, score
from immunoreset.clinical.float_series import above, at_least, decimal_of

BCELL = "b_cell_aplasia_reconstitution"
PK = "car_pk_nca"

finite = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
thresholds = st.one_of(
    st.decimals(min_value=Decimal("1e-6"), max_value=Decimal(1000), places=6),
    finite.filter(lambda x: x > 0).map(decimal_of),  # exactly the decimal of some float
    finite.filter(lambda x: x > 0).map(lambda x: Decimal(x)),  # the float's exact binary value
)


@settings(max_examples=400, deadline=None)
@given(threshold=thresholds, nudge=st.integers(-3, 3), value=finite)
def test_cutoffs_decide_as_the_decimals(threshold: Decimal, nudge: int, value: float) -> None:
    """``x >= at_least(t)`` iff ``decimal(x) >= t`` and ``x >= above(t)`` iff ``decimal(x) > t``,
    for floats far from and right next to the threshold."""
    near = float(threshold)
    for _ in range(abs(nudge)):
        near = math.nextafter(near, math.inf if nudge > 0 else -math.inf)
    for x in (value, near):
        assert (x >= at_least(threshold)) == (decimal_of(x) >= threshold)
        assert (x >= above(threshold)) == (decimal_of(x) > threshold)


def test_a_float_meets_its_own_decimal_threshold() -> None:
    """0.3 is stored as 0.29999999999999998890, yet reads as 0.3 and meets a threshold of 0.3; the
    float comparison with the threshold's exact value would say it does not."""
    level, threshold = 0.3, Decimal("0.3")
    assert level < threshold  # the exact binary value
    assert level >= at_least(threshold)
    assert not level >= above(threshold)


def as_list(values: np.ndarray) -> list[Any]:
    """The values as charted data give them: the decimals of the floats."""
    return [decimal_of(v) for v in values.tolist()]


def outcome(key: str, record: dict[str, Any]) -> Any:
    try:
        result = score(key, record)
    except InstrumentInputError as exc:
        return ("error", exc.field, str(exc))
    return (result.outputs, result.components, result.options)


def profiles(draw: st.DrawFn) -> tuple[list[Decimal], np.ndarray]:
    n = draw(st.integers(1, 40))
    days = draw(st.lists(st.integers(-3, 60), min_size=n, max_size=n, unique=True))
    pool = [0.0, 0.3, 1.0, 0.1 + 0.2, 5e-324, 2.0, 1e9, math.nextafter(1.0, 0.0)]
    values = draw(st.lists(st.one_of(finite, st.sampled_from(pool)), min_size=n, max_size=n))
    return [Decimal(d) / 2 for d in days], np.array(values, dtype=np.float64)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), lloq=st.sampled_from([None, Decimal("0.3"), Decimal(1), Decimal("2.5")]))
def test_car_kinetics_of_an_array_equal_those_of_its_decimals(data: Any, lloq: Any) -> None:
    times, levels = profiles(data.draw)
    method = data.draw(st.sampled_from(["linear_up_log_down", "linear"]))
    base = {"times_d": times, "lloq": lloq, "options": {"auc_method": method}}
    assert outcome(PK, base | {"levels": levels}) == outcome(PK, base | {"levels": as_list(levels)})


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    aplasia=st.sampled_from([Decimal(1), Decimal("0.3"), Decimal(5)]),
    recovery=st.sampled_from([None, Decimal(5), Decimal("0.3")]),
    unit=st.sampled_from(["cells_per_uL", "percent_of_lymphocytes"]),
)
def test_b_cell_aplasia_of_an_array_equals_that_of_its_decimals(
    data: Any, aplasia: Decimal, recovery: Any, unit: str
) -> None:
    days, values = profiles(data.draw)
    base = {"days": days, "aplasia_threshold": aplasia, "unit": unit}
    if recovery is not None:
        base["recovery_threshold"] = recovery
    assert outcome(BCELL, base | {"values": values}) == outcome(
        BCELL, base | {"values": as_list(values)}
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 2e9])
@pytest.mark.parametrize(("key", "field"), [(PK, "levels"), (BCELL, "values")])
def test_an_invalid_sample_of_an_array_is_named_as_in_a_list(
    key: str, field: str, bad: float
) -> None:
    """An array the quick checks refuse is validated sample by sample: the same error, naming the
    same sample, as the list of its decimals."""
    values = np.array([10.0, 5.0, 3.0, bad, 1.0])
    days = [Decimal(d) for d in range(5)]
    base = {"times_d" if key == PK else "days": days}
    from_array = outcome(key, base | {field: values})
    assert from_array[0] == "error"
    assert from_array[1] == f"{field}.3"
    assert from_array == outcome(key, base | {field: as_list(values)})


def test_an_array_is_not_copied_nor_writable_through_the_record() -> None:
    levels = np.array([0.0, 5.0, 2.0])
    result = score(PK, {"times_d": [0, 1, 2], "levels": levels})
    assert result.outputs["cmax"] == 5.0
    assert levels.flags.writeable  # the caller's array is left as it was
