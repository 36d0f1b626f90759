"""B-cell nadir, aplasia and reconstitution on curves that cross 1 cell/uL at known days."""

from __future__ import annotations

import numpy as np

from immunoreset.endpoints import EndpointConfig, compute_endpoints

DAYS = np.arange(-5, 201, 1.0)


def b_curve(days: np.ndarray) -> np.ndarray:
    """150 cells/uL until day 4, 0.2 from day 5 to day 99, 3 from day 100 on (0.1 before day 0)."""
    return np.select([days < 0, days < 5, days < 100], [0.1, 150.0, 0.2], 3.0)


def test_aplasia_and_reconstitution_days(make_table):
    row = compute_endpoints(make_table(DAYS, b_cells_blood=b_curve(DAYS))).patient.iloc[0]
    # the pre-infusion 0.1 is ignored: aplasia starts on day 5, not day -5
    assert row["b_cell_aplasia_onset_d"] == 5
    assert row["b_cell_reconstitution_d"] == 100
    assert row["b_cell_aplasia_duration_d"] == 95
    assert not row["b_cell_aplasia_censored"]
    assert row["b_cell_nadir"] == 0.2
    assert row["b_cell_nadir_d"] == 5


def test_recovery_threshold_from_instrument_inputs(make_table):
    inputs = {"b_cell_aplasia_reconstitution": {"recovery_threshold": 5}}
    config = EndpointConfig(instrument_inputs=inputs)
    row = compute_endpoints(make_table(DAYS, b_cells_blood=b_curve(DAYS)), config).patient.iloc[0]
    # 3 cells/uL never reaches 5: censored at the last output time
    assert row.isna()["b_cell_reconstitution_d"]
    assert row["b_cell_aplasia_duration_d"] == 200 - 5
    assert row["b_cell_aplasia_censored"]


def test_exactly_one_cell_is_not_aplasia(make_table):
    row = compute_endpoints(make_table(DAYS, b_cells_blood=np.ones_like(DAYS))).patient.iloc[0]
    assert row.isna()["b_cell_aplasia_onset_d"]
    assert row.isna()["b_cell_aplasia_duration_d"]
    assert row["b_cell_nadir"] == 1


def test_solver_round_off_below_zero_reads_as_zero(make_table):
    counts = np.where(DAYS < 10, 100.0, -1e-12)
    row = compute_endpoints(make_table(DAYS, b_cells_blood=counts)).patient.iloc[0]
    assert row["b_cell_aplasia_onset_d"] == 10
    assert row["b_cell_nadir"] == 0
