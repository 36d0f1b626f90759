"""2016 ACR/EULAR myositis response criteria: the Total Improvement Score (TIS).

Status: level table and category cut-offs VERIFIED; the percent-change formulas are PROVISIONAL
(register item P7), and a 150-point MMT total rests on P8.

For each of the six core set measures an improvement percentage is computed (positive = better): the
change as a percentage of the scale range for the physician, patient and extramuscular VAS (range
10), the HAQ (range 3) and the MMT-8 (range 80 or 150), and as a percentage of baseline for the
muscle enzyme. The percentage falls in one of five levels, each band open below and closed above: up
to 5 / 15 / 25 / 40 % and above 40 % (MMT: 2 / 10 / 20 / 30 %). Each measure's level earns the
points of the published table (level 0 earns nothing, so worsening never subtracts), and the TIS is
their sum, 0-100. Adults (DM/PM) reach minimal, moderate and major improvement at 20, 40 and 60
points; juvenile DM at 30, 45 and 70; a score on a cut-off reaches that category.
Aggarwal R et al., Ann Rheum Dis 2017;76:792-801 and Arthritis Rheumatol 2017;69:911-23 (adult
DM/PM); Rider LG et al., Arthritis Rheumatol 2017;69:898-910 and Ann Rheum Dis 2017;76:782-91
(juvenile DM).

Juvenile DM may use the PRINTO core set measures instead (Rider 2017, Table 3: "MMT or CMAS",
"Enzyme (most abnormal) or CHQ-PhS", "Extramuscular activity or Disease Activity Score", with the
same levels and points): the Childhood Myositis Assessment Scale (``cmas``, 0-52, higher is better)
in place of the MMT-8, the Child Health Questionnaire physical summary score (``chq_phs``, higher
is better) in place of the muscle enzyme, and the Disease Activity Score (``das``, 0-20) in place of
extramuscular activity. PROVISIONAL (P7): their percentages are taken as the change over the scale
range for CMAS (52) and DAS (20), and relative to baseline for the CHQ physical summary, which is a
norm-based score without a fixed range.

The official IMACS calculators also ask for the upper limit of normal of the enzyme; how they use it
was not found in a stored source. The score here does not use it: an ``enzyme_uln`` that is given is
reported, and an enzyme within normal limits at baseline is flagged (``enzyme_normal_at_baseline``),
because its relative change then reflects noise rather than disease.

The criteria define no imputation: a missing measure makes the TIS ``None`` unless
``options.score_available_items`` (CONVENTION, default false) asks for the sum of the available
measures, which is then flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.exact import percent_of
from immunoreset.clinical.iim.core_set import (
    CoreSetMeasures,
    Enzyme,
    Pair,
    gain,
    measure_fields,
)
from immunoreset.clinical.iim.mmt8 import MMT_MAX, PROVISIONAL_BILATERAL, MmtMax

PROVISIONAL_FORMULAS = "P7"
"""PROVISIONAL: scale-range percentages (relative for enzymes and the CHQ physical summary)."""

SLOTS: dict[str, tuple[str, ...]] = {
    "mdga": ("mdga",),
    "ptga": ("ptga",),
    "mmt": ("mmt", "cmas"),
    "haq": ("haq",),
    "enzyme": ("enzyme", "chq_phs"),
    "extramuscular": ("extramuscular", "das"),
}
"""Each scored slot (named after its IMACS measure) and the measures that may fill it: the IMACS
measure, then its PRINTO alternative for juvenile DM (Rider 2017, Table 3)."""
JUVENILE_ALTERNATIVES = frozenset({"cmas", "chq_phs", "das"})

SCALE_RANGE = {"mdga": 10, "ptga": 10, "extramuscular": 10, "haq": 3, "cmas": 52, "das": 20}
"""Range of each fixed scale; the MMT uses ``mmt_max``; the enzyme and CHQ their baseline."""
RELATIVE_MEASURES = frozenset({"enzyme", "chq_phs"})
LEVEL_EDGES = (5, 15, 25, 40)
MMT_LEVEL_EDGES = (2, 10, 20, 30)
"""Upper (closed) edges of improvement levels 0-3, in percent; above the last edge is level 4."""

POINTS: dict[str, tuple[Decimal, ...]] = {
    name: tuple(Decimal(p) for p in row)
    for name, row in {
        "mdga": ("0", "7.5", "15", "17.5", "20"),
        "ptga": ("0", "2.5", "5", "7.5", "10"),
        "mmt": ("0", "10", "20", "27.5", "32.5"),
        "haq": ("0", "5", "7.5", "7.5", "10"),
        "enzyme": ("0", "2.5", "5", "7.5", "7.5"),
        "extramuscular": ("0", "7.5", "12.5", "15", "20"),
    }.items()
}
"""Points earned by each slot at improvement levels 0-4 (the same for its juvenile alternative)."""

CATEGORY_CUTOFFS: dict[str, tuple[tuple[int, str], ...]] = {
    "adult": ((60, "major"), (40, "moderate"), (20, "minimal")),
    "juvenile": ((70, "major"), (45, "moderate"), (30, "minimal")),
}
"""Lowest TIS of each improvement category, highest first; below the last one: ``none``."""

AVAILABLE_ONLY_FLAG = "scored_available_items_only"
ENZYME_NORMAL_FLAG = "enzyme_normal_at_baseline"

Cmas = Annotated[Decimal, Field(ge=0, le=52)]
Das = Annotated[Decimal, Field(ge=0, le=20)]
ChqPhs = Annotated[Decimal, Field(gt=0, le=100)]


class TisOptions(Record):
    """``score_available_items`` (CONVENTION, default false): sum the measures present."""

    score_available_items: bool = False


class MyositisTisRecord(CoreSetMeasures):
    """The core set measures (IMACS, or PRINTO alternatives in juvenile DM), the MMT scale maximum,
    the enzyme's upper limit of normal, the population and the options."""

    cmas: tuple[Cmas | None, Cmas | None] | None = None
    chq_phs: tuple[ChqPhs | None, ChqPhs | None] | None = None
    das: tuple[Das | None, Das | None] | None = None
    enzyme_uln: Enzyme | None = None
    mmt_max: MmtMax | None = None
    population: Literal["adult", "juvenile"]
    options: TisOptions = TisOptions()


