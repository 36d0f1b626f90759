"""Modified Rodnan skin score (mRSS, 17 sites) and its 12-month change (status: VERIFIED).

``mrss``: the examiner grades skin thickness by palpation at 17 body sites, each 0 (normal),
1 (mild), 2 (moderate) or 3 (severe: the skin cannot be pinched into a fold); the score is the sum,
0-51. Clements PJ et al., J Rheumatol 1993;20:1892-6.

``mrss_skin_change``: over 12 months, skin counts as *improved* when the score falls by more than 5
points and by at least 25 % of baseline, and as *progressed* when it rises by more than 5 points and
by at least 25 % of baseline (from a baseline of 0 any rise above 5 points is progression).
Dobrota R et al., Ann Rheum Dis 2016, PMID 27016052 (EUSTAR); the progression definition follows
Maurer B et al., Ann Rheum Dis 2015;74:1124.

Limited versus diffuse cutaneous disease cannot be derived from the total and is not reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

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
from immunoreset.clinical.exact import percent_of, reaches_percent

SiteScore = integer_in(0, 3)
MrssTotal = integer_in(0, 51)
"""An mRSS total, 0-51 (17 sites x 3)."""


def mrss_total_field(name: str, description: str) -> FieldSpec:
    """CSV column of a required :data:`MrssTotal`, described the same way by every SSc instrument."""
    return FieldSpec(name, "integer", "points", "0-51", required=True, description=description)


MIN_CHANGE_POINTS = 5
"""A skin change counts only when it exceeds this many points (Dobrota 2016)."""
MIN_CHANGE_PERCENT = 25
"""A skin change must also reach this percentage of the baseline score (Dobrota 2016)."""


class MrssSites(Record):
    """Thickness score 0-3 at each of the 17 sites; ``None`` = not examined."""

    face: SiteScore | None = Field(None, description="face")
    anterior_chest: SiteScore | None = Field(None, description="anterior chest")
    abdomen: SiteScore | None = Field(None, description="abdomen")
    fingers_r: SiteScore | None = Field(None, description="fingers, right")
    fingers_l: SiteScore | None = Field(None, description="fingers, left")
    hands_r: SiteScore | None = Field(None, description="dorsum of hand, right")
    hands_l: SiteScore | None = Field(None, description="dorsum of hand, left")
    forearms_r: SiteScore | None = Field(None, description="forearm, right")
    forearms_l: SiteScore | None = Field(None, description="forearm, left")
    upper_arms_r: SiteScore | None = Field(None, description="upper arm, right")
    upper_arms_l: SiteScore | None = Field(None, description="upper arm, left")
    thighs_r: SiteScore | None = Field(None, description="thigh, right")
    thighs_l: SiteScore | None = Field(None, description="thigh, left")
    lower_legs_r: SiteScore | None = Field(None, description="lower leg, right")
    lower_legs_l: SiteScore | None = Field(None, description="lower leg, left")
    feet_r: SiteScore | None = Field(None, description="dorsum of foot, right")
    feet_l: SiteScore | None = Field(None, description="dorsum of foot, left")


class MrssOptions(Record):
    """``allow_partial`` (CONVENTION, default false): a missing site gives ``None``, no error."""

    allow_partial: bool = False


class MrssRecord(Record):
    """One skin examination: the 17 site scores and the missing-site option."""

    sites: MrssSites
    options: MrssOptions = MrssOptions()


class MrssChangeRecord(Record):
    """mRSS totals at baseline and 12 months; ``None`` = not evaluable."""

    mrss_baseline: MrssTotal | None
    mrss_12m: MrssTotal | None


def score(record: Mapping[str, Any] | MrssRecord) -> InstrumentResult:
    """Sum the 17 site scores into the mRSS (0-51).

    Every site must be graded: a missing site raises :class:`InstrumentInputError` naming it, unless
    ``options.allow_partial`` is set, in which case the score is ``None`` (a partial sum is never
    reported as an mRSS).
    """
    rec = parse_record(MrssRecord, record)
    sites = rec.sites.model_dump()
    missing = [name for name, value in sites.items() if value is None]
    if missing and not rec.options.allow_partial:
        raise InstrumentInputError(
            f"sites.{missing[0]}", None, "an integer 0-3 (every site is required)"
        )
    return InstrumentResult(
        instrument="mrss",
        outputs={"mrss": None if missing else sum(sites.values())},
        components={"sites": sites, "missing_sites": missing},
        options=rec.options.model_dump(),
    )


def _meaningful(change: int, baseline: int) -> bool:
    """A change (positive in the direction tested) of more than 5 points and >= 25 % of baseline."""
    return change > MIN_CHANGE_POINTS and reaches_percent(change, baseline, MIN_CHANGE_PERCENT)


def score_change(record: Mapping[str, Any] | MrssChangeRecord) -> InstrumentResult:
    """Classify the baseline-to-12-month mRSS change as improved, progressed or neither."""
    rec = parse_record(MrssChangeRecord, record)
    baseline, followup = rec.mrss_baseline, rec.mrss_12m
    if baseline is None or followup is None:
        return InstrumentResult(
            instrument="mrss_skin_change", outputs={"improved": None, "progressed": None}
        )
    change = followup - baseline
    return InstrumentResult(
        instrument="mrss_skin_change",
        outputs={
            "improved": _meaningful(-change, baseline),
            "progressed": _meaningful(change, baseline),
        },
        components={
            "change_points": change,
            "change_percent_of_baseline": (
                float(percent_of(change, baseline)) if baseline > 0 else None
            ),
        },
    )


_SITE_FIELDS = tuple(
    FieldSpec(
        name=f"sites.{name}",
        kind="integer",
        unit="points",
        allowed="0-3",
        required=True,
        description=f"skin thickness at the {info.description} (0 normal, 1 mild, 2 moderate, "
        "3 severe); required unless options.allow_partial",
    )
    for name, info in MrssSites.model_fields.items()
)

register(
    Instrument(
        key="mrss",
        title="Modified Rodnan skin score (17 sites)",
        score=score,
        record=MrssRecord,
        fields=_SITE_FIELDS,
        status=Status.VERIFIED,
        source="Clements PJ et al., J Rheumatol 1993;20:1892-6",
        option_fields=(
            FieldSpec(
                name="options.allow_partial",
                kind="bool",
                default=False,
                description="CONVENTION: when true a missing site gives mrss = None instead of "
                "an error",
            ),
        ),
    )
)

register(
    Instrument(
        key="mrss_skin_change",
        title="mRSS change over 12 months (improved / progressed)",
        score=score_change,
        record=MrssChangeRecord,
        fields=(
            mrss_total_field("mrss_baseline", "mRSS at baseline"),
            mrss_total_field("mrss_12m", "mRSS 12 months after baseline"),
        ),
        status=Status.VERIFIED,
        source="Dobrota R et al., Ann Rheum Dis 2016 (PMID 27016052); Maurer B et al., "
        "Ann Rheum Dis 2015;74:1124",
    )
)
