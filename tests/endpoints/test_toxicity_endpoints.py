"""CRS and ICANS courses graded per output time, with hand-known grade, onset and duration."""

from __future__ import annotations

import pytest

from immunoreset.endpoints import compute_endpoints
from immunoreset.endpoints.toxicity import course

DAYS = list(range(-1, 11))
#             -1    0    1    2    3    4    5    6    7    8    9   10
TEMP = [39.0, 37.0, 38.5, 38.5, 38.5, 38.5, 38.5, 38.0, 37.0, 37.0, 38.2, 38.2]
HYPOTENSION = [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
N_VASOPRESSORS = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
OXYGEN = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]


def crs_row(make_table, **overrides):
    columns = {
        "temp_c": TEMP,
        "hypotension": HYPOTENSION,
        "n_vasopressors": N_VASOPRESSORS,
        "vasopressin": [0] * len(DAYS),
        "oxygen_level": OXYGEN,
    } | overrides
    return compute_endpoints(make_table(DAYS, **columns)).patient.iloc[0]


def test_crs_max_grade_onset_duration(make_table):
    row = crs_row(make_table)
    # day 1 fever (1), day 3 fluids (2), day 4 one vasopressor (3), day 5 low-flow O2 (2),
    # day 6 fever at exactly 38.0 (1); grade 0 on day 7; again fever on days 9-10.
    # The day -1 fever is before infusion and not graded.
    assert row["crs_max_grade"] == 3
    assert row["crs_onset_d"] == 1
    # episode 1: day 1 to day 7 (6 days); episode 2: day 9 to the last time, day 10 (1 day)
    assert row["crs_duration_d"] == 7
    assert row["crs_ongoing_at_end"]


def test_vasopressin_never_counts_as_second_agent(make_table):
    row = crs_row(make_table, vasopressin=N_VASOPRESSORS)
    assert row["crs_max_grade"] == 3
    two = [2 * n for n in N_VASOPRESSORS]
    assert crs_row(make_table, n_vasopressors=two)["crs_max_grade"] == 4


def test_hypotension_without_fever_is_not_crs(make_table):
    row = crs_row(make_table, temp_c=[37.0] * len(DAYS))
    assert row["crs_max_grade"] == 0
    assert row.isna()["crs_onset_d"]
    assert row["crs_duration_d"] == 0


def test_absent_support_columns_are_noted(make_table):
    endpoints = compute_endpoints(make_table(DAYS, temp_c=TEMP))
    assert endpoints.patient.iloc[0]["crs_max_grade"] == 1
    assert any("CRS: no hypotension, n_vasopressors" in note for note in endpoints.notes)


def test_icans_course(make_table):
    ice = [10, 10, 10, 10, 10, 10, 6, 10, 10, 10, 10, 10]
    consciousness = [0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]
    table = make_table(DAYS, ice_score=ice, consciousness=consciousness)
    row = compute_endpoints(table).patient.iloc[0]
    # ICE 6 on day 5 -> 2; awakens only to touch on day 6 -> 3; normal from day 7
    assert row["icans_max_grade"] == 3
    assert row["icans_onset_d"] == 5
    assert row["icans_duration_d"] == 2
    assert not row["icans_ongoing_at_end"]
    assert "crs_max_grade" not in row.index


@pytest.mark.parametrize(
    ("column", "levels", "expected_max"),
    [
        # ASTCT 2019 Table 5: any seizure is grade 3, prolonged or repetitive seizures grade 4; deep
        # focal motor weakness grade 4; focal oedema grade 3, diffuse oedema grade 4.
        ("seizure", [0, 0, 1, 2, 1, 0], 4),
        ("seizure", [0, 0, 1, 1, 0, 0], 3),
        ("motor_weakness", [0, 0, 0, 1, 0, 0], 4),
        ("cerebral_edema", [0, 1, 1, 0, 0, 0], 3),
        ("cerebral_edema", [0, 1, 2, 0, 0, 0], 4),
    ],
)
def test_icans_other_domains_grade_without_an_ice_deficit(make_table, column, levels, expected_max):
    """Seizures, motor weakness and cerebral oedema grade ICANS on their own (ICE 10 throughout)."""
    days = list(range(len(levels)))
    table = make_table(days, ice_score=[10] * len(days), **{column: levels})
    endpoints = compute_endpoints(table)
    row = endpoints.patient.iloc[0]
    assert row["icans_max_grade"] == expected_max
    assert row["icans_onset_d"] == levels.index(next(v for v in levels if v))
    assert not any(column in note for note in endpoints.notes)


def test_icans_domain_levels_out_of_range_are_noted(make_table):
    table = make_table(DAYS, ice_score=[10] * len(DAYS), seizure=[3] * len(DAYS))
    endpoints = compute_endpoints(table)
    assert endpoints.patient.isna().iloc[0]["icans_max_grade"]
    assert any("seizure" in note and "11 time points" in note for note in endpoints.notes)


