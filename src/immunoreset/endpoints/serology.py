"""Anti-dsDNA at the visits: change from baseline, positivity and seroconversion.

Positivity is an assay convention, not a biological constant: a value strictly above
:attr:`~immunoreset.endpoints.config.EndpointConfig.anti_dsdna_positive_above` is positive (default
15 IU/mL, EliA dsDNA). Seroconversion is the first follow-up visit at which a patient positive at
baseline reads negative; it is not evaluable (``None``) for a patient negative or unmeasured at
baseline, and ``False`` for a patient still positive at every follow-up visit.
"""

from __future__ import annotations

import pandas as pd

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.table import Patients
from immunoreset.endpoints.visits import baseline_position, follow_up, value_at, visit_positions

FAMILY = "anti-dsDNA"
OBSERVABLE = "anti_dsdna"
COLUMNS = (
    Column("visit", "anti_dsdna", "IU/mL", "anti-dsDNA IgG at the visit"),
    Column("visit", "anti_dsdna_change", "IU/mL", "visit minus baseline"),
    Column("visit", "anti_dsdna_change_pct", "%", "change as % of baseline (None at baseline 0)"),
    Column("visit", "anti_dsdna_positive", "bool", "above the positivity cut-off"),
    Column("patient", "anti_dsdna_baseline_positive", "bool", "positive at baseline"),
    Column(
        "patient",
        "anti_dsdna_seroconverted",
        "bool",
        "positive at baseline and negative at a follow-up visit (None if not positive at baseline)",
    ),
    Column("patient", "anti_dsdna_seroconversion_d", "day", "first follow-up visit read negative"),
)


def is_positive(value: float | None, config: EndpointConfig) -> bool | None:
    """Whether an anti-dsDNA value is positive under the configured assay cut-off."""
    return None if value is None else value > config.anti_dsdna_positive_above


def change(value: float | None, baseline: float | None) -> tuple[float | None, float | None]:
    """Absolute and percent change from baseline (percent ``None`` when the baseline is 0)."""
    if value is None or baseline is None:
        return None, None
    delta = value - baseline
    return delta, (100.0 * delta / baseline if baseline else None)


def anti_dsdna(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """Anti-dsDNA visit values, change from baseline and seroconversion (skipped if absent)."""
    if OBSERVABLE not in table.columns:
        return skipped(FAMILY, [OBSERVABLE])
    patient_rows: dict[int, dict] = {}
    visit_rows: dict[tuple[int, float], dict] = {}
    for patient, rows in Patients(table):
        baseline = value_at(rows, baseline_position(rows, config), OBSERVABLE)
        positions = visit_positions(rows, config)
        for day, position in positions.items():
            value = value_at(rows, position, OBSERVABLE)
            delta, percent = change(value, baseline)
            visit_rows[patient, day] = {
                "anti_dsdna": value,
                "anti_dsdna_change": delta,
                "anti_dsdna_change_pct": percent,
                "anti_dsdna_positive": is_positive(value, config),
            }
        baseline_positive = is_positive(baseline, config)
        negative_days = [
            day
            for day in follow_up(config)
            if visit_rows[patient, day]["anti_dsdna_positive"] is False
        ]
        seroconverted = None if not baseline_positive else bool(negative_days)
        patient_rows[patient] = {
            "anti_dsdna_baseline_positive": baseline_positive,
            "anti_dsdna_seroconverted": seroconverted,
            "anti_dsdna_seroconversion_d": negative_days[0] if seroconverted else None,
        }
    return Part(patient=patient_rows, visits=visit_rows, columns=COLUMNS)
