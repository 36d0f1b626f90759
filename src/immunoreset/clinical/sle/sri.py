"""SLE Responder Index 4 (registry key ``sri_4``).

Status: the SLEDAI and PGA components are VERIFIED (through the modified SRI wording, Connelly K et
al.); the BILAG component is PROVISIONAL (P5): not yet checked against Furie RA et al. Novel
evidence-based systemic lupus erythematosus responder index. Arthritis Rheum 2009;61:1143-51.

A patient responds when, between baseline and one follow-up visit, all of these hold:

1. total SLEDAI fell by at least 4 points (``options.min_reduction``; 5, 6 ... give SRI-5, SRI-6);
   a baseline below the reduction cannot respond;
2. no BILAG-2004 domain became A and at most one became B (see :mod:`.response`) -- PROVISIONAL P5;
3. the physician global assessment rose by less than 0.3 points (a rise of exactly 0.3 fails).

SELENA-SLEDAI is the formal index; most CAR-T reports use SLEDAI-2K, so ``options.variant`` labels
which one the totals are. Rescue-medication rules are trial-specific and left to the caller.
Every result lists ``P5`` because the BILAG component is part of the definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    Integer,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.sle.response import (
    PAIRED_FIELDS,
    PairedVisits,
    bilag_components,
    no_new_bilag_flare,
    pga_increase_below_0_3,
)
from immunoreset.clinical.sle.sledai import SLEDAI_2K_MAX, SledaiVariant

KEY = "sri_4"
PROVISIONAL_BILAG_COMPONENT = "P5"
"""PROVISIONAL register id of the BILAG component (no new A, at most one new B)."""


class SriOptions(Record):
    """Configurable choices of the SLE Responder Index."""

    min_reduction: Annotated[Integer, Field(ge=1, le=SLEDAI_2K_MAX)] = 4
    variant: SledaiVariant = "SLEDAI-2K"


class SriRecord(PairedVisits):
    """Baseline and follow-up SLEDAI, PGA and BILAG-2004 grades, with options."""

    options: SriOptions = SriOptions()


def score(record: Mapping[str, Any] | SriRecord) -> InstrumentResult:
    """Decide SRI response between baseline and follow-up.

    Output ``sri4`` (bool; with another ``options.min_reduction`` it is SRI-n under the same name).
    Components give the SLEDAI reduction, PGA change, new BILAG A and B domains and each criterion.
    """
    rec = parse_record(SriRecord, record)
    reduction = rec.sledai_baseline - rec.sledai_followup
    criteria = {
        "sledai_reduction": reduction >= rec.options.min_reduction,
        "no_new_bilag_flare": no_new_bilag_flare(rec.bilag_baseline, rec.bilag_followup),
        "no_pga_worsening": pga_increase_below_0_3(rec.pga_baseline, rec.pga_followup),
    }
    return InstrumentResult(
        instrument=KEY,
        outputs={"sri4": all(criteria.values())},
        components={
            "sledai_reduction": reduction,
            "pga_change": rec.pga_followup - rec.pga_baseline,
            **bilag_components(rec),
            "criteria": criteria,
        },
        options=rec.options.model_dump(),
        provisional=(PROVISIONAL_BILAG_COMPONENT,),
    )


OPTION_FIELDS = (
    FieldSpec(
        "options.min_reduction",
        "integer",
        "points",
        "1-105",
        default=4,
        description="SLEDAI reduction required (4 = SRI-4; 5, 6 ... = SRI-5, SRI-6)",
    ),
    FieldSpec(
        "options.variant",
        "enum",
        allowed="SLEDAI-2K, SELENA-SLEDAI",
        default="SLEDAI-2K",
        description="which SLEDAI version the totals are (label only)",
    ),
)

INSTRUMENT = register(
    Instrument(
        key=KEY,
        title="SLE Responder Index 4 (SRI-4)",
        score=score,
        record=SriRecord,
        fields=PAIRED_FIELDS,
        status=Status.PROVISIONAL,
        source="Furie RA et al. Arthritis Rheum 2009;61:1143-51",
        provisional_items=(PROVISIONAL_BILAG_COMPONENT,),
        option_fields=OPTION_FIELDS,
    )
)
