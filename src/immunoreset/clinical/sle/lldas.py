"""Lupus Low Disease Activity State (registry key ``lldas``).

Status: VERIFIED; the mapping of major-organ activity onto SLEDAI-2K descriptors is a CONVENTION.
Franklyn K et al. Definition and initial validation of a Lupus Low Disease Activity State (LLDAS).
Ann Rheum Dis 2016;75:1615-21. Maintenance doses: Golder V et al. Arthritis Res Ther 2016
(doi:10.1186/s13075-016-1163-2).

LLDAS is judged at one visit and has five criteria, all of which must hold:

1. SLEDAI-2K at most 4 with no major-organ activity (none of the descriptors in
   :data:`MAJOR_ORGAN_ITEMS`), no haemolytic anaemia and no gastrointestinal activity; serological
   activity may contribute as long as the total stays at most 4;
2. no new lupus activity since the previous assessment: every current descriptor was already present
   then (not evaluable at a first visit, when there is no previous assessment);
3. physician global assessment at most 1 on the 0-3 scale;
4. prednisolone or equivalent at most 7.5 mg/day;
5. immunosuppressive drugs and approved biologics only at well-tolerated standard maintenance doses,
   and no investigational drug (in CAR-T studies the caller states per visit whether the CAR
   product counts as investigational).

The criteria combine with three-valued logic: any False gives False, otherwise any not-evaluable
criterion gives ``None``, otherwise True. :func:`standard_maintenance` checks criterion 5 from doses
with the maximum maintenance doses of Golder 2016.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    Record,
    Status,
    check_range,
    exact,
    parse_record,
    register,
)
from immunoreset.clinical.sle.common import (
    DoseMgDay,
    Pga,
    dose_field,
    in_table_order,
    pga_field,
    three_valued_and,
)
from immunoreset.clinical.sle.sledai import (
    ITEM_KEYS_TEXT,
    SLEDAI_WEIGHTS,
    SledaiItem,
    sledai_points,
)

KEY = "lldas"

MAJOR_ORGAN_ITEMS: tuple[str, ...] = (
    # central nervous system
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    # vasculitis
    "vasculitis",
    # renal
    "urinary_casts",
    "hematuria",
    "proteinuria",
    "pyuria",
    # cardiopulmonary
    "pleurisy",
    "pericarditis",
    # constitutional
    "fever",
)
"""SLEDAI-2K descriptors read as major-organ activity (CONVENTION; ``options.major_organ_items``)."""

SLEDAI_LIMIT = 4
PGA_LIMIT = Decimal("1.0")
PREDNISOLONE_LIMIT_MG_DAY = Decimal("7.5")

GOLDER_MAINTENANCE_MAX_MG: Mapping[str, Decimal] = MappingProxyType(
    {
        "hydroxychloroquine": Decimal(400),
        "methotrexate": Decimal(30),
        "azathioprine": Decimal(200),
        "mycophenolate_mofetil": Decimal(3000),
        "mycophenolic_acid": Decimal(2160),
        "leflunomide": Decimal(20),
    }
)
"""Highest standard maintenance dose (Golder 2016): mg per week for methotrexate, else mg/day."""


class LldasOptions(Record):
    """Configurable mapping of major-organ activity (CONVENTION)."""

    major_organ_items: tuple[SledaiItem, ...] = MAJOR_ORGAN_ITEMS


class LldasRecord(Record):
    """One visit: current and previous SLEDAI-2K descriptors, PGA, doses and treatment flags."""

    sledai_items: tuple[SledaiItem, ...]
    previous_sledai_items: tuple[SledaiItem, ...] | None
    hemolytic_anemia: bool = False
    gi_activity: bool = False
    pga: Pga
    prednisolone_mg_day: DoseMgDay
    immunosuppressants_standard_maintenance: bool = True
    investigational_drug: bool = False
    options: LldasOptions = LldasOptions()


def standard_maintenance(doses_mg: Mapping[str, Any]) -> bool:
    """Whether every listed drug is at or below its Golder 2016 maintenance maximum.

    ``doses_mg`` maps drug keys of :data:`GOLDER_MAINTENANCE_MAX_MG` to doses (mg/week for
    methotrexate, mg/day otherwise). Unknown drugs and negative doses raise
    :class:`InstrumentInputError`. Drugs outside the table (e.g. biologics) are the caller's call.
    """
    within = []
    for drug, dose in doses_mg.items():
        name = f"doses_mg.{drug}"
        if drug not in GOLDER_MAINTENANCE_MAX_MG:
            raise InstrumentInputError(name, drug, "one of " + ", ".join(GOLDER_MAINTENANCE_MAX_MG))
        value = check_range(exact(dose, name), name, low=0, unit="mg")
        within.append(value <= GOLDER_MAINTENANCE_MAX_MG[drug])
    return all(within)


def score(record: Mapping[str, Any] | LldasRecord) -> InstrumentResult:
    """Judge LLDAS at one visit.

    Output ``lldas``: True, False, or ``None`` when no criterion fails but one is not evaluable
    (no previous assessment). Components give the SLEDAI-2K total, the major-organ and new
    descriptors, and each criterion.
    """
    rec = parse_record(LldasRecord, record)
    current = in_table_order(rec.sledai_items, SLEDAI_WEIGHTS)
    total = sledai_points(current)
    major = tuple(key for key in current if key in rec.options.major_organ_items)
    previous = rec.previous_sledai_items
    new = None if previous is None else tuple(key for key in current if key not in previous)
    criteria: dict[str, bool | None] = {
        "low_activity": total <= SLEDAI_LIMIT
        and not major
        and not rec.hemolytic_anemia
        and not rec.gi_activity,
        "no_new_activity": None if new is None else not new,
        "pga": rec.pga <= PGA_LIMIT,
        "prednisolone": rec.prednisolone_mg_day <= PREDNISOLONE_LIMIT_MG_DAY,
        "maintenance_treatment": rec.immunosuppressants_standard_maintenance
        and not rec.investigational_drug,
    }
    return InstrumentResult(
        instrument=KEY,
        outputs={"lldas": three_valued_and(criteria.values())},
        components={
            "sledai_2k": total,
            "major_organ_items": major,
            "new_items": new,
            "criteria": criteria,
        },
        flags=("no_previous_assessment",) if previous is None else (),
        options={
            "major_organ_items": in_table_order(rec.options.major_organ_items, SLEDAI_WEIGHTS)
        },
    )


FIELDS = (
    FieldSpec(
        "sledai_items",
        "list[text]",
        allowed=ITEM_KEYS_TEXT,
        required=True,
        description="SLEDAI-2K descriptors present now (may be empty)",
    ),
    FieldSpec(
        "previous_sledai_items",
        "list[text]",
        allowed=ITEM_KEYS_TEXT,
        required=True,
        description="descriptors at the previous assessment; empty or null = not recorded (a "
        "first visit: the no-new-activity criterion is not evaluable); none = a previous visit "
        "without any descriptor",
    ),
    FieldSpec("hemolytic_anemia", "bool", default=False, description="active haemolytic anaemia"),
    FieldSpec("gi_activity", "bool", default=False, description="gastrointestinal lupus activity"),
    pga_field("pga", "physician global (<= 1)"),
    dose_field("prednisolone_mg_day", "prednisolone or equivalent (<= 7.5)"),
    FieldSpec(
        "immunosuppressants_standard_maintenance",
        "bool",
        default=True,
        description="immunosuppressives and approved biologics at standard maintenance doses "
        "(true also when none is taken)",
    ),
    FieldSpec(
        "investigational_drug", "bool", default=False, description="on an investigational drug"
    ),
)

OPTION_FIELDS = (
    FieldSpec(
        "options.major_organ_items",
        "list[text]",
        allowed=ITEM_KEYS_TEXT,
        default=MAJOR_ORGAN_ITEMS,
        description="descriptors read as major-organ activity (CONVENTION)",
    ),
)

INSTRUMENT = register(
    Instrument(
        key=KEY,
        title="Lupus Low Disease Activity State (LLDAS)",
        score=score,
        record=LldasRecord,
        fields=FIELDS,
        status=Status.VERIFIED,
        source="Franklyn K et al. Ann Rheum Dis 2016;75:1615-21",
        option_fields=OPTION_FIELDS,
    )
)
