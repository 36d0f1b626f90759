"""Serum IgG: nadir and hypogammaglobulinaemia per patient and at the visits.

Every judgement is made by the ``hypogammaglobulinemia`` instrument (severe below 4.0 g/L, below the
laboratory lower limit of normal, default 7.0 g/L). Both rules are monotone in IgG, so the judgement
at the nadir tells whether the patient was ever severely hypogammaglobulinaemic (or below the LLN)
during follow-up. Immunoglobulin replacement is not an observable, so ``ivig_confounded`` is not
evaluated. Thresholds are set through ``instrument_inputs["hypogammaglobulinemia"]``.
"""

from __future__ import annotations

import pandas as pd

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import outputs, score_record
from immunoreset.endpoints.table import Patients, nadir, series
from immunoreset.endpoints.visits import value_at, visit_positions

KEY = "hypogammaglobulinemia"
FAMILY = "IgG"
OBSERVABLE = "igg_total"
NADIR_OUTPUTS = {
    "severe_hypogammaglobulinemia": "igg_nadir_severe",
    "below_lln": "igg_nadir_below_lln",
}
VISIT_OUTPUTS = {"severe_hypogammaglobulinemia": "igg_severe", "below_lln": "igg_below_lln"}
COLUMNS = (
    Column("patient", "igg_nadir", "g/L", "lowest total IgG from day 0"),
    Column("patient", "igg_nadir_d", "day", "earliest time of igg_nadir"),
    Column("patient", "igg_nadir_severe", "bool", "severe hypogammaglobulinaemia at any time"),
    Column("patient", "igg_nadir_below_lln", "bool", "IgG below the LLN at any time"),
    Column("visit", "igg_total", "g/L", "total IgG at the visit"),
    Column("visit", "igg_severe", "bool", "severe hypogammaglobulinaemia at the visit"),
    Column("visit", "igg_below_lln", "bool", "IgG below the LLN at the visit"),
)


def igg(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """IgG nadir and hypogammaglobulinaemia of every patient (skipped without igg_total)."""
    if OBSERVABLE not in table.columns:
        return skipped(FAMILY, [OBSERVABLE])
    notes: list[str] = []
    patient_rows: dict[int, dict] = {}
    visit_rows: dict[tuple[int, float], dict] = {}

    def judge(value: float | None, names: dict[str, str], where: str) -> dict:
        result = None
        if value is not None:
            result = score_record(KEY, {"igg_g_L": value}, config, notes, where)
        return outputs(result, names)

    for patient, rows in Patients(table):
        times, levels = series(rows, OBSERVABLE)
        lowest, lowest_day = nadir(times, levels)
        row = {"igg_nadir": lowest, "igg_nadir_d": lowest_day}
        patient_rows[patient] = row | judge(lowest, NADIR_OUTPUTS, f"patient {patient} nadir")
        for day, position in visit_positions(rows, config).items():
            value = value_at(rows, position, OBSERVABLE)
            where = f"patient {patient} day {day:g}"
            visit_rows[patient, day] = {"igg_total": value} | judge(value, VISIT_OUTPUTS, where)
    return Part(patient=patient_rows, visits=visit_rows, columns=COLUMNS, notes=tuple(notes))
