"""Endpoints of a result table: run every endpoint family and assemble two tidy tables.

Layout of the result:

* ``patient``: one row per patient (``patient_id``), one column per patient-level endpoint
  (CAR kinetics, B-cell aplasia, IgG nadir, CRS and ICANS courses, tocilizumab and corticosteroid use,
  ICAHT grades, seroconversion);
* ``visits``: one row per patient and scheduled visit (``patient_id``, ``visit_day``, and ``time``,
  the output time the visit read), one column per visit-level endpoint (anti-dsDNA, IgG, SLEDAI-2K,
  DORIS, LLDAS, mRSS, EUSTAR-AI, TIS);
* ``columns``: the data dictionary (table, column, unit, description) of both;
* ``notes``: what was skipped and why (missing observables, missed visits, invalid records).

A family whose observables the table lacks is skipped with a note and contributes no columns, so
the same code serves any model. ``None``/``<NA>`` in a cell means not evaluable, never 0 or false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from immunoreset.endpoints.bcells import b_cells
from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.icaht import icaht
from immunoreset.endpoints.igg import igg
from immunoreset.endpoints.iim import myositis
from immunoreset.endpoints.part import Column, Level, Part
from immunoreset.endpoints.pk import car_kinetics
from immunoreset.endpoints.serology import anti_dsdna
from immunoreset.endpoints.sle import sle_activity
from immunoreset.endpoints.ssc import ssc_activity
from immunoreset.endpoints.table import PATIENT, TIME, Patients, ResultTableError, check_table
from immunoreset.endpoints.toxicity import crs, icans, treatments
from immunoreset.endpoints.visits import visit_positions

Family = Callable[[pd.DataFrame, EndpointConfig], Part]

FAMILIES: tuple[Family, ...] = (
    car_kinetics,
    b_cells,
    igg,
    crs,
    icans,
    treatments,
    icaht,
    anti_dsdna,
    sle_activity,
    ssc_activity,
    myositis,
)
"""Every endpoint family, in the column order of the output tables."""

KEY_COLUMNS = (
    Column("patient", PATIENT, "id", "patient identifier"),
    Column("patient", "evaluable", "bool", "false: the simulation of this patient failed"),
    Column("patient", "not_evaluable_reason", "text", "why the patient is not evaluable"),
    Column("visit", PATIENT, "id", "patient identifier"),
    Column("visit", "visit_day", "day", "scheduled visit day (day 0 = CAR infusion)"),
    Column("visit", TIME, "day", "output time read at the visit; empty: none within tolerance"),
)


@dataclass(frozen=True)
class Endpoints:
    """Endpoint tables of one result table (see the module docstring for the layout)."""

    patient: pd.DataFrame
    visits: pd.DataFrame
    columns: pd.DataFrame
    notes: tuple[str, ...]


def _frame(rows: dict, columns: list[Column], level: Level) -> pd.DataFrame:
    names = [column.name for column in columns if column.level == level]
    return pd.DataFrame.from_records(list(rows.values()), columns=names).convert_dtypes()


def _failed(status: pd.DataFrame | None) -> dict[int, str]:
    """Patient id -> reason, for patients whose simulation failed (``status`` != 0)."""
    if status is None:
        return {}
    for name in (PATIENT, "status"):
        if name not in status.columns:
            raise ResultTableError(f"status table has no {name!r} column")
    bad = status[status["status"] != 0]
    messages = (
        bad["status_message"]
        if "status_message" in bad.columns
        else bad["status"].map(lambda code: f"status {code}")
    )
    return {
        int(pid): f"simulation failed: {msg}"
        for pid, msg in zip(bad[PATIENT], messages, strict=True)
    }


def compute_endpoints(
    table: pd.DataFrame, config: EndpointConfig | None = None, status: pd.DataFrame | None = None
) -> Endpoints:
    """Compute every endpoint whose observables ``table`` carries.

    Args:
        table: result table (``patient_id``, ``time`` in days from infusion, observables).
        config: visit schedule, assay cut-offs and instrument inputs (defaults documented in
            :class:`~immunoreset.endpoints.config.EndpointConfig`).
        status: the run's per-patient status (``patient_id``, ``status``, ``status_message``;
            the ``parameters.parquet`` table of a run). A patient whose simulation failed is not
            evaluable: its endpoints are empty, ``evaluable`` is false and a note counts them;
            the outputs it has before the failure are never scored as if observed.

    Raises:
        ResultTableError: when ``table`` lacks usable ``patient_id``/``time`` columns.
    """
    config = config or EndpointConfig()
    table = check_table(table)
    failed = _failed(status)
    if failed:
        table = table[~table[PATIENT].isin(list(failed))].reset_index(drop=True)
    patient_rows: dict[int, dict] = {}
    visit_rows: dict[tuple[int, float], dict] = {}
    missed: dict[float, int] = dict.fromkeys(config.visits, 0)
    for patient, rows in Patients(table):
        patient_rows[patient] = {PATIENT: patient, "evaluable": True, "not_evaluable_reason": None}
        for day, position in visit_positions(rows, config).items():
            time = None if position is None else float(rows.times[position])
            visit_rows[patient, day] = {PATIENT: patient, "visit_day": day, TIME: time}
            missed[day] += position is None
    notes = [
        f"visit day {day:g}: no output time within {config.visit_tolerance_d:g} d "
        f"for {count} of {len(patient_rows)} patients"
        for day, count in missed.items()
        if count
    ]
    if failed:
        notes.append(
            f"{len(failed)} patient(s) not evaluable: their simulation failed "
            "(see not_evaluable_reason)"
        )
    columns = list(KEY_COLUMNS)
    for family in FAMILIES:
        part = family(table, config)
        for key, values in part.patient.items():
            patient_rows[key] |= values
        for key, values in part.visits.items():
            visit_rows[key] |= values
        columns += part.columns
        notes += part.notes
    for patient, reason in sorted(failed.items()):
        patient_rows[patient] = {
            PATIENT: patient,
            "evaluable": False,
            "not_evaluable_reason": reason,
        }
        for day in config.visits:
            visit_rows[patient, day] = {PATIENT: patient, "visit_day": day, TIME: None}
    patient_rows = dict(sorted(patient_rows.items()))
    visit_rows = dict(sorted(visit_rows.items()))
    dictionary = pd.DataFrame(
        [(c.level, c.name, c.unit, c.description) for c in columns],
        columns=["table", "column", "unit", "description"],
    )
    return Endpoints(
        patient=_frame(patient_rows, columns, "patient"),
        visits=_frame(visit_rows, columns, "visit"),
        columns=dictionary,
        notes=tuple(notes),
    )