def improvement_percent(name: str, pair: Pair, mmt_max: int | None) -> Fraction:
    """Exact improvement percentage of one measure (PROVISIONAL formulas, P7)."""
    if name == "mmt" and mmt_max is not None:
        reference: Decimal | int = mmt_max
    elif name in RELATIVE_MEASURES:
        reference = pair[0]
    else:
        reference = SCALE_RANGE[name]
    return percent_of(gain(name, pair), reference)


def improvement_level(slot: str, percent: Fraction) -> int:
    """Level 0-4: the number of band edges that the percentage strictly exceeds."""
    edges = MMT_LEVEL_EDGES if slot == "mmt" else LEVEL_EDGES
    return sum(percent > edge for edge in edges)


def category(tis: Decimal, population: str) -> str:
    """Improvement category of a TIS (a score on a cut-off reaches the category)."""
    return next((label for cut, label in CATEGORY_CUTOFFS[population] if tis >= cut), "none")


def slot_pairs(rec: MyositisTisRecord) -> dict[str, tuple[str, Pair | None]]:
    """The measure filling each slot and its ``(baseline, follow-up)``, ``None`` when missing.

    Raises :class:`InstrumentInputError` for a juvenile alternative in an adult, for both measures
    of one slot, and for an MMT-8 total without ``mmt_max`` or above it.
    """
    chosen: dict[str, tuple[str, Pair | None]] = {}
    for slot, names in SLOTS.items():
        given = [name for name in names if getattr(rec, name) is not None]
        for name in given:
            if name in JUVENILE_ALTERNATIVES and rec.population != "juvenile":
                raise InstrumentInputError(
                    name, getattr(rec, name), f"only with population juvenile; adults use {slot}"
                )
        if len(given) > 1:
            raise InstrumentInputError(
                given[1], getattr(rec, given[1]), f"either {slot} or {given[1]}, not both"
            )
        name = given[0] if given else slot
        pair = getattr(rec, name)
        complete = pair is not None and None not in pair
        chosen[slot] = (name, (pair[0], pair[1]) if complete else None)
    _check_mmt(rec)
    return chosen


def _check_mmt(rec: MyositisTisRecord) -> None:
    if rec.mmt is None:
        return
    if rec.mmt_max is None:
        raise InstrumentInputError("mmt_max", None, "80 or 150 (required with mmt)")
    for index, value in enumerate(rec.mmt):
        if value is not None and value > rec.mmt_max:
            raise InstrumentInputError(
                f"mmt.{index}", value, f"an MMT-8 total within 0-{rec.mmt_max} (mmt_max)"
            )


