"""mRSS change, EUSTAR-AI and the myositis TIS at visits, with hand-computed values."""

from __future__ import annotations

import pandas as pd
import pytest

from immunoreset.endpoints import EndpointConfig, compute_endpoints

DAYS = [0, 28, 90, 180, 365]


def column(endpoints, name):
    return endpoints.visits.set_index("visit_day")[name]


def test_mrss_change_and_skin_response(make_table):
    endpoints = compute_endpoints(make_table(DAYS, mrss=[28, 27.6, 24, 22.4, 21]))
    assert column(endpoints, "mrss_change")[365] == -7
    improved = column(endpoints, "mrss_improved")
    # day 180: 28 -> 22 is 6 points but < 25 %; day 365: 28 -> 21 is 7 points and exactly 25 %
    assert pd.isna(improved[0])
    assert [bool(improved[day]) for day in DAYS[1:]] == [False, False, False, True]
    assert not column(endpoints, "mrss_progressed").any()
    assert any("EUSTAR-AI skipped" in note for note in endpoints.notes)


def test_eustar_ai_when_inputs_are_given(make_table):
    table = make_table(
        DAYS,
        mrss=[28, 27.6, 24, 22.4, 21],
        dlco_pct_pred=[65] * 5,
        crp_mg_l=[12, 12, 12, 12, 5],
    )
    endpoints = compute_endpoints(table)
    score = column(endpoints, "eustar_ai")
    # mRSS > 18 (1.5) + CRP > 10 mg/L (2.25) + DLCO < 70 % (1.0); day 365 without CRP: 2.5
    assert score[0] == pytest.approx(4.75)
    assert score[365] == pytest.approx(2.5)
    assert column(endpoints, "eustar_ai_active")[365]


def test_tis_against_baseline(make_table):
    table = make_table(
        [0, 180],
        mdga=[5, 2],
        ptga=[5, 4],
        mmt8=[60, 70],
        haq=[1.5, 1.5],
        ck=[2000, 1000],
        extramuscular=[4, 4],
    )
    endpoints = compute_endpoints(table, EndpointConfig(visits=(0, 180)))
    # MDGA 30 % -> 17.5, PtGA 10 % -> 2.5, MMT 12.5 % of 80 -> 20, CK 50 % -> 7.5
    assert column(endpoints, "tis")[180] == pytest.approx(47.5)
    assert column(endpoints, "tis_category")[180] == "moderate"
    assert pd.isna(column(endpoints, "tis")[0])


def test_tis_not_evaluable_with_missing_measures(make_table):
    table = make_table([0, 180], mmt8=[60, 70], ck=[2000, 1000])
    endpoints = compute_endpoints(table, EndpointConfig(visits=(0, 180)))
    assert pd.isna(column(endpoints, "tis")[180])
    inputs = {"myositis_tis_2016": {"options": {"score_available_items": True}}}
    config = EndpointConfig(visits=(0, 180), instrument_inputs=inputs)
    assert column(compute_endpoints(table, config), "tis")[180] == pytest.approx(27.5)
