"""Idiopathic inflammatory myopathy at the visits: the 2016 ACR/EULAR Total Improvement Score.

Each follow-up visit is compared with baseline by the ``myositis_tis_2016`` instrument (Aggarwal R
et al., Arthritis Rheumatol 2017;69:898-910; percent-change formulas PROVISIONAL, P7). The core set
measures come from the observables ``mmt8`` (80-point MMT-8) and ``ck`` (the muscle enzyme) and from
optional columns ``mdga``, ``ptga``, ``haq`` and ``extramuscular`` (the global and extramuscular
assessments are not observables). With a measure missing the TIS is not evaluable, as the criteria
define no imputation, unless ``instrument_inputs["myositis_tis_2016"]`` sets
``{"options": {"score_available_items": True}}`` (CONVENTION; the result is then flagged).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import outputs, score_record
from immunoreset.endpoints.table import Patients
from immunoreset.endpoints.visits import baseline_position, follow_up, value_at, visit_positions

KEY = "myositis_tis_2016"
FAMILY = "Myositis TIS"
MMT8_MAX = 80
MEASURE_COLUMNS = {
    "mmt": "mmt8",
    "enzyme": "ck",
    "mdga": "mdga",
    "ptga": "ptga",
    "haq": "haq",
    "extramuscular": "extramuscular",
}
"""Core set measure of the instrument -> table column."""
COLUMNS = (
    Column("visit", "tis", "points 0-100", "Total Improvement Score versus baseline"),
    Column("visit", "tis_category", "none/minimal/moderate/major", "improvement category"),
)


def myositis(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """TIS and its category at each follow-up visit (skipped without mmt8 and ck)."""
    present = {m: c for m, c in MEASURE_COLUMNS.items() if c in table.columns}
    if not {"mmt", "enzyme"} & present.keys():
        return skipped(FAMILY, ["mmt8 or ck"])
    notes: list[str] = []
    lacking = [c for c in MEASURE_COLUMNS.values() if c not in table.columns]
    if lacking:
        notes.append(
            f"{FAMILY}: the table has no {', '.join(lacking)} column; the TIS is not evaluable "
            "unless score_available_items is set"
        )
    visit_rows: dict[tuple[int, float], dict[str, Any]] = {}
    for patient, rows in Patients(table):
        start = baseline_position(rows, config)
        positions = visit_positions(rows, config)
        for day in follow_up(config):
            position, result = positions[day], None
            if position is not None and start is not None:
                record: dict[str, Any] = {
                    measure: [value_at(rows, start, column), value_at(rows, position, column)]
                    for measure, column in present.items()
                }
                record |= {"mmt_max": MMT8_MAX, "population": config.tis_population}
                result = score_record(KEY, record, config, notes, f"patient {patient} day {day:g}")
            visit_rows[patient, day] = outputs(result, {"tis": "tis", "category": "tis_category"})
    return Part(visits=visit_rows, columns=COLUMNS, notes=tuple(notes))
