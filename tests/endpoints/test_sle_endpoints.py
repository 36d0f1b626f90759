"""SLEDAI-2K, DORIS and LLDAS at visits from serology with hand-counted descriptors."""

from __future__ import annotations

from immunoreset.endpoints import EndpointConfig, compute_endpoints

DAYS = [0, 20, 28, 90]
SEROLOGY = {
    "anti_dsdna": [200, 100, 50, 10],
    "c3": [60, 70, 95, 100],
    "proteinuria": [800, 600, 300, 100],
}
VISITS = EndpointConfig(visits=(0, 28, 90))


def at_visits(endpoints, column):
    return list(endpoints.visits[column])


def test_sledai_counts_descriptors_in_the_window(make_table):
    endpoints = compute_endpoints(make_table(DAYS, **SEROLOGY), VISITS)
    # day 0: anti-dsDNA 200 > 15 (2), C3 60 < 90 (2), 800 mg/g > 500 (4).
    # day 28: C3 and proteinuria are normal on the day but not on day 20, inside the 10-day window.
    # day 90: nothing in days 80-90.
    assert at_visits(endpoints, "sledai_2k") == [8, 8, 0]
    assert at_visits(endpoints, "clinical_sledai") == [4, 4, 0]
    assert at_visits(endpoints, "sledai_items")[0] == (
        "increased_dna_binding;low_complement;proteinuria"
    )
    assert "doris_remission_on_treatment" not in endpoints.visits.columns
    assert any("doris_2021 skipped" in note for note in endpoints.notes)


def test_assay_cut_offs_are_parameters(make_table):
    config = EndpointConfig(visits=(0, 28, 90), c3_lln_mg_dl=65, proteinuria_above_mg_g=700)
    endpoints = compute_endpoints(make_table(DAYS, **SEROLOGY), config)
    # C3 70 on day 20 is no longer low; only day 0 proteinuria (800) exceeds 700
    assert at_visits(endpoints, "sledai_2k") == [8, 2, 0]


def test_clinical_descriptor_columns(make_table):
    table = make_table(DAYS, **SEROLOGY, sledai_item_arthritis=[1, 1, 0, 0])
    endpoints = compute_endpoints(table, VISITS)
    assert at_visits(endpoints, "clinical_sledai") == [8, 8, 0]


def test_doris_with_configured_clinical_inputs(make_table):
    inputs = {"doris_2021": {"pga": 0, "prednisolone_mg_day": 0}}
    config = EndpointConfig(visits=(0, 28, 90), instrument_inputs=inputs)
    endpoints = compute_endpoints(make_table(DAYS, **SEROLOGY), config)
    assert at_visits(endpoints, "doris_remission_on_treatment") == [False, False, True]
    assert at_visits(endpoints, "doris_remission_off_treatment") == [False, False, True]
    assert "lldas" not in endpoints.visits.columns


def test_lldas_from_table_columns(make_table):
    table = make_table(DAYS, **SEROLOGY, pga=[1.0] * 4, prednisolone_mg_day=[10, 7.5, 7.5, 0])
    endpoints = compute_endpoints(table, VISITS)
    assert at_visits(endpoints, "lldas") == [False, False, True]
    assert at_visits(endpoints, "doris_remission_on_treatment") == [False, False, False]


def test_lldas_first_visit_is_not_evaluable(make_table):
    table = make_table([0], anti_dsdna=[200], pga=[0.5], prednisolone_mg_day=[5])
    endpoints = compute_endpoints(table, EndpointConfig(visits=(0,)))
    # SLEDAI 2 (serology only) would allow LLDAS, but there is no previous assessment
    assert endpoints.visits.isna().iloc[0]["lldas"]


def test_skipped_without_inputs(make_table):
    endpoints = compute_endpoints(make_table(DAYS, igg_total=[8.0] * 4), VISITS)
    assert "sledai_2k" not in endpoints.visits.columns
    assert any(note.startswith("SLE activity: skipped") for note in endpoints.notes)
