"""Peripheral B cells per patient: nadir, aplasia onset and duration, reconstitution.

Aplasia and reconstitution come from the ``b_cell_aplasia_reconstitution`` instrument (CONVENTION;
clinical picture: Mackensen A et al., Nat Med 2022;28:2124-32) applied to every output time from day
0: aplasia starts at the first time strictly below the aplasia threshold (default 1 cell/uL),
reconstitution is the first later time at or above the recovery threshold that the next output time
confirms. On a dense output grid the days are therefore resolved to the grid spacing. Thresholds are
set through ``instrument_inputs["b_cell_aplasia_reconstitution"]`` (``aplasia_threshold``,
``recovery_threshold``).
"""

from __future__ import annotations

import pandas as pd

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import exact_series, outputs, score_record
from immunoreset.endpoints.table import Patients, nadir, series

KEY = "b_cell_aplasia_reconstitution"
FAMILY = "B cells"
OBSERVABLE = "b_cells_blood"
OUTPUT_COLUMNS = {
    "aplasia_onset_day": "b_cell_aplasia_onset_d",
    "reconstitution_day": "b_cell_reconstitution_d",
    "aplasia_duration_days": "b_cell_aplasia_duration_d",
    "censored": "b_cell_aplasia_censored",
}
COLUMNS = (
    Column("patient", "b_cell_nadir", "cells/uL", "lowest CD19+ B cells in blood from day 0"),
    Column("patient", "b_cell_nadir_d", "day", "earliest time of b_cell_nadir"),
    Column("patient", "b_cell_aplasia_onset_d", "day", "first time below the aplasia threshold"),
    Column("patient", "b_cell_reconstitution_d", "day", "confirmed return to the threshold"),
    Column(
        "patient",
        "b_cell_aplasia_duration_d",
        "day",
        "reconstitution (or, if censored, last time) minus onset",
    ),
    Column("patient", "b_cell_aplasia_censored", "bool", "no confirmed reconstitution by the end"),
)


def b_cells(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """B-cell nadir, aplasia and reconstitution of every patient (skipped without b_cells_blood)."""
    if OBSERVABLE not in table.columns:
        return skipped(FAMILY, [OBSERVABLE])
    notes: list[str] = []
    rows: dict[int, dict] = {}
    for patient, patient_rows in Patients(table):
        times, counts = series(patient_rows, OBSERVABLE)
        record = {"days": exact_series(times), "values": counts}
        result = score_record(KEY, record, config, notes, f"patient {patient}")
        lowest, lowest_day = nadir(times, counts)
        row = {"b_cell_nadir": lowest, "b_cell_nadir_d": lowest_day}
        rows[patient] = row | outputs(result, OUTPUT_COLUMNS)
    return Part(patient=rows, columns=COLUMNS, notes=tuple(notes))