def score(record: Mapping[str, Any] | MyositisTisRecord) -> InstrumentResult:
    """Total Improvement Score (``tis``) and improvement ``category``."""
    rec = parse_record(MyositisTisRecord, record)
    chosen = slot_pairs(rec)
    missing = [slot for slot, (_, pair) in chosen.items() if pair is None]
    items: dict[str, dict[str, Any]] = {}
    total = Decimal(0)
    for slot, (name, pair) in chosen.items():
        if pair is None:
            continue
        percent = improvement_percent(name, pair, rec.mmt_max)
        level = improvement_level(slot, percent)
        total += POINTS[slot][level]
        items[name] = {
            "percent": float(percent),
            "level": level,
            "points": float(POINTS[slot][level]),
        }
    scored = bool(items) and (not missing or rec.options.score_available_items)
    provisional = (PROVISIONAL_FORMULAS,) if items else ()
    if "mmt" in items and rec.mmt_max == MMT_MAX["bilateral"]:
        provisional += (PROVISIONAL_BILATERAL,)
    flags = (AVAILABLE_ONLY_FLAG,) if scored and missing else ()
    enzyme = chosen["enzyme"]
    if rec.enzyme_uln is not None and enzyme[0] == "enzyme" and enzyme[1] is not None:
        flags += (ENZYME_NORMAL_FLAG,) if enzyme[1][0] <= rec.enzyme_uln else ()
    return InstrumentResult(
        instrument="myositis_tis_2016",
        outputs={
            "tis": float(total) if scored else None,
            "category": category(total, rec.population) if scored else None,
        },
        components={"measures": items, "missing_measures": missing},
        flags=flags,
        options=rec.options.model_dump(),
        provisional=provisional,
    )


_JUVENILE_FIELDS = (
    FieldSpec(
        name="cmas",
        kind="list[number]",
        allowed="two values, baseline;follow-up, each 0-52",
        description="juvenile only, instead of mmt: Childhood Myositis Assessment Scale (higher "
        "is better)",
    ),
    FieldSpec(
        name="chq_phs",
        kind="list[number]",
        allowed="two values, baseline;follow-up, each > 0",
        description="juvenile only, instead of enzyme: CHQ physical summary score (higher is "
        "better; change relative to baseline, PROVISIONAL P7)",
    ),
    FieldSpec(
        name="das",
        kind="list[number]",
        allowed="two values, baseline;follow-up, each 0-20",
        description="juvenile only, instead of extramuscular: JDM Disease Activity Score",
    ),
)


register(
    Instrument(
        key="myositis_tis_2016",
        title="2016 ACR/EULAR myositis response criteria: Total Improvement Score",
        score=score,
        record=MyositisTisRecord,
        fields=(
            *measure_fields(),
            *_JUVENILE_FIELDS,
            FieldSpec(
                name="mmt_max",
                kind="integer",
                allowed="80 or 150",
                description="maximum of the MMT-8 scale used: 80 unilateral, 150 bilateral "
                "(PROVISIONAL P8); required with mmt",
            ),
            FieldSpec(
                name="enzyme_uln",
                kind="number",
                unit="as enzyme",
                allowed="> 0",
                description="upper limit of normal of the enzyme; flags an enzyme within normal "
                "limits at baseline (not used in the score)",
            ),
            FieldSpec(
                name="population",
                kind="enum",
                allowed="adult, juvenile",
                required=True,
                description="adult DM/PM or juvenile DM (selects the category cut-offs)",
            ),
        ),
        status=Status.PROVISIONAL,
        source="Aggarwal R et al., Ann Rheum Dis 2017;76:792-801 (adult DM/PM); Rider LG et al., "
        "Arthritis Rheumatol 2017;69:898-910 and Ann Rheum Dis 2017;76:782-91 (juvenile DM)",
        provisional_items=(PROVISIONAL_FORMULAS, PROVISIONAL_BILATERAL),
        option_fields=(
            FieldSpec(
                name="options.score_available_items",
                kind="bool",
                default=False,
                description="CONVENTION: when true a missing measure is skipped (result "
                "flagged) instead of making the TIS None",
            ),
        ),
    )
)
