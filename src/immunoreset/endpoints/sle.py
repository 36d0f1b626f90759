"""SLE disease activity at the visits: SLEDAI-2K, clinical SLEDAI, DORIS remission and LLDAS.

SLEDAI-2K descriptors are read from the table over the SLEDAI window (the visit and the
``sledai_window_days`` before it; Gladman DD et al., J Rheumatol 2002;29:288-91) and scored by the
``sledai_2k`` instrument:

* ``increased_dna_binding``: anti-dsDNA above the positivity cut-off at some time in the window;
* ``low_complement``: C3 or C4 below its lower limit of normal at some time in the window;
* ``proteinuria``: urine protein/creatinine ratio above the item threshold (> 0.5 g/24 h read as
  > 500 mg/g) at some time in the window;
* any other descriptor from an optional 0/1 column ``sledai_item_<descriptor>`` (e.g.
  ``sledai_item_arthritis``), present when non-zero in the window. Without such columns clinical
  descriptors count as absent. Temperature and platelets are deliberately not read: after CAR T
  cells they reflect CRS and haematotoxicity, which SLEDAI-2K excludes as non-lupus causes.

The cut-offs are fields of :class:`~immunoreset.endpoints.config.EndpointConfig` with their
sources; the anti-dsDNA cut-off is the one that defines seroconversion. DORIS 2021 (van Vollenhoven
RF et al., Lupus Sci Med 2021;8:e000538) and LLDAS (Franklyn K et al., Ann Rheum Dis
2016;75:1615-21) also need the physician global assessment and the glucocorticoid dose, which a
mechanistic model does not produce: they are read from the columns ``pga`` and
``prednisolone_mg_day`` when present, else from ``instrument_inputs["doris_2021"]`` /
``instrument_inputs["lldas"]`` (e.g. ``{"pga": 0, "prednisolone_mg_day": 0}`` for a drug-free
protocol), and skipped with a note when neither gives them. LLDAS compares with the previous visit
of the schedule; at the first visit that criterion is not evaluable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from immunoreset.clinical import InstrumentResult
from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part
from immunoreset.endpoints.scoring import Memo, outputs, score_record
from immunoreset.endpoints.table import Patients, Rows
from immunoreset.endpoints.visits import value_at, visit_positions

FAMILY = "SLE activity"
ITEM_PREFIX = "sledai_item_"
SEROLOGY = ("anti_dsdna", "c3", "c4", "proteinuria")
CLINICAL_INPUTS = ("pga", "prednisolone_mg_day")
SLEDAI_COLUMNS = (
    Column("visit", "sledai_2k", "points 0-105", "SLEDAI-2K over the window before the visit"),
    Column("visit", "clinical_sledai", "points 0-101", "SLEDAI-2K without serology"),
    Column("visit", "sledai_items", "descriptor keys", "descriptors present, ';'-separated"),
)
DORIS_COLUMNS = (
    Column("visit", "doris_remission_on_treatment", "bool", "DORIS 2021 remission on treatment"),
    Column("visit", "doris_remission_off_treatment", "bool", "DORIS 2021 remission off treatment"),
)
LLDAS_COLUMNS = (Column("visit", "lldas", "bool", "lupus low disease activity state"),)


def doris_record(sledai: InstrumentResult, items: list[str], previous: list[str] | None) -> dict:
    """The SLEDAI-derived part of a DORIS record."""
    return {"clinical_sledai": sledai["clinical_sledai"]}


def lldas_record(sledai: InstrumentResult, items: list[str], previous: list[str] | None) -> dict:
    """The SLEDAI-derived part of an LLDAS record."""
    return {"sledai_items": items, "previous_sledai_items": previous}


JUDGEMENTS: dict[str, tuple[tuple[Column, ...], Callable[..., dict]]] = {
    "doris_2021": (DORIS_COLUMNS, doris_record),
    "lldas": (LLDAS_COLUMNS, lldas_record),
}
"""Instruments judged from the visit's SLEDAI: their columns and the record they are given."""


def presence(
    patients: Patients, item_columns: list[str], config: EndpointConfig
) -> dict[str, np.ndarray]:
    """SLEDAI-2K descriptor -> running count of the table rows at which it is present.

    ``count[stop] > count[start]`` tells whether the descriptor is present at some row of
    ``start:stop``, so each visit window costs two lookups per descriptor however long it is.
    """
    rules = (
        ("increased_dna_binding", "anti_dsdna", "above", config.anti_dsdna_positive_above),
        ("low_complement", "c3", "below", config.c3_lln_mg_dl),
        ("low_complement", "c4", "below", config.c4_lln_mg_dl),
        ("proteinuria", "proteinuria", "above", config.proteinuria_above_mg_g),
    )
    tests = [
        (item, patients.column(name) < limit if side == "below" else patients.column(name) > limit)
        for item, name, side, limit in rules
        if name in patients
    ]
    tests += [(name.removeprefix(ITEM_PREFIX), patients.column(name) > 0) for name in item_columns]
    present: dict[str, np.ndarray] = {}
    for item, hits in tests:
        present[item] = present[item] | hits if item in present else hits
    return {item: np.concatenate(([0], np.cumsum(hits))) for item, hits in present.items()}


