"""Systemic sclerosis at the visits: mRSS change from baseline and the revised EUSTAR-AI.

The mRSS observable is continuous in a model but an integer on the form (17 sites scored 0-3), so it
is rounded to the nearest point before the instruments see it. ``mrss_improved`` /
``mrss_progressed`` apply the ``mrss_skin_change`` rule (change > 5 points and >= 25 % of baseline;
Dobrota R et al., Ann Rheum Dis 2016) between the baseline and each follow-up visit; the published
comparison is at 12 months, i.e. the day-365 row.

The revised EUSTAR-AI (Valentini G et al., Ann Rheum Dis 2017;76:270-6) also needs DLCO and CRP,
which are not observables: it is computed only when the table has ``dlco_pct_pred`` and ``crp_mg_l``
or ``crp_mg_dl`` columns; optional 0/1 columns ``delta_skin``, ``digital_ulcers`` and
``tendon_friction_rubs`` supply the other items (absent: the instrument default, not present).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import outputs, score_record
from immunoreset.endpoints.table import Patients, Rows, whole
from immunoreset.endpoints.visits import baseline_position, value_at, visit_positions

FAMILY = "SSc skin"
OBSERVABLE = "mrss"
CRP_COLUMNS = ("crp_mg_l", "crp_mg_dl")
EUSTAR_ITEMS = ("delta_skin", "digital_ulcers", "tendon_friction_rubs")
MRSS_COLUMNS = (
    Column("visit", "mrss", "points 0-51", "modified Rodnan skin score at the visit"),
    Column("visit", "mrss_change", "points", "visit minus baseline"),
    Column("visit", "mrss_improved", "bool", "decrease > 5 points and >= 25 % of baseline"),
    Column("visit", "mrss_progressed", "bool", "increase > 5 points and >= 25 % of baseline"),
)
EUSTAR_COLUMNS = (
    Column("visit", "eustar_ai", "points 0-10", "revised EUSTAR activity index"),
    Column("visit", "eustar_ai_active", "bool", "EUSTAR-AI >= 2.5"),
)


def rounded(value: float | None) -> int | None:
    """A model mRSS as the whole number a rater records (``None`` stays ``None``)."""
    return None if value is None else whole(value)


def eustar_record(rows: Rows, position: int | None, crp: str) -> dict[str, Any]:
    """EUSTAR-AI record of one visit; an undefined DLCO, CRP or mRSS makes it not evaluable."""
    record: dict[str, Any] = {
        "mrss": rounded(value_at(rows, position, OBSERVABLE)),
        "dlco_pct_pred": value_at(rows, position, "dlco_pct_pred"),
        crp: value_at(rows, position, crp),
    }
    for item in EUSTAR_ITEMS:
        value = value_at(rows, position, item)
        if value is not None:
            record[item] = value >= 0.5
    return record


def ssc_activity(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """mRSS change at each visit and, where its inputs exist, EUSTAR-AI (skipped without mrss)."""
    if OBSERVABLE not in table.columns:
        return skipped(FAMILY, [OBSERVABLE])
    crp = next((name for name in CRP_COLUMNS if name in table.columns), None)
    with_eustar = crp is not None and "dlco_pct_pred" in table.columns
    notes: list[str] = []
    if not with_eustar:
        notes.append(f"{FAMILY}: EUSTAR-AI skipped, it needs dlco_pct_pred and a CRP column")
    visit_rows: dict[tuple[int, float], dict[str, Any]] = {}
    for patient, rows in Patients(table):
        baseline = value_at(rows, baseline_position(rows, config), OBSERVABLE)
        for day, position in visit_positions(rows, config).items():
            where = f"patient {patient} day {day:g}"
            value = value_at(rows, position, OBSERVABLE)
            both = value is not None and baseline is not None
            row: dict[str, Any] = {"mrss": value, "mrss_change": value - baseline if both else None}
            result = None
            if both and day > config.baseline_day:
                record = {"mrss_baseline": rounded(baseline), "mrss_12m": rounded(value)}
                result = score_record("mrss_skin_change", record, config, notes, where)
            row |= outputs(result, {"improved": "mrss_improved", "progressed": "mrss_progressed"})
            if with_eustar:
                record = eustar_record(rows, position, crp)
                result = score_record("eustar_ai_revised", record, config, notes, where)
                row |= outputs(result, {"score": "eustar_ai", "active": "eustar_ai_active"})
            visit_rows[patient, day] = row
    columns = MRSS_COLUMNS + (EUSTAR_COLUMNS if with_eustar else ())
    return Part(visits=visit_rows, columns=columns, notes=tuple(notes))
