"""ASTCT consensus grade of immune effector cell-associated neurotoxicity syndrome (ICANS).

Source: Lee DW et al., ASTCT consensus grading for cytokine release syndrome and neurologic toxicity
associated with immune effector cells, Biol Blood Marrow Transplant 2019;25:625-638 (adult table and
paediatric table with the Cornell Assessment of Pediatric Delirium, CAPD).

Status: adult grading VERIFIED.
PROVISIONAL (register item P4): the CAPD-to-grade mapping (0 -> 0, 1-8 -> 1, >= 9 -> 3, unable to
perform -> 4) and the age cut-off (CAPD below 12 years; ``options.capd_age_rule``), checked only
against a secondary summary of the paediatric table. Results that use them list ``"P4"`` in
``provisional``.
CONVENTION: ``consciousness = "normal"`` (fully alert) contributes grade 0.

Rules, in short. The grade is the worst of five domains, each counted only when no other cause
explains it: encephalopathy (ICE score from 12 years, CAPD below 12 years or with developmental
delay), depressed level of consciousness, seizures, motor findings and raised intracranial pressure
/ cerebral oedema. ICE 7-9 is grade 1, 3-6 grade 2, 0-2 grade 3 (also in an awake patient with
global aphasia), and an unarousable patient who cannot do the test is grade 4. Tremor and myoclonus
are graded by CTCAE and never change the ICANS grade; intracranial haemorrhage is not an ICANS
feature. Death caused by ICANS is grade 5. Episode and patient grades are the maxima of the
assessment grades.
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
    Integer,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.toxicity.ice import ICE_MAX

KEY = "astct_icans"
SOURCE = "Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638 (ASTCT consensus)"
PROVISIONAL_CAPD = "P4"

CAPD_MAX = 32
CAPD_AGE_YEARS = Decimal(12)
AGE_MAX_YEARS = 130

Consciousness = Literal[
    "normal",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_only_to_tactile",
    "unarousable",
]
Seizure = Literal["none", "rapidly_resolving_or_eeg_responsive", "prolonged_or_repetitive"]
Motor = Literal["none", "deep_focal_weakness"]
Icp = Literal["none", "focal_edema", "diffuse_edema_or_posturing_cn6_papilledema_cushing"]

DOMAIN_GRADES: dict[str, dict[str, int]] = {
    "consciousness": dict(zip(get_args(Consciousness), (0, 1, 2, 3, 4), strict=True)),
    "seizure": dict(zip(get_args(Seizure), (0, 3, 4), strict=True)),
    "motor": dict(zip(get_args(Motor), (0, 4), strict=True)),
    "icp": dict(zip(get_args(Icp), (0, 3, 4), strict=True)),
}
"""Grade contributed by each value of the four enumerated domains."""


class IcansOptions(Record):
    """PROVISIONAL (P4): the CAPD is used below 12 years (``"<12"``) or up to 12 (``"<=12"``)."""

    capd_age_rule: Literal["<12", "<=12"] = "<12"


class IcansRecord(Record):
    """One ICANS assessment. ``ice``/``capd`` = ``None`` means unable to perform (unarousable)."""

    age_years: Annotated[Decimal, Field(ge=0, le=AGE_MAX_YEARS)]
    developmental_delay: bool = False
    ice: Annotated[Integer, Field(ge=0, le=ICE_MAX)] | None = None
    capd: Annotated[Integer, Field(ge=0, le=CAPD_MAX)] | None = None
    consciousness: Consciousness = "normal"
    seizure: Seizure = "none"
    motor: Motor = "none"
    icp: Icp = "none"
    tremor: bool = False
    myoclonus: bool = False
    death_due_to_icans: bool = False
    options: IcansOptions = IcansOptions()


def uses_capd(record: IcansRecord) -> bool:
    """Whether the CAPD (children, developmental delay) rather than the ICE score is the tool."""
    if record.developmental_delay:
        return True
    if record.options.capd_age_rule == "<=12":
        return record.age_years <= CAPD_AGE_YEARS
    return record.age_years < CAPD_AGE_YEARS


def ice_grade(ice: int | None) -> int:
    """Encephalopathy grade from ICE: 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3, unable to test -> 4."""
    if ice is None:
        return 4
    return next(grade for floor, grade in ((10, 0), (7, 1), (3, 2), (0, 3)) if ice >= floor)


def capd_grade(capd: int | None) -> int:
    """PROVISIONAL (P4) grade from the CAPD: 0 -> 0, 1-8 -> 1, >= 9 -> 3, unable to do it -> 4."""
    if capd is None:
        return 4
    return next(grade for floor, grade in ((9, 3), (1, 1), (0, 0)) if capd >= floor)


def encephalopathy(record: IcansRecord, capd: bool) -> int:
    """Encephalopathy domain grade from the tool in force; that tool's field must be given."""
    name = "capd" if capd else "ice"
    if name not in record.model_fields_set:
        raise InstrumentInputError(
            name, None, f"the {name.upper()} score, or null if unable to perform (required here)"
        )
    return capd_grade(record.capd) if capd else ice_grade(record.ice)


