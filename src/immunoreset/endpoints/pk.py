"""CAR T cell kinetics per patient: Cmax, Tmax, AUC0-28d, Clast/Tlast and persistence.

Non-compartmental analysis of the whole simulated profile from day 0 by the ``car_pk_nca``
instrument (Mueller KT et al., Clin Cancer Res 2018;24:6175-84). The AUC0-28 uses the
linear-up/log-down trapezoid rule by default (``EndpointConfig.car_auc_method``). Levels below
``EndpointConfig.car_lloq`` (which is also the instrument's ``lloq``) are not quantifiable, as in
an assay, so Tlast is the persistence of detectable CAR cells: the last time the level was at or
above the LLOQ. ``car_persisting_at_end`` says whether the level was still at or above the LLOQ at
the last output time (persistence then lasts at least until Tlast: censored).
"""

from __future__ import annotations

import pandas as pd

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import exact_series, outputs, score_record
from immunoreset.endpoints.table import Patients, series
from immunoreset.observables import unit_of

KEY = "car_pk_nca"
FAMILY = "CAR kinetics"
OUTPUT_COLUMNS = {
    "cmax": "car_cmax",
    "tmax_d": "car_tmax_d",
    "auc_0_28d": "car_auc_0_28d",
    "auc_0_28d_method": "car_auc_0_28d_method",
    "clast": "car_clast",
    "tlast_d": "car_tlast_d",
}


def columns(unit: str, observable: str) -> tuple[Column, ...]:
    """Column docs for CAR kinetics read from ``observable`` in ``unit``."""
    return (
        Column("patient", "car_cmax", unit, f"highest quantifiable {observable} from day 0"),
        Column("patient", "car_tmax_d", "day", "earliest time of car_cmax"),
        Column(
            "patient", "car_auc_0_28d", f"{unit} x day", "AUC from day 0 to day 28 (trapezoids)"
        ),
        Column(
            "patient",
            "car_auc_0_28d_method",
            "text",
            "trapezoid rule of car_auc_0_28d (linear_up_log_down or linear)",
        ),
        Column("patient", "car_clast", unit, "last quantifiable level (>= LLOQ)"),
        Column("patient", "car_tlast_d", "day", "persistence: last time with level >= LLOQ"),
        Column(
            "patient",
            "car_persisting_at_end",
            "bool",
            "level still >= LLOQ at the last output time (persistence censored)",
        ),
    )


def car_kinetics(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """CAR kinetics of every patient from ``config.car_observable`` (skipped if absent)."""
    observable = config.car_observable
    if observable not in table.columns:
        return skipped(FAMILY, [observable])
    notes: list[str] = []
    rows: dict[int, dict] = {}
    for patient, patient_rows in Patients(table):
        times, levels = series(patient_rows, observable)
        record = {
            "times_d": exact_series(times),
            "levels": levels,
            "lloq": config.car_lloq,
            "options": {"auc_method": config.car_auc_method},
        }
        result = score_record(KEY, record, config, notes, f"patient {patient}")
        at_end = bool(levels[-1] >= config.car_lloq) if len(levels) else None
        rows[patient] = outputs(result, OUTPUT_COLUMNS) | {"car_persisting_at_end": at_end}
    return Part(patient=rows, columns=columns(unit_of(observable), observable), notes=tuple(notes))
