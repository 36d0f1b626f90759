"""Early ICAHT at the edges of real series: a missing day 0, labs that stop before day 30, and the
day of the last follow-up.

The reference implementation of the consensus grading (E. C. Liang, automatedicahtgrading,
index.Rmd) builds the day 0-30 series up to the last follow-up and fills it with
``zoo::na.approx(anc, maxgap = 7, rule = 2)``; ``rule = 2`` gives the days before the first and
after the last measurement the nearest measured value, ``maxgap = 7`` leaves longer runs of missing
days unfilled. Grade 4 for a neutropenia that never recovers needs a run that starts by day 3 and
reaches the last day of the series, i.e. the end of follow-up. All values are integers or exact
interpolations, so the comparisons are exact.
"""

from __future__ import annotations

from typing import Any

import pytest

from immunoreset.clinical import InstrumentInputError, score

WELL = 2000
LOW = 300


def early(record: dict[str, Any]) -> Any:
    return score("icaht_early", record)


def test_missing_day_0_takes_the_first_measured_value() -> None:
    """rule = 2: days 0-2 unmeasured, first value 300 on day 3 -> neutropenic from day 0."""
    series = [None, None, None, *[LOW] * 5, *[WELL] * 23]
    result = early({"anc_per_uL": series})
    assert result["dur_le500"] == 8
    assert result["grade"] == 2
    assert result.components["extended_days"] == 3
    assert result.options["edge_fill"] == "nearest"


def test_missing_day_0_is_not_evaluable_without_edge_fill() -> None:
    series = [None, *[WELL] * 30]
    result = early({"anc_per_uL": series, "options": {"edge_fill": "none"}})
    assert result["grade"] is None


@pytest.mark.parametrize(("leading", "evaluable"), [(7, True), (8, False)])
def test_leading_gap_longer_than_max_gap_is_not_evaluable(leading: int, evaluable: bool) -> None:
    """maxgap = 7: a run of 8 unmeasured days before the first value is not filled."""
    series = [None] * leading + [WELL] * (31 - leading)
    assert (early({"anc_per_uL": series})["grade"] is not None) is evaluable


def test_labs_stopping_while_neutropenic_without_follow_up_day_are_flagged() -> None:
    """Without last_followup_day the follow-up ends at the last value (worked example
    icaht-e-11): grade 4, flagged because it rests on that assumption."""
    result = early({"anc_per_uL": [1500, *[LOW] * 16]})
    assert result["grade"] == 4
    assert result.flags == ("follow_up_end_assumed_at_last_value",)


def test_follow_up_ending_neutropenic_is_grade_4() -> None:
    """Reference implementation, patient 8 of its synthetic data set: never recovered before death
    or last follow-up on day 16 -> grade 4 (3 by duration alone)."""
    result = early({"anc_per_uL": [1500, *[LOW] * 16], "last_followup_day": 16})
    assert result["grade"] == 4
    assert result.flags == ()


def test_short_trailing_gap_is_extended_to_the_end_of_follow_up() -> None:
    """Labs stop on day 12 while neutropenic, follow-up to day 16: rule = 2 extends 300/uL over
    the 4 days -> the run reaches the end of follow-up -> never recovered."""
    result = early({"anc_per_uL": [1500, *[LOW] * 12], "last_followup_day": 16})
    assert result.components["extended_days"] == 4
    assert result["dur_le500"] == 16
    assert result["grade"] == 4


def test_long_trailing_gap_means_follow_up_did_not_end_neutropenic() -> None:
    """Labs stop on day 16 while neutropenic, follow-up to day 30: 14 unmeasured days are more
    than maxgap, so they stay unmeasured; the run does not reach the end of follow-up and the
    grade comes from the 16 days counted (grade 3), flagged."""
    result = early({"anc_per_uL": [1500, *[LOW] * 16], "last_followup_day": 30})
    assert result["grade"] == 3
    assert result["dur_le500"] == 16
    assert result.components["last_day"] == 16
    assert result.components["follow_up_end_day"] == 30
    assert result.flags == ("labs_end_before_follow_up",)


def test_edge_fill_none_does_not_extend_to_follow_up() -> None:
    record = {"anc_per_uL": [1500, *[LOW] * 12], "last_followup_day": 16}
    result = early({**record, "options": {"edge_fill": "none"}})
    assert result["dur_le500"] == 12  # days 1-12 only
    assert result["grade"] == 2
    assert result.flags == ("labs_end_before_follow_up",)


def test_recovered_series_is_unchanged_by_follow_up_day() -> None:
    series = [WELL] * 5 + [LOW] * 7 + [WELL] * 19
    assert early({"anc_per_uL": series})["grade"] == 2
    assert early({"anc_per_uL": series, "last_followup_day": 100})["grade"] == 2


def test_follow_up_day_beyond_30_is_capped() -> None:
    result = early({"anc_per_uL": [LOW] * 31, "last_followup_day": 45})
    assert result.components["follow_up_end_day"] == 30
    assert result["grade"] == 4


def test_value_after_last_follow_up_is_an_error() -> None:
    with pytest.raises(InstrumentInputError, match="last_followup_day") as info:
        early({"anc_per_uL": [WELL] * 10, "last_followup_day": 5})
    assert "day 9" in str(info.value)


def test_implausible_anc_names_the_likely_unit() -> None:
    """ANC typed in x10^9/L (2.5) is refused, not scored as 2.5 cells/uL."""
    with pytest.raises(InstrumentInputError, match=r"anc_per_uL\.1.*x10\^9/L") as info:
        early({"anc_per_uL": [WELL, 2.5]})
    assert "2500 cells/uL" in str(info.value)
