"""Manual Muscle Testing of 8 muscle groups (MMT-8), the strength measure of the myositis core set.

Each group is graded on the 0-10 Kendall scale. The *unilateral* total adds the 8 groups on one side
(0-80; status VERIFIED); test the same side at every visit. The *bilateral* total adds the 7 paired
groups on both sides plus the neck flexors once, 15 tests, 0-150 (status PROVISIONAL, register item
P8). A missing group makes the total ``None``. Every consumer of an MMT total (the Total Improvement
Score in particular) must be told which maximum applies.
Rider LG et al., Arthritis Care Res 2010;62:465-72 (IMACS MMT-8 validation).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any, Literal

from pydantic import create_model

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    Record,
    Status,
    integer_in,
    parse_record,
    register,
)

PROVISIONAL_BILATERAL = "P8"
"""PROVISIONAL: the 150-point bilateral total."""

AXIAL_GROUP = "neck_flexors"
PAIRED_GROUPS = (
    "deltoid",
    "biceps",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "wrist_extensors",
    "ankle_dorsiflexors",
)
FORM_GROUPS: dict[str, tuple[str, ...]] = {
    "unilateral": (AXIAL_GROUP, *PAIRED_GROUPS),
    "bilateral": (AXIAL_GROUP, *(f"{group}_{side}" for group in PAIRED_GROUPS for side in "rl")),
}
"""The fields graded in each form: 8 groups on one side, or 15 tests on both sides."""
ALL_GROUPS = tuple(dict.fromkeys(chain.from_iterable(FORM_GROUPS.values())))
GROUP_MAX = 10
MMT_MAX = {"unilateral": 80, "bilateral": 150}
MmtMax = Literal[80, 150]
"""The maximum of the MMT-8 total actually used: 80 (unilateral) or 150 (bilateral, PROVISIONAL)."""

GroupScore = integer_in(0, GROUP_MAX)

Mmt8Record = create_model(
    "Mmt8Record",
    __base__=Record,
    __doc__="One MMT-8 examination: the form, the side tested (unilateral form) and the grades.",
    form=(Literal["unilateral", "bilateral"], "unilateral"),
    side=(Literal["right", "left"] | None, None),
    **{name: (GroupScore | None, None) for name in ALL_GROUPS},
)


def _check_form(rec: Any) -> None:
    """Reject grades that belong to the other form, and a side for the bilateral form."""
    if rec.form == "bilateral" and rec.side is not None:
        raise InstrumentInputError("side", rec.side, "no side for the bilateral form")
    own = set(FORM_GROUPS[rec.form])
    for name in ALL_GROUPS:
        if name not in own and getattr(rec, name) is not None:
            raise InstrumentInputError(
                name, getattr(rec, name), f"only the groups of the {rec.form} form"
            )


def score(record: Mapping[str, Any] | Record) -> InstrumentResult:
    """Total the MMT-8 grades (``mmt_total``) and report the scale maximum (``mmt_max``)."""
    rec = parse_record(Mmt8Record, record)
    _check_form(rec)
    grades = {name: getattr(rec, name) for name in FORM_GROUPS[rec.form]}
    missing = [name for name, grade in grades.items() if grade is None]
    return InstrumentResult(
        instrument="mmt8",
        outputs={
            "mmt_total": None if missing else sum(grades.values()),
            "mmt_max": MMT_MAX[rec.form],
        },
        components={"grades": grades, "missing_groups": missing, "side": rec.side},
        provisional=(PROVISIONAL_BILATERAL,) if rec.form == "bilateral" else (),
    )


def _group_field(name: str) -> FieldSpec:
    forms = [form for form, groups in FORM_GROUPS.items() if name in groups]
    return FieldSpec(
        name=name,
        kind="integer",
        allowed=f"0-{GROUP_MAX}",
        description=f"Kendall grade 0-{GROUP_MAX} ({' and '.join(forms)} form)",
    )


register(
    Instrument(
        key="mmt8",
        title="Manual Muscle Testing, 8 muscle groups (MMT-8)",
        score=score,
        record=Mmt8Record,
        fields=(
            FieldSpec(
                name="form",
                kind="enum",
                allowed="unilateral, bilateral",
                default="unilateral",
                description="unilateral (8 groups, 0-80) or bilateral (15 tests, 0-150, "
                "PROVISIONAL P8)",
            ),
            FieldSpec(
                name="side",
                kind="enum",
                allowed="right, left",
                description="side tested in the unilateral form (keep it the same at every visit)",
            ),
            *(_group_field(name) for name in ALL_GROUPS),
        ),
        status=Status.VERIFIED,
        source="Rider LG et al., Arthritis Care Res 2010;62:465-72",
        provisional_items=(PROVISIONAL_BILATERAL,),
    )
)
