"""Shared record machinery: integer types, exact percentages and error messages of nested records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from immunoreset.clinical import InstrumentInputError, score
from immunoreset.clinical.core import Integer, Record, integer_in, parse_record
from immunoreset.clinical.exact import percent_of, reaches_percent, within_percent

ItemScore = integer_in(0, 3)


class Counted(Record):
    count: Integer
    item: ItemScore = 0


@pytest.mark.parametrize(("field", "value"), [("count", True), ("count", 1.5), ("item", 4)])
def test_integer_types_refuse_booleans_fractions_and_out_of_range(field: str, value: object):
    record = {"count": 1, field: value}
    with pytest.raises(InstrumentInputError) as caught:
        parse_record(Counted, record)
    assert caught.value.field == field


def test_integer_types_accept_integral_values():
    assert parse_record(Counted, {"count": 2.0, "item": 3}) == Counted(count=2, item=3)


@pytest.mark.parametrize(
    ("key", "record", "field", "listed", "not_listed"),
    [
        (
            "sledai_2k",
            {"items": [], "options": {"windowdays": 30}},
            "options.windowdays",
            "window_days",
            "raw",
        ),
        (
            "acr_criss",
            {
                "step1": {"fvc_decline": {"baseline": 80, "followup": 60, "hrct": True}},
                **dict.fromkeys(("d_mrss", "d_fvc_pct", "d_pt_global", "d_md_global", "d_haq"), 0),
            },
            "step1.fvc_decline.hrct",
            "hrct_ild",
            "d_mrss",
        ),
        ("mrss", {"sites": {"nose": 1}}, "sites.nose", "anterior_chest", "options"),
        ("sledai_2k", {"items": [], "bogus": 1}, "bogus", "raw", "window_days"),
    ],
)
def test_unknown_key_lists_the_fields_of_the_record_that_holds_it(
    key: str, record: dict, field: str, listed: str, not_listed: str
):
    with pytest.raises(InstrumentInputError) as caught:
        score(key, record)
    assert caught.value.field == field
    assert listed in caught.value.allowed
    assert not_listed not in caught.value.allowed.split(": ", 1)[1].split(", ")


def test_percentages_are_exact_on_the_boundary():
    # (2.2 - 2.0) / 2.0 is 0.10000000000000009 in binary floating point.
    rise, baseline = Decimal("2.2") - Decimal("2.0"), Decimal("2.0")
    assert within_percent(rise, baseline, 10)
    assert reaches_percent(rise, baseline, 10)
    assert percent_of(rise, baseline) == 10
    assert not within_percent(Decimal("0.0001"), 0, 10)
    assert reaches_percent(0, 0, 25)