def window_items(counts: dict[str, np.ndarray], window: slice) -> list[str]:
    """SLEDAI-2K descriptors present at some row of ``window`` (table rows), sorted."""
    return sorted(
        item for item, count in counts.items() if count[window.stop] > count[window.start]
    )


def clinical_inputs(rows: Rows, position: int) -> dict[str, float]:
    """PGA and prednisolone dose at the visit, where the table gives them."""
    values = {name: value_at(rows, position, name) for name in CLINICAL_INPUTS}
    return {name: value for name, value in values.items() if value is not None}


def judged_instruments(table: pd.DataFrame, config: EndpointConfig, notes: list[str]) -> list[str]:
    """DORIS / LLDAS keys whose clinical inputs the table or the configuration provides."""
    judged = []
    for key in JUDGEMENTS:
        fixed = config.instrument_inputs.get(key, {})
        lacking = [n for n in CLINICAL_INPUTS if n not in table.columns and n not in fixed]
        if lacking:
            notes.append(
                f"{FAMILY}: {key} skipped, no {' or '.join(lacking)} column and none in "
                f"instrument_inputs[{key!r}]"
            )
        else:
            judged.append(key)
    return judged


@dataclass(frozen=True)
class Scoring:
    """What every visit of one table is scored with.

    Attributes:
        config: the settings of the calculation.
        judged: DORIS / LLDAS keys whose clinical inputs are given (:func:`judged_instruments`).
        counts: the running counts of each descriptor (:func:`presence`).
        notes: the family's notes, which records an instrument rejects are added to.
        memo: outcomes of the records scored so far: visits with the same descriptors (and inputs)
            make the same records.
    """

    config: EndpointConfig
    judged: list[str]
    counts: dict[str, np.ndarray]
    notes: list[str]
    memo: Memo = field(default_factory=dict)


def visit_activity(
    rows: Rows, position: int, previous: list[str] | None, scoring: Scoring, where: str
) -> tuple[dict[str, Any], list[str] | None]:
    """Scores of one visit, and its descriptors (``None`` when SLEDAI-2K could not be scored).

    The window runs from ``sledai_window_days`` before the visit time up to it, both included;
    the times are sorted, so it is a slice found by bisection.
    """
    config, notes, memo = scoring.config, scoring.notes, scoring.memo
    visit_time = rows.times[position]
    first = int(np.searchsorted(rows.times, visit_time - config.sledai_window_days))
    items = window_items(
        scoring.counts, slice(rows.span.start + first, rows.span.start + position + 1)
    )
    record = {"items": items, "options": {"window_days": config.sledai_window_days}}
    sledai = score_record("sledai_2k", record, config, notes, where, memo)
    row = outputs(sledai, {"sledai_2k": "sledai_2k", "clinical_sledai": "clinical_sledai"})
    row["sledai_items"] = ";".join(items)
    if sledai is None:
        return row, None
    clinical = clinical_inputs(rows, position)
    for key in scoring.judged:
        columns, build = JUDGEMENTS[key]
        record = build(sledai, items, previous) | clinical
        result = score_record(key, record, config, notes, where, memo)
        row |= outputs(result, {column.name: column.name for column in columns})
    return row, items


def sle_activity(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """SLEDAI-2K, clinical SLEDAI, DORIS and LLDAS at every visit (skipped without inputs)."""
    item_columns = [name for name in table.columns if name.startswith(ITEM_PREFIX)]
    present = [name for name in SEROLOGY if name in table.columns] + item_columns
    if not present:
        return Part(
            notes=(
                f"{FAMILY}: skipped, the table has none of {', '.join(SEROLOGY)} "
                f"or {ITEM_PREFIX}<descriptor> columns",
            )
        )
    notes = [f"{FAMILY}: SLEDAI-2K descriptors read from {', '.join(present)}"]
    judged = judged_instruments(table, config, notes)
    patients = Patients(table)
    scoring = Scoring(config, judged, presence(patients, item_columns, config), notes)
    visit_rows: dict[tuple[int, float], dict[str, Any]] = {}
    for patient, rows in patients:
        previous: list[str] | None = None
        for day, position in visit_positions(rows, config).items():
            if position is None:
                previous = None
                continue
            where = f"patient {patient} day {day:g}"
            visit_rows[patient, day], previous = visit_activity(
                rows, position, previous, scoring, where
            )
    columns = SLEDAI_COLUMNS + tuple(column for key in judged for column in JUDGEMENTS[key][0])
    return Part(visits=visit_rows, columns=columns, notes=tuple(notes))
