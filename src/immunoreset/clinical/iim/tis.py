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
DM/PM); Rider LG et al., Arthritis Rheumatol 2017;69:898-910 (juvenile DM).

The criteria define no imputation: a missing measure makes the TIS ``None`` unless
``options.score_available_items`` (CONVENTION, default false) asks for the sum of the available
measures, which is then flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

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
    Pair,
    complete_pairs,
    gain,
    measure_fields,
)
from immunoreset.clinical.iim.mmt8 import MMT_MAX, PROVISIONAL_BILATERAL, MmtMax

PROVISIONAL_FORMULAS = "P7"
"""PROVISIONAL: scale-range percentages (relative for enzymes), no enzyme normal-range rule."""

SCALE_RANGE = {"mdga": 10, "ptga": 10, "extramuscular": 10, "haq": 3}
"""Range of each fixed scale; the MMT uses ``mmt_max`` and the enzyme its baseline."""
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
"""Points earned by each measure at improvement levels 0-4."""

CATEGORY_CUTOFFS: dict[str, tuple[tuple[int, str], ...]] = {
    "adult": ((60, "major"), (40, "moderate"), (20, "minimal")),
    "juvenile": ((70, "major"), (45, "moderate"), (30, "minimal")),
}
"""Lowest TIS of each improvement category, highest first; below the last one: ``none``."""

AVAILABLE_ONLY_FLAG = "scored_available_items_only"


class TisOptions(Record):
    """``score_available_items`` (CONVENTION, default false): sum the measures present."""

    score_available_items: bool = False


class MyositisTisRecord(CoreSetMeasures):
    """The six core set measures plus the MMT scale maximum, the population and the options."""

    mmt_max: MmtMax
    population: Literal["adult", "juvenile"]
    options: TisOptions = TisOptions()


def improvement_percent(name: str, pair: Pair, mmt_max: int) -> Fraction:
    """Exact improvement percentage of one measure (PROVISIONAL formulas, P7)."""
    if name == "mmt":
        reference: Decimal | int = mmt_max
    elif name == "enzyme":
        reference = pair[0]
    else:
        reference = SCALE_RANGE[name]
    return percent_of(gain(name, pair), reference)


def improvement_level(name: str, percent: Fraction) -> int:
    """Level 0-4: the number of band edges that the percentage strictly exceeds."""
    edges = MMT_LEVEL_EDGES if name == "mmt" else LEVEL_EDGES
    return sum(percent > edge for edge in edges)


def category(tis: Decimal, population: str) -> str:
    """Improvement category of a TIS (a score on a cut-off reaches the category)."""
    return next((label for cut, label in CATEGORY_CUTOFFS[population] if tis >= cut), "none")


def _check_mmt(rec: MyositisTisRecord) -> None:
    for index, value in enumerate(rec.mmt or ()):
        if value is not None and value > rec.mmt_max:
            raise InstrumentInputError(
                f"mmt.{index}", value, f"an MMT-8 total within 0-{rec.mmt_max} (mmt_max)"
            )


def score(record: Mapping[str, Any] | MyositisTisRecord) -> InstrumentResult:
    """Total Improvement Score (``tis``) and improvement ``category``."""
    rec = parse_record(MyositisTisRecord, record)
    _check_mmt(rec)
    pairs = complete_pairs(rec)
    missing = [name for name, pair in pairs.items() if pair is None]
    items: dict[str, dict[str, Any]] = {}
    total = Decimal(0)
    for name, pair in pairs.items():
        if pair is None:
            continue
        percent = improvement_percent(name, pair, rec.mmt_max)
        level = improvement_level(name, percent)
        total += POINTS[name][level]
        items[name] = {
            "percent": float(percent),
            "level": level,
            "points": float(POINTS[name][level]),
        }
    scored = bool(items) and (not missing or rec.options.score_available_items)
    provisional = (PROVISIONAL_FORMULAS,) if items else ()
    if "mmt" in items and rec.mmt_max == MMT_MAX["bilateral"]:
        provisional += (PROVISIONAL_BILATERAL,)
    return InstrumentResult(
        instrument="myositis_tis_2016",
        outputs={
            "tis": float(total) if scored else None,
            "category": category(total, rec.population) if scored else None,
        },
        components={"measures": items, "missing_measures": missing},
        flags=(AVAILABLE_ONLY_FLAG,) if scored and missing else (),
        options=rec.options.model_dump(),
        provisional=provisional,
    )


register(
    Instrument(
        key="myositis_tis_2016",
        title="2016 ACR/EULAR myositis response criteria: Total Improvement Score",
        score=score,
        record=MyositisTisRecord,
        fields=(
            *measure_fields(),
            FieldSpec(
                name="mmt_max",
                kind="integer",
                allowed="80 or 150",
                required=True,
                description="maximum of the MMT-8 scale used: 80 unilateral, 150 bilateral "
                "(PROVISIONAL P8)",
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
        "Arthritis Rheumatol 2017;69:898-910 (juvenile DM)",
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
