"""Anti-dsDNA change and seroconversion, IgG nadir and hypogammaglobulinaemia at visits."""

from __future__ import annotations

import pytest

from immunoreset.endpoints import EndpointConfig, compute_endpoints

DAYS = [0, 28, 90, 180, 365]


def visits(endpoints, column):
    return endpoints.visits.set_index("visit_day")[column]


def test_change_from_baseline_and_seroconversion(make_table):
    # 15 IU/mL on day 90 sits on the default cut-off: not above it, so negative
    endpoints = compute_endpoints(make_table(DAYS, anti_dsdna=[200, 100, 15, 5, 4]))
    change = visits(endpoints, "anti_dsdna_change")
    assert change[90] == -185
    assert visits(endpoints, "anti_dsdna_change_pct")[90] == pytest.approx(-92.5)
    assert list(visits(endpoints, "anti_dsdna_positive")) == [True, True, False, False, False]
    row = endpoints.patient.iloc[0]
    assert row["anti_dsdna_baseline_positive"]
    assert row["anti_dsdna_seroconverted"]
    assert row["anti_dsdna_seroconversion_d"] == 90


def test_cut_off_is_configurable(make_table):
    config = EndpointConfig(anti_dsdna_positive_above=10)
    endpoints = compute_endpoints(make_table(DAYS, anti_dsdna=[200, 100, 15, 5, 4]), config)
    assert endpoints.patient.iloc[0]["anti_dsdna_seroconversion_d"] == 180


def test_seroconversion_needs_a_positive_baseline(make_table):
    endpoints = compute_endpoints(make_table(DAYS, anti_dsdna=[12, 8, 5, 5, 5]))
    row = endpoints.patient.iloc[0]
    assert not row["anti_dsdna_baseline_positive"]
    assert row.isna()["anti_dsdna_seroconverted"]
    still = compute_endpoints(make_table(DAYS, anti_dsdna=[200, 100, 90, 80, 70])).patient
    assert not still.iloc[0]["anti_dsdna_seroconverted"]


def test_visit_takes_nearest_time_within_tolerance(make_table):
    times = [0, 27.4, 28.6, 91, 183, 365]
    endpoints = compute_endpoints(make_table(times, anti_dsdna=[100, 50, 40, 30, 20, 10]))
    read = endpoints.visits.set_index("visit_day")
    assert read.loc[28, "time"] == 27.4
    assert read.loc[90, "anti_dsdna"] == 30
    # day 183 is 3 days from the day-180 visit: the visit is missed, nothing is interpolated
    assert read.isna().loc[180, "anti_dsdna"]
    assert "visit day 180: no output time within 1 d for 1 of 1 patients" in endpoints.notes


def test_igg_nadir_and_visits(make_table):
    days = [0, 28, 60, 90, 120, 180, 365]
    igg = [9.0, 7.5, 5.0, 3.9, 4.2, 6.5, 8.0]
    endpoints = compute_endpoints(make_table(days, igg_total=igg))
    row = endpoints.patient.iloc[0]
    assert row["igg_nadir"] == 3.9
    assert row["igg_nadir_d"] == 90
    assert row["igg_nadir_severe"]
    assert row["igg_nadir_below_lln"]
    severe = visits(endpoints, "igg_severe")
    assert list(severe) == [False, False, True, False, False]
    assert list(visits(endpoints, "igg_below_lln")) == [False, False, True, True, False]


def test_igg_thresholds_from_instrument_inputs(make_table):
    inputs = {"hypogammaglobulinemia": {"severe_threshold_g_L": 3.5, "igg_lln_g_L": 6.0}}
    table = make_table([0, 90], igg_total=[9.0, 3.9])
    row = compute_endpoints(table, EndpointConfig(instrument_inputs=inputs)).patient.iloc[0]
    assert not row["igg_nadir_severe"]
    assert row["igg_nadir_below_lln"]
