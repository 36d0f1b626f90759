"""CAR kinetics endpoints on a profile whose NCA is known by hand."""

from __future__ import annotations

import math

import pytest

from immunoreset.endpoints import EndpointConfig, compute_endpoints
from immunoreset.endpoints.pk import car_kinetics

TIMES = [-3, 0, 7, 14, 21, 28, 35]
LEVELS = [5, 0, 1000, 500, 200, 100, 0.5]


def test_cmax_tmax_auc_clast_and_persistence(make_table):
    table = make_table(TIMES, car_t_blood=LEVELS)
    row = compute_endpoints(table).patient.iloc[0]
    assert row["car_cmax"] == 1000
    assert row["car_tmax_d"] == 7
    # default linear-up/log-down: rise 0 -> 1000 linear; each fall (c1 - c2) * dt / ln(c1 / c2)
    expected = 3500 + 500 * 7 / math.log(2) + 300 * 7 / math.log(2.5) + 100 * 7 / math.log(2)
    assert row["car_auc_0_28d"] == pytest.approx(expected)
    # 0.5 cells/uL on day 35 is below the default LLOQ of 1 cell/uL: persistence ends on day 28
    assert row["car_clast"] == 100
    assert row["car_tlast_d"] == 28
    assert not row["car_persisting_at_end"]


def test_lloq_moves_persistence(make_table):
    table = make_table(TIMES, car_t_blood=LEVELS)
    row = compute_endpoints(table, EndpointConfig(car_lloq=0.25)).patient.iloc[0]
    assert row["car_tlast_d"] == 35
    assert row["car_clast"] == 0.5
    assert row["car_persisting_at_end"]


def test_linear_trapezoid_option(make_table):
    table = make_table(TIMES, car_t_blood=LEVELS)
    row = compute_endpoints(table, EndpointConfig(car_auc_method="linear")).patient.iloc[0]
    # linear trapezoids: 1000/2*7 + 1500/2*7 + 700/2*7 + 300/2*7
    assert row["car_auc_0_28d"] == pytest.approx(12250)


def test_unknown_auc_method_is_rejected():
    with pytest.raises(ValueError, match="car_auc_method"):
        EndpointConfig(car_auc_method="log")


def test_transgene_observable_and_unit(make_table):
    table = make_table(TIMES, car_transgene=[level * 10 for level in LEVELS])
    config = EndpointConfig(car_observable="car_transgene", car_lloq=50)
    part = car_kinetics(table, config)
    assert part.patient[1]["car_cmax"] == 10000
    assert part.patient[1]["car_tlast_d"] == 28
    units = {column.name: column.unit for column in part.columns}
    assert units["car_auc_0_28d"] == "copies/ug DNA x day"


def test_no_expansion_is_not_evaluable(make_table):
    row = compute_endpoints(make_table(TIMES, car_t_blood=[0.0] * 7)).patient.iloc[0]
    assert row.isna()["car_cmax"]
    assert row.isna()["car_auc_0_28d"]


def test_skipped_without_observable(make_table):
    endpoints = compute_endpoints(make_table(TIMES, b_cells_blood=[100.0] * 7))
    assert "car_cmax" not in endpoints.patient.columns
    assert any(note.startswith("CAR kinetics: skipped") for note in endpoints.notes)


def test_unknown_car_observable_is_rejected():
    with pytest.raises(ValueError, match="not an observable"):
        EndpointConfig(car_observable="car_t")