def test_invalid_support_level_is_noted_not_fatal(make_table):
    endpoints = compute_endpoints(make_table(DAYS, temp_c=TEMP, oxygen_level=[7] * len(DAYS)))
    assert endpoints.patient.isna().iloc[0]["crs_max_grade"]
    assert any("oxygen_level" in note and "11 time points" in note for note in endpoints.notes)


@pytest.mark.parametrize(
    ("grades", "expected"),
    [
        ([0, 0, 0], (0, None, 0.0, False)),
        ([0, 2, 1, 0], (2, 1.0, 2.0, False)),
        ([1, 0, 1], (1, 0.0, 1.0, True)),
    ],
)
def test_course(grades, expected):
    summary = course([float(t) for t in range(len(grades))], grades)
    assert tuple(summary.values()) == expected


def test_hypotension_after_tocilizumab_grades_without_fever(make_table):
    """ASTCT: once tocilizumab (or a corticosteroid) was given for CRS, fever is no longer needed;
    tocilizumab masks fever, so the recorded treatment keeps the hypotension of days 3-4 graded."""
    given = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    temp = [37.0, 37.0, 38.5, 37.0, 37.0, 37.0, 37.0, 37.0, 37.0, 37.0, 37.0, 37.0]
    row = crs_row(make_table, temp_c=temp, tocilizumab_given=given)
    assert row["crs_max_grade"] == 3  # day 4: one vasopressor, without fever
    assert row["crs_duration_d"] == 4  # days 1-5 (grade 0 again on day 5)
    assert row["tocilizumab_used"]
    assert row["tocilizumab_day"] == 2
    untreated = crs_row(make_table, temp_c=temp)
    assert untreated["crs_max_grade"] == 1


def test_treatment_columns_record_whether_and_when(make_table):
    steroid = [0] * 7 + [1] * 5
    row = crs_row(make_table, tocilizumab_given=[0] * 12, corticosteroids_given=steroid)
    assert not row["tocilizumab_used"]
    assert row.isna()["tocilizumab_day"]
    assert row["corticosteroids_used"]
    assert row["corticosteroids_day"] == 6


def _grade(key, record):
    """The instrument's grade of one record, or the text of its rejection."""
    from immunoreset.clinical import InstrumentInputError
    from immunoreset.endpoints.config import EndpointConfig
    from immunoreset.endpoints.scoring import attempt

    outcome = attempt(key, record, EndpointConfig())
    return str(outcome) if isinstance(outcome, InstrumentInputError) else outcome["grade"]


def test_time_points_in_one_class_grade_as_their_own_inputs():
    """Grading the classes (one temperature per fever class, whole ICE points) gives each time
    point the grade, or the rejection, of its own inputs: temperatures at and next to 38.0 C and
    the instrument's range limits, ICE scores next to a half point."""
    import itertools

    import numpy as np

    from immunoreset.endpoints.toxicity import CRS, ICANS

    temps = [
        24.99,
        25.0,
        37.0,
        np.nextafter(38.0, 0.0),
        38.0,
        np.nextafter(38.0, 99.0),
        45.0,
        45.01,
    ]
    crs_used = ["temp_c", "hypotension", "n_vasopressors", "oxygen_level", "tocilizumab_given"]
    rows = np.array(list(itertools.product(temps, (0, 1), (0, 2), (0, 3), (0, 1))), dtype=float)
    classes = CRS.classes(rows, crs_used)
    assert len(np.unique(classes, axis=0)) < len(rows)
    for raw, cls in zip(rows, classes, strict=True):
        expected = _grade("astct_crs", CRS.record(dict(zip(crs_used, raw, strict=True)), 40.0))
        got = _grade("astct_crs", CRS.record(dict(zip(crs_used, cls, strict=True)), 40.0))
        assert got == expected, (raw, cls)
    ice_used = ["ice_score", "consciousness"]
    scores = [np.nextafter(6.5, 0.0), 6.5, 7.4, 10.49, 10.5, -0.6]
    rows = np.array(list(itertools.product(scores, (0, 2))), dtype=float)
    for raw, cls in zip(rows, ICANS.classes(rows, ice_used), strict=True):
        record = dict(zip(ice_used, raw, strict=True))
        expected = _grade("astct_icans", ICANS.record(record, 40.0))
        graded = _grade("astct_icans", ICANS.record(dict(zip(ice_used, cls, strict=True)), 40.0))
        assert graded == expected, (raw, cls)


def test_a_course_of_ever_changing_temperatures_grades_by_fever(make_table):
    temps = [37.2, 38.01, 39.7, 38.4, 37.99, 37.1, 38.6, 36.9, 37.5, 37.0, 36.8, 37.3]
    row = crs_row(make_table, temp_c=temps, hypotension=[0] * 12, n_vasopressors=[0] * 12,
                  oxygen_level=[0] * 12)  # fmt: skip
    # fever on days 0-2 and 5 (graded from day 0): two episodes, 3 + 1 days
    assert row["crs_max_grade"] == 1
    assert row["crs_onset_d"] == 0
    assert row["crs_duration_d"] == 4
    assert not row["crs_ongoing_at_end"]
