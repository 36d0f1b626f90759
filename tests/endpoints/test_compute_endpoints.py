"""Layout of the endpoint tables, checks of the result table, and writing the files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoreset.endpoints import (
    EndpointConfig,
    ResultTableError,
    compute_endpoints,
    write_endpoints,
)


@pytest.fixture
def two_patients(make_table) -> pd.DataFrame:
    days = np.arange(0, 366, 1.0)
    first = make_table(
        days, car_t_blood=100 * np.exp(-days / 20), anti_dsdna=np.full_like(days, 50)
    )
    second = make_table(days, patient_id=7, car_t_blood=np.zeros_like(days), anti_dsdna=days)
    return pd.concat([second, first]).sample(frac=1, random_state=0)


def test_one_row_per_patient_and_per_visit(two_patients):
    endpoints = compute_endpoints(two_patients)
    assert list(endpoints.patient["patient_id"]) == [1, 7]
    assert len(endpoints.visits) == 2 * 5
    assert list(endpoints.visits.columns[:3]) == ["patient_id", "visit_day", "time"]
    assert endpoints.patient.iloc[0]["car_cmax"] == 100
    assert endpoints.patient.isna().iloc[1]["car_cmax"]


def test_every_column_has_a_unit(two_patients):
    endpoints = compute_endpoints(two_patients)
    documented = endpoints.columns.groupby("table")["column"].apply(list)
    assert documented["patient"] == list(endpoints.patient.columns)
    assert documented["visit"] == list(endpoints.visits.columns)
    assert endpoints.columns["unit"].str.len().gt(0).all()


def test_table_without_observables_skips_everything(make_table):
    endpoints = compute_endpoints(make_table([0, 1, 2]))
    assert list(endpoints.patient.columns) == ["patient_id", "evaluable", "not_evaluable_reason"]
    assert list(endpoints.visits.columns) == ["patient_id", "visit_day", "time"]
    assert len(endpoints.notes) >= 8


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"patient_id": [1], "t": [0.0]}), "no 'time' column"),
        (pd.DataFrame({"patient_id": [1], "time": ["day 0"]}), "must be numeric"),
        (pd.DataFrame({"patient_id": [1, 1], "time": [0.0, 0.0]}), "more than once"),
    ],
)
def test_result_table_is_checked(table, message):
    with pytest.raises(ResultTableError, match=message):
        compute_endpoints(table)


def test_bad_visit_schedule_is_rejected():
    with pytest.raises(ValueError, match="visits"):
        EndpointConfig(visits=())
    assert EndpointConfig(visits=(90, 0, 28, 28)).visits == (0, 28, 90)


def test_write_endpoints(two_patients, tmp_path):
    endpoints = compute_endpoints(two_patients)
    paths = write_endpoints(endpoints, tmp_path / "out")
    names = sorted(path.name for path in paths)
    assert names == [
        "endpoints_columns.csv",
        "endpoints_notes.txt",
        "endpoints_patient.csv",
        "endpoints_visits.csv",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    patient = pd.read_csv(tmp_path / "out" / "endpoints_patient.csv")
    assert list(patient.columns) == list(endpoints.patient.columns)
    assert patient["car_cmax"].isna().tolist() == [False, True]
    notes = (tmp_path / "out" / "endpoints_notes.txt").read_text().splitlines()
    assert notes == list(endpoints.notes)


def test_failed_patients_are_not_evaluable(make_table):
    """A failed simulation keeps its outputs before the failure; they are never scored."""
    times = [0.0, 7.0, 14.0]
    table = pd.concat(
        [make_table(times, 0, b_cells_blood=[100, 0.5, 0.1]),
         make_table(times, 1, b_cells_blood=[100, 0.2, float("nan")])],
        ignore_index=True,
    )  # fmt: skip
    status = pd.DataFrame(
        {"patient_id": [0, 1], "status": [0, 1], "status_message": ["ok", "maximum steps"]}
    )
    endpoints = compute_endpoints(table, status=status)
    row = endpoints.patient.set_index("patient_id").loc[1]
    assert (
        not row["evaluable"] and row["not_evaluable_reason"] == "simulation failed: maximum steps"
    )
    assert endpoints.patient.set_index("patient_id").loc[0, "evaluable"]
    assert pd.isna(row["b_cell_nadir"])
    assert endpoints.patient.set_index("patient_id").loc[0, "b_cell_nadir"] == 0.1
    assert any("1 patient(s) not evaluable" in note for note in endpoints.notes)
