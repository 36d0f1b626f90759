"""ICAHT per patient: early and late neutropenia grades, ANC and platelet nadirs.

Immune effector cell-associated haematotoxicity is graded by the instruments ``icaht_early`` and
``icaht_late`` (EHA/EBMT consensus, Rejeski K et al., Blood 2023;142:865-877; duration bands and
the confirmation rule PROVISIONAL, P2 and P3 of docs/instruments.md). Both grade neutropenia only:
``neutrophils`` (ANC, cells/uL) is required, ``platelets`` is optional and only reported as a nadir.

Mapping of the table onto the instrument records (CONVENTION where the output grid and the
instrument differ):

* The instruments count whole days from the infusion, as daily laboratory values. Each whole day
  ``d`` reads the output time nearest it among those from ``d - 0.5`` up to (not including)
  ``d + 0.5`` (halves round up, as :func:`~immunoreset.endpoints.table.whole`), so each output time
  serves at most one day. A finer grid is read once a day; a day without such a time, or whose
  time has an undefined ANC, is not measured. Only output times from day 0 are used.
* Early (days 0-30): the daily values go to ``icaht_early`` with ``last_followup_day`` = the day of
  the patient's last output time (the end of the simulated follow-up). The instrument fills days
  that were not measured as its reference implementation does (linear interpolation between
  values, nearest value at the edges, gaps of up to 7 days); when it had to, a note says that the
  durations were resolved on that filled daily series. A longer gap makes the grade ``None``.
* Late (days 31-100): the daily values of the window go to ``icaht_late``, unfilled. A patient whose
  follow-up ends before day 31 has no late grade (note); one whose follow-up ends before day 100 is
  graded on the days followed (note).
* An ANC below 10 cells/uL, the smallest non-zero count a laboratory reports in cells/uL (and the
  smallest the instrument accepts), is read as 0; negative round-off is read as 0 too. Neither
  changes a grade: both are below every ICAHT threshold.

Settings of the instruments (``options``) come from ``EndpointConfig.instrument_inputs`` under the
keys ``icaht_early`` and ``icaht_late``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from immunoreset.clinical import InstrumentResult
from immunoreset.clinical.toxicity.icaht import EARLY_KEY, EARLY_LAST_DAY, LATE_KEY
from immunoreset.clinical.units import QUANTITIES
from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import outputs, score_record
from immunoreset.endpoints.table import Patients, Rows, nadir, series

FAMILY = "ICAHT"
OBSERVABLE = "neutrophils"
PLATELETS = "platelets"
LATE_FIRST_DAY = EARLY_LAST_DAY + 1
LATE_LAST_DAY = 100
"""End of the late window (Rejeski 2023; PROVISIONAL, P3 of docs/instruments.md)."""
ANC_REPORTED_FROM = float(QUANTITIES["anc_per_uL"].low)
"""Smallest non-zero ANC (cells/uL) a laboratory reports and the instrument accepts."""
SHOWN_IDS = 5
"""Patient ids listed in a note before it is cut short."""

EARLY_OUTPUTS = {
    "grade": "icaht_early_grade",
    "dur_le500": "icaht_early_dur_le500_d",
    "dur_le100": "icaht_early_dur_le100_d",
}
COLUMNS = (
    Column("patient", "icaht_early_grade", "grade 0-4", "early ICAHT grade (days 0-30)"),
    Column(
        "patient",
        "icaht_early_dur_le500_d",
        "day",
        "longest run of days 0-30 with ANC <= 500/uL (recoveries of <= 2 days joined, by default)",
    ),
    Column(
        "patient",
        "icaht_early_dur_le100_d",
        "day",
        "longest run of days 0-30 with ANC <= 100/uL (recoveries of <= 2 days joined, by default)",
    ),
    Column(
        "patient",
        "icaht_early_never_recovered",
        "bool",
        "ANC <= 500/uL from day 0-3 to the end of follow-up in days 0-30 (grade 4)",
    ),
    Column(
        "patient",
        "icaht_late_grade",
        "grade 0-4",
        "late ICAHT grade (days 31-100); empty if follow-up ends before day 31",
    ),
    Column(
        "patient", "icaht_max_grade", "grade 0-4", "worse of the evaluable early and late grades"
    ),
    Column("patient", "anc_nadir", "cells/uL", "lowest ANC from day 0"),
    Column("patient", "anc_nadir_d", "day", "earliest time of anc_nadir"),
)
PLATELET_COLUMNS = (
    Column("patient", "platelet_nadir", "cells/uL", "lowest platelet count from day 0"),
    Column("patient", "platelet_nadir_d", "day", "earliest time of platelet_nadir"),
)

WINDOW_NOTES = {
    "filled": "output times more than a day apart (or undefined ANC) in days 0-30; the instrument "
    "filled the daily ANC (linear between output times, nearest value at the edges, gaps up to 7 "
    "days by default), so the early durations are whole days of that filled series",
    "short_early": f"follow-up ends before day {EARLY_LAST_DAY}: the early grade covers the days "
    "followed (neutropenia lasting to the end counts as never recovered)",
    "no_late": f"follow-up ends before day {LATE_FIRST_DAY}: no late grade",
    "short_late": f"follow-up ends before day {LATE_LAST_DAY}: the late grade covers the days "
    "followed",
}
"""Notes counted over patients, by the key :func:`grade_patient` reports."""


def daily(times: np.ndarray, values: np.ndarray, last_day: int) -> dict[int, float]:
    """Whole day up to ``last_day`` -> value at the output time nearest that day.

    ``times`` are from day 0, with defined values. A day takes the times from ``d - 0.5`` up to
    ``d + 0.5`` (excluded), so each output time serves at most one day; a day without such a time
    is missing. Later days are not read: the grades end at ``last_day``.
    """
    days = np.floor(times + 0.5)
    kept = days <= last_day
    times, values, days = times[kept], values[kept], days[kept]
    order = np.lexsort((np.abs(times - days), days))
    picked = order[np.unique(days[order], return_index=True)[1]]
    return {int(d): float(v) for d, v in zip(days[picked], values[picked], strict=True)}


def reported(anc: float) -> float:
    """A simulated ANC as a laboratory reports it: below 10 cells/uL (or negative) is 0."""
    return anc if anc >= ANC_REPORTED_FROM else 0.0


def counted(ids: list[int], total: int, what: str) -> str:
    """One note for the patients ``ids`` (of ``total``), with the first few ids."""
    shown = ", ".join(map(str, ids[:SHOWN_IDS])) + (", ..." if len(ids) > SHOWN_IDS else "")
    return f"{FAMILY}: {len(ids)} of {total} patients ({shown}): {what}"


def early_row(result: InstrumentResult | None) -> dict[str, Any]:
    """Early columns of an ``icaht_early`` result (all ``None`` without a grade)."""
    row = outputs(result, EARLY_OUTPUTS)
    graded = result is not None and result.outputs["grade"] is not None
    row["icaht_early_never_recovered"] = result.components["never_recovered"] if graded else None
    return row


def early_notes(result: InstrumentResult | None, where: str, notes: list[str]) -> bool:
    """Add the notes of an ``icaht_early`` result; whether the instrument filled days."""
    if result is None:
        return False
    if result.outputs["grade"] is None:
        reason = result.components.get("reason", "not evaluable")
        notes.append(f"{where}: {EARLY_KEY}: not graded: {reason}")
    if "labs_end_before_follow_up" in result.flags:
        notes.append(
            f"{where}: {EARLY_KEY}: the last ANC value comes too long before the end of "
            "follow-up to be carried to it; graded on the days up to the last value"
        )
    components = result.components
    return bool(components.get("interpolated_days") or components.get("extended_days"))


def grade_patient(
    rows: Rows, config: EndpointConfig, notes: list[str], where: str
) -> tuple[dict[str, Any], set[str]]:
    """ICAHT columns of one patient, and the keys of :data:`WINDOW_NOTES` that apply to it."""
    end = rows.times.max()
    if end < 0:
        notes.append(f"{where}: {FAMILY}: no output time from day 0; not graded")
        return early_row(None) | dict.fromkeys(("icaht_late_grade", "icaht_max_grade")), set()
    last_day = int(np.floor(end + 0.5))
    measured = daily(*series(rows, OBSERVABLE), LATE_LAST_DAY)
    anc = {day: reported(value) for day, value in measured.items()}
    early_days = range(min(last_day, EARLY_LAST_DAY) + 1)
    record = {"anc_per_uL": [anc.get(day) for day in early_days], "last_followup_day": last_day}
    early = score_record(EARLY_KEY, record, config, notes, where)
    row = early_row(early)
    applies = {"filled"} if early_notes(early, where, notes) else set()
    if last_day < EARLY_LAST_DAY:
        applies.add("short_early")
    late_grade = None
    if last_day < LATE_FIRST_DAY:
        applies.add("no_late")
    else:
        if last_day < LATE_LAST_DAY:
            applies.add("short_late")
        window = range(LATE_FIRST_DAY, min(last_day, LATE_LAST_DAY) + 1)
        values = [anc[day] for day in window if day in anc]
        late = score_record(LATE_KEY, {"anc_per_uL": values}, config, notes, where)
        late_grade = None if late is None else late.outputs["grade"]
        if late is not None and late_grade is None:
            notes.append(f"{where}: {LATE_KEY}: no ANC value in days {window[0]}-{window[-1]}")
    grades = [grade for grade in (row["icaht_early_grade"], late_grade) if grade is not None]
    row |= {"icaht_late_grade": late_grade, "icaht_max_grade": max(grades, default=None)}
    return row, applies


def icaht(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """Early and late ICAHT and the ANC nadir of every patient (skipped without neutrophils)."""
    if OBSERVABLE not in table.columns:
        return skipped(FAMILY, [OBSERVABLE])
    notes: list[str] = []
    counts: dict[str, list[int]] = {key: [] for key in WINDOW_NOTES}
    rows: dict[int, dict[str, Any]] = {}
    for patient, patient_rows in Patients(table):
        row, applies = grade_patient(patient_rows, config, notes, f"patient {patient}")
        for key in applies:
            counts[key].append(patient)
        lowest, lowest_day = nadir(*series(patient_rows, OBSERVABLE))
        row |= {"anc_nadir": lowest, "anc_nadir_d": lowest_day}
        if PLATELETS in table.columns:
            lowest, lowest_day = nadir(*series(patient_rows, PLATELETS))
            row |= {"platelet_nadir": lowest, "platelet_nadir_d": lowest_day}
        rows[patient] = row
    notes += [counted(ids, len(rows), WINDOW_NOTES[key]) for key, ids in counts.items() if ids]
    columns = COLUMNS + (PLATELET_COLUMNS if PLATELETS in table.columns else ())
    return Part(patient=rows, columns=columns, notes=tuple(notes))