def score(record: Mapping[str, Any] | IcansRecord) -> InstrumentResult:
    """Grade one ICANS assessment (0-5) by the ASTCT 2019 consensus."""
    rec = parse_record(IcansRecord, record)
    capd = uses_capd(rec)
    domains = {"encephalopathy": encephalopathy(rec, capd)}
    domains |= {name: grades[getattr(rec, name)] for name, grades in DOMAIN_GRADES.items()}
    grade = 5 if rec.death_due_to_icans else max(domains.values())
    relies_on_p4 = capd or rec.age_years == CAPD_AGE_YEARS
    return InstrumentResult(
        instrument=KEY,
        outputs={"grade": grade},
        components={"tool": "CAPD" if capd else "ICE", **domains},
        options={"capd_age_rule": rec.options.capd_age_rule},
        provisional=(PROVISIONAL_CAPD,) if relies_on_p4 else (),
    )


def _enum_field(name: str, values: Any, description: str, default: str = "none") -> FieldSpec:
    return FieldSpec(name, "enum", "", ", ".join(get_args(values)), False, default, description)


register(
    Instrument(
        key=KEY,
        title="ASTCT immune effector cell-associated neurotoxicity syndrome (ICANS) grade",
        score=score,
        record=IcansRecord,
        fields=(
            FieldSpec(
                "age_years",
                "number",
                "years",
                f"0-{AGE_MAX_YEARS}",
                True,
                description="age at assessment; selects the ICE (adults) or CAPD (young children)",
            ),
            FieldSpec(
                "developmental_delay", "bool", default=False, description="use the CAPD at any age"
            ),
            FieldSpec(
                "ice",
                "integer",
                "points",
                f"0-{ICE_MAX}; null = unable to perform (unarousable)",
                description="ICE score; required (a score or null) from 12 years without "
                "developmental delay",
            ),
            FieldSpec(
                "capd",
                "integer",
                "points",
                f"0-{CAPD_MAX}; null = unable to perform (unarousable)",
                description="CAPD score; required (a score or null) below 12 years or with "
                "developmental delay",
            ),
            _enum_field(
                "consciousness", Consciousness, "depressed level of consciousness", "normal"
            ),
            _enum_field("seizure", Seizure, "clinical or electrical seizures"),
            _enum_field("motor", Motor, "deep focal motor weakness"),
            _enum_field("icp", Icp, "raised intracranial pressure / cerebral oedema"),
            FieldSpec("tremor", "bool", default=False, description="recorded; not graded"),
            FieldSpec("myoclonus", "bool", default=False, description="recorded; not graded"),
            FieldSpec(
                "death_due_to_icans", "bool", default=False, description="death caused by ICANS"
            ),
        ),
        status=Status.VERIFIED,
        source=SOURCE,
        provisional_items=(PROVISIONAL_CAPD,),
        option_fields=(
            FieldSpec(
                "options.capd_age_rule",
                "enum",
                allowed="<12, <=12",
                default="<12",
                description="PROVISIONAL: age below which (or up to which) the CAPD is used",
            ),
        ),
    )
)
