"""ICAHT per patient from synthetic ANC courses whose grades follow from the instrument's rules.

Rules of ``icaht_early`` / ``icaht_late`` (Rejeski K et al., Blood 2023;142:865-877, as implemented
in immunoreset.clinical.toxicity.icaht): early (days 0-30) counts the longest run of days with
ANC <= 500/uL and <= 100/uL (recoveries of <= 2 days joined): grade 1 for 1-6 days <= 500, 2 for
7-13, 3 for 14-30 days <= 500 or 7-13 days <= 100, 4 for >= 31 days <= 500, >= 14 days <= 100 or a
neutropenia from day 0-3 lasting to the end of follow-up. Late (days 31-100) grades the nadir
(<= 100 -> 4, <= 500 -> 3, <= 1000 -> 2, <= 1500 -> 1) unless the second-lowest value is above
1500/uL (a transient dip, grade 0).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from immunoreset.endpoints import EndpointConfig, compute_endpoints
from immunoreset.endpoints.icaht import COLUMNS, PLATELET_COLUMNS, icaht

DAYS = list(range(101))
NORMAL = 3000.0


def anc(*dips: tuple[int, int, float], days=DAYS) -> list[float]:
    """ANC at ``days``: NORMAL except ``level`` on days ``first``-``last`` of each dip."""
    return [
        next((level for first, last, level in dips if first <= day <= last), NORMAL) for day in days
    ]


def graded(make_table, neutrophils, days=DAYS, config=None, **observables):
    """The ICAHT row and notes of one patient (id 1)."""
    table = make_table(days, neutrophils=neutrophils, **observables)
    part = icaht(table, config or EndpointConfig())
    return part.patient[1], part.notes


@pytest.mark.parametrize(
    ("dips", "grade", "le500", "le100"),
    [
        pytest.param([(5, 10, 600.0)], 0, 0, 0, id="600 is above 500: never neutropenic, grade 0"),
        pytest.param([(3, 6, 300.0)], 1, 4, 0, id="4 days <= 500 (1-6 days): grade 1"),
        pytest.param([(3, 10, 300.0)], 2, 8, 0, id="8 days <= 500 (7-13 days): grade 2"),
        pytest.param([(3, 10, 500.0)], 2, 8, 0, id="exactly 500 counts (<= 500): grade 2"),
        pytest.param([(1, 15, 300.0)], 3, 15, 0, id="15 days <= 500 (14-30 days): grade 3"),
        pytest.param([(2, 8, 50.0)], 3, 7, 7, id="7 days <= 100 (7-13 days): grade 3"),
        pytest.param([(2, 15, 50.0)], 4, 14, 14, id="14 days <= 100 (>= 14 days): grade 4"),
    ],
)
def test_early_grade_follows_duration_bands(make_table, dips, grade, le500, le100):
    """Each case's id gives the band of the early grade its daily course falls in (see module).

    Follow-up runs to day 100 at a normal ANC after the dip, so the neutropenia has recovered
    (not grade 4 for never recovering) and the late grade is 0.
    """
    row, _ = graded(make_table, anc(*dips))
    assert row["icaht_early_grade"] == grade
    assert row["icaht_early_dur_le500_d"] == le500
    assert row["icaht_early_dur_le100_d"] == le100
    assert row["icaht_early_never_recovered"] is False
    assert row["icaht_late_grade"] == 0
    assert row["icaht_max_grade"] == grade


def test_short_recovery_is_joined_and_options_reach_the_instrument(make_table):
    """300/uL on days 3-6 and 9-12 around a 2-day recovery: one run of 10 days, grade 2.

    A recovery of <= 2 days does not end a run (default ``join_gap_days`` 2), so days 3-12 count
    (7-13 days <= 500). With ``join_gap_days`` 0 set through ``instrument_inputs`` the longest run
    is 4 days: grade 1.
    """
    course = anc((3, 6, 300.0), (7, 8, 2000.0), (9, 12, 300.0))
    row, _ = graded(make_table, course)
    assert (row["icaht_early_grade"], row["icaht_early_dur_le500_d"]) == (2, 10)
    config = EndpointConfig(instrument_inputs={"icaht_early": {"options": {"join_gap_days": 0}}})
    row, _ = graded(make_table, course, config=config)
    assert (row["icaht_early_grade"], row["icaht_early_dur_le500_d"]) == (1, 4)


def test_never_recovered_neutropenia_is_grade_4_without_late_grade(make_table):
    """ANC 300/uL from day 1 to the last output time, day 12: grade 4, no late grade.

    12 days <= 500 alone would be grade 2, but a neutropenia starting by day 3 that lasts to the
    end of follow-up never recovered (grade 4). Follow-up ends before day 31: the late grade is
    not evaluable, and notes say so.
    """
    days = list(range(13))
    row, notes = graded(make_table, anc((1, 12, 300.0), days=days), days=days)
    assert row["icaht_early_grade"] == 4
    assert row["icaht_early_never_recovered"] is True
    assert row["icaht_early_dur_le500_d"] == 12
    assert row["icaht_late_grade"] is None
    assert row["icaht_max_grade"] == 4
    assert any("follow-up ends before day 30" in note for note in notes)
    assert any("follow-up ends before day 31: no late grade" in note for note in notes)


def test_follow_up_ending_before_late_window_gives_no_late_grade(make_table):
    """Normal ANC on days 0-20 only: early grade 0, late grade None (window not reached), noted.

    The worst evaluable grade is then the early one (0).
    """
    days = list(range(21))
    row, notes = graded(make_table, anc(days=days), days=days)
    assert row["icaht_early_grade"] == 0
    assert row["icaht_late_grade"] is None
    assert row["icaht_max_grade"] == 0
    assert any("1 of 1 patients (1): follow-up ends before day 31" in note for note in notes)


def test_confirmed_late_nadir(make_table):
    """800/uL on days 50-60: late grade 2 (nadir <= 1000, second-lowest 800 <= 1500 confirms)."""
    row, _ = graded(make_table, anc((50, 60, 800.0)))
    assert (row["icaht_early_grade"], row["icaht_late_grade"], row["icaht_max_grade"]) == (0, 2, 2)


def test_single_late_dip_is_transient(make_table):
    """200/uL on day 45 only: late grade 0, the second-lowest value (3000) is above 1500.

    The ANC nadir still reports the dip (lowest ANC from day 0 and its day).
    """
    row, _ = graded(make_table, anc((45, 45, 200.0)))
    assert row["icaht_late_grade"] == 0
    assert (row["anc_nadir"], row["anc_nadir_d"]) == (200.0, 45.0)


def test_weekly_grid_is_filled_daily_with_a_note(make_table):
    """Weekly outputs 3000, 100, 100, 3000, ... on days 0, 7, 14, 21: grade 3, 8 days.

    The instrument interpolates the days between outputs linearly: day 6 is 3000 - 2900 * 6/7 =
    514 and day 15 is 100 + 2900/7 = 514 (both above 500), days 7-14 are 100. So 8 days <= 100
    (7-13 days): grade 3; a note says the durations come from the filled daily series.
    """
    days = list(range(0, 99, 7))
    course = [NORMAL, 100.0, 100.0, *[NORMAL] * (len(days) - 3)]
    row, notes = graded(make_table, course, days=days)
    assert row["icaht_early_grade"] == 3
    assert (row["icaht_early_dur_le500_d"], row["icaht_early_dur_le100_d"]) == (8, 8)
    assert any("more than a day apart" in note and "filled" in note for note in notes)


def test_sub_daily_grid_is_read_once_a_day(make_table):
    """6-hourly outputs, ANC 300/uL for 3 <= t <= 10: each day reads its whole-day output.

    Days 3-10 read 300 (8 days <= 500, grade 2). The dip at t = 12.25 lies between whole days
    and is not read by the grade (it is still the ANC nadir); no day needed filling, so no note.
    """
    times = np.arange(0, 100.25, 0.25)
    course = np.where((times >= 3) & (times <= 10), 300.0, NORMAL)
    course[times == 12.25] = 50.0
    row, notes = graded(make_table, course, days=times)
    assert (row["icaht_early_grade"], row["icaht_early_dur_le500_d"]) == (2, 8)
    assert (row["anc_nadir"], row["anc_nadir_d"]) == (50.0, 12.25)
    assert not any("filled" in note for note in notes)


def test_undefined_and_pre_infusion_rows_are_not_read(make_table):
    """300/uL on days 3-10 with ANC undefined on days 5-6, and 50/uL at day -3: grade 2.

    The undefined days are filled from their neighbours (300), keeping 8 days <= 500 (grade 2);
    the pre-infusion count is ignored, so the nadir is 300 on day 3.
    """
    days = [-3, *DAYS]
    course = [50.0, *anc((3, 10, 300.0))]
    course[days.index(5)] = course[days.index(6)] = math.nan
    row, notes = graded(make_table, course, days=days)
    assert (row["icaht_early_grade"], row["icaht_early_dur_le500_d"]) == (2, 8)
    assert (row["anc_nadir"], row["anc_nadir_d"]) == (300.0, 3.0)
    assert any("filled" in note for note in notes)


def test_counts_below_laboratory_resolution_read_as_zero(make_table):
    """0.001/uL on days 1-14 (below the 10/uL a laboratory reports): read as 0, grade 4.

    14 days <= 100 is grade 4; the instrument would reject 0.001 cells/uL as implausible.
    """
    row, notes = graded(make_table, anc((1, 14, 1e-3)))
    assert (row["icaht_early_grade"], row["icaht_early_dur_le100_d"]) == (4, 14)
    assert not any("icaht_early:" in note for note in notes)


def test_skipped_without_neutrophils(make_table):
    """No neutrophils column: the family is skipped with a note (platelets alone do not grade)."""
    part = icaht(make_table(DAYS, platelets=[150000.0] * len(DAYS)), EndpointConfig())
    assert (part.patient, part.columns) == ({}, ())
    assert part.notes == ("ICAHT: skipped, the table has no neutrophils column",)


def test_compute_endpoints_reports_icaht_columns(make_table):
    """Patient 1 has 50/uL on days 2-8 (7 days <= 100: grade 3), patient 2 a normal ANC (0).

    With a platelets column the platelet nadir is reported too; every column is documented.
    """
    platelets = [150000.0] * len(DAYS)
    platelets[10] = 20000.0
    table = pd.concat(
        [
            make_table(DAYS, neutrophils=anc((2, 8, 50.0)), platelets=platelets),
            make_table(DAYS, patient_id=2, neutrophils=anc(), platelets=platelets),
        ]
    )
    endpoints = compute_endpoints(table)
    patient = endpoints.patient.set_index("patient_id")
    names = [column.name for column in (*COLUMNS, *PLATELET_COLUMNS)]
    assert set(names) <= set(patient.columns)
    assert set(names) <= set(endpoints.columns["column"])
    assert patient["icaht_early_grade"].to_dict() == {1: 3, 2: 0}
    assert patient["icaht_late_grade"].to_dict() == {1: 0, 2: 0}
    assert patient["icaht_max_grade"].to_dict() == {1: 3, 2: 0}
    assert patient["platelet_nadir"].to_dict() == {1: 20000.0, 2: 20000.0}
    assert not any(note.startswith("ICAHT") for note in endpoints.notes)
