"""ASTCT consensus grade of cytokine release syndrome (CRS).

Source: Lee DW et al., ASTCT consensus grading for cytokine release syndrome and neurologic toxicity
associated with immune effector cells, Biol Blood Marrow Transplant 2019;25:625-638.

Status: VERIFIED. The systolic cut-off used to derive hypotension from a raw blood pressure is a
CONVENTION (ASTCT gives no number); it only applies when ``sbp_mmHg`` is supplied.

Rules, in short. One assessment (a time point, or the worst values of one day) is graded. Death
caused by CRS is grade 5. Otherwise CRS needs fever (>= 38.0 C, not explained by another cause)
unless antipyretics, tocilizumab or corticosteroids were already given for CRS; without either, the
grade is 0 and any hypotension or hypoxia is flagged for review. The grade is then the worst of
three components, never their sum: fever alone 1; hypotension needing fluids only 2, one vasopressor
(vasopressin alone or with one other agent included) 3, two or more vasopressors other than
vasopressin 4; oxygen by blow-by or nasal cannula at <= 6 L/min 2, by high-flow cannula (> 6 L/min),
facemask, non-rebreather or Venturi mask 3, by positive pressure (CPAP, BiPAP, mechanical
ventilation) 4. Laboratory organ toxicities do not enter the ASTCT grade. Episode and patient grades
are the maxima of the assessment grades.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    NonNegative,
    Record,
    Status,
    check_range,
    parse_record,
    register,
)
from immunoreset.clinical.laboratory.measures import plain

KEY = "astct_crs"
SOURCE = "Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638 (ASTCT consensus)"

FEVER_C = Decimal("38.0")
LOW_FLOW_MAX_L_MIN = Decimal("6.0")
TEMP_RANGE_C = (Decimal(25), Decimal(45))
"""Body temperatures a living patient can have; outside this range the record is rejected."""
SBP_RANGE_MMHG = (Decimal(0), Decimal(300))

VASOPRESSIN = "vasopressin"
Vasopressor = Literal["norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin"]
OxygenDevice = Literal[
    "none",
    "blow_by",
    "nasal_cannula",
    "hfnc",
    "facemask",
    "non_rebreather",
    "venturi",
    "cpap",
    "bipap",
    "mechanical_ventilation",
]
OXYGEN_COMPONENT: dict[str, int] = {
    "none": 0,
    "blow_by": 2,
    "hfnc": 3,
    "facemask": 3,
    "non_rebreather": 3,
    "venturi": 3,
    "cpap": 4,
    "bipap": 4,
    "mechanical_ventilation": 4,
}
"""Oxygen component per device; the nasal cannula depends on the flow (see ``oxygen_component``)."""

NO_FEVER_FLAG = "hypotension_or_hypoxia_without_fever"


class CrsRecord(Record):
    """One CRS assessment; field names as in the ASTCT specification.

    ``sbp_mmHg`` and ``hypotension_sbp_mmHg`` (CONVENTION, default 90 mmHg, strict <) let a caller
    derive hypotension from a raw systolic pressure; ``hypotension`` may be given directly instead.
    """

    temp_c: Decimal
    fever_other_cause: bool = False
    hypotension: bool = False
    sbp_mmHg: NonNegative | None = None  # noqa: N815 (unit spelling of the specification)
    vasopressors: tuple[Vasopressor, ...] = ()
    oxygen_device: OxygenDevice = "none"
    oxygen_flow_l_min: NonNegative | None = None
    prior_antipyretic_or_anticytokine_for_crs: bool = False
    death_due_to_crs: bool = False
    hypotension_sbp_mmHg: Annotated[Decimal, Field(gt=0)] = Decimal(90)  # noqa: N815


def hypotension_component(record: CrsRecord) -> int:
    """Hypotension component: 4 for >= 2 non-vasopressin agents, 3 for any agent, 2 fluids only."""
    agents = set(record.vasopressors)
    if len(agents - {VASOPRESSIN}) >= 2:
        return 4
    if agents:
        return 3
    low_sbp = record.sbp_mmHg is not None and record.sbp_mmHg < record.hypotension_sbp_mmHg
    return 2 if record.hypotension or low_sbp else 0


def oxygen_component(record: CrsRecord) -> int:
    """Oxygen component; a nasal cannula is low flow (2) up to and including 6.0 L/min, else 3."""
    if record.oxygen_device != "nasal_cannula":
        return OXYGEN_COMPONENT[record.oxygen_device]
    if record.oxygen_flow_l_min is None:
        raise InstrumentInputError(
            "oxygen_flow_l_min", None, "a flow in L/min (required with a nasal cannula)"
        )
    return 2 if record.oxygen_flow_l_min <= LOW_FLOW_MAX_L_MIN else 3


def score(record: Mapping[str, Any] | CrsRecord) -> InstrumentResult:
    """Grade one CRS assessment (0-5) by the ASTCT 2019 consensus."""
    rec = parse_record(CrsRecord, record)
    check_range(rec.temp_c, "temp_c", *TEMP_RANGE_C, unit="deg C")
    check_range(rec.sbp_mmHg, "sbp_mmHg", *SBP_RANGE_MMHG, unit="mmHg")
    fever = rec.temp_c >= FEVER_C and not rec.fever_other_cause
    hyp, oxy = hypotension_component(rec), oxygen_component(rec)
    flags: tuple[str, ...] = ()
    if rec.death_due_to_crs:
        grade = 5
    elif fever or rec.prior_antipyretic_or_anticytokine_for_crs:
        grade = max(int(fever), hyp, oxy)
    else:
        grade = 0
        flags = (NO_FEVER_FLAG,) if hyp or oxy else ()
    return InstrumentResult(
        instrument=KEY,
        outputs={"grade": grade},
        components={"fever": fever, "hypotension": hyp, "oxygen": oxy},
        flags=flags,
        options={"hypotension_sbp_mmHg": plain(rec.hypotension_sbp_mmHg)},
    )


register(
    Instrument(
        key=KEY,
        title="ASTCT cytokine release syndrome grade",
        score=score,
        record=CrsRecord,
        fields=(
            FieldSpec("temp_c", "number", "deg C", "25-45", True, None, "maximum temperature"),
            FieldSpec(
                "fever_other_cause", "bool", default=False, description="fever explained otherwise"
            ),
            FieldSpec(
                "hypotension", "bool", default=False, description="hypotension (fluids only)"
            ),
            FieldSpec(
                "sbp_mmHg",
                "number",
                "mmHg",
                ">= 0",
                description="lowest systolic pressure; below hypotension_sbp_mmHg = hypotension",
            ),
            FieldSpec(
                "vasopressors",
                "list[text]",
                allowed=", ".join(get_args(Vasopressor)),
                default=(),
                description="distinct vasopressor agents given; vasopressin never counts as second",
            ),
            FieldSpec(
                "oxygen_device",
                "enum",
                allowed=", ".join(get_args(OxygenDevice)),
                default="none",
                description="oxygen support at the assessment",
            ),
            FieldSpec(
                "oxygen_flow_l_min",
                "number",
                "L/min",
                ">= 0",
                description="oxygen flow; required with nasal_cannula (<= 6.0 is low flow)",
            ),
            FieldSpec(
                "prior_antipyretic_or_anticytokine_for_crs",
                "bool",
                default=False,
                description="tocilizumab, corticosteroids or antipyretics given after CRS onset",
            ),
            FieldSpec("death_due_to_crs", "bool", default=False, description="death caused by CRS"),
        ),
        status=Status.VERIFIED,
        source=SOURCE,
        option_fields=(
            FieldSpec(
                "hypotension_sbp_mmHg",
                "number",
                "mmHg",
                "> 0",
                default=90,
                description="CONVENTION: sbp_mmHg below this value is hypotension (strict <)",
            ),
        ),
    )
)
