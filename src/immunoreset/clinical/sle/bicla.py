"""BILAG-based Composite Lupus Assessment (registry key ``bicla``).

Status: VERIFIED; the reading of the PGA criterion is a CONVENTION. Wallace DJ et al. 2011 (BICLA,
epratuzumab programme); definition as distributed by the ePROVIDE instrument database.

BICLA applies only when at least one BILAG-2004 domain is A or B at baseline (otherwise the result
is ``None``). A patient responds when all of these hold between baseline and follow-up:

1. every baseline A domain improved to B or better, and every baseline B domain to C or better;
2. no new A domain and at most one new B domain (see :mod:`.response`);
3. total SLEDAI did not rise;
4. the physician global assessment did not deteriorate significantly: by default the rise is at
   most 10% of the baseline value (exactly 10% passes; from a baseline of 0 any rise fails),
   compared exactly as ``10 * rise <= baseline``; ``options.pga_rule = "absolute_0_3"`` instead
   requires a rise below 0.3 points;
5. no treatment failure (no non-protocol treatment started).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.exact import within_percent
from immunoreset.clinical.sle.response import (
    BILAG_DOMAINS,
    PAIRED_FIELDS,
    PairedVisits,
    bilag_components,
    grade,
    no_new_bilag_flare,
    pga_increase_below_0_3,
)

KEY = "bicla"
PGA_DETERIORATION_PERCENT = 10
"""Largest PGA rise, in % of the baseline PGA, that is not a significant deterioration."""


def pga_increase_within_10pct(baseline: Decimal, followup: Decimal) -> bool:
    """PGA rose by at most 10% of its baseline value (exact: ``100 * rise <= 10 * baseline``)."""
    return within_percent(followup - baseline, baseline, PGA_DETERIORATION_PERCENT)


PGA_RULES: Mapping[str, Callable[[Decimal, Decimal], bool]] = MappingProxyType(
    {"relative_10pct": pga_increase_within_10pct, "absolute_0_3": pga_increase_below_0_3}
)


class BiclaOptions(Record):
    """Reading of the PGA deterioration criterion (CONVENTION)."""

    pga_rule: Literal["relative_10pct", "absolute_0_3"] = "relative_10pct"


class BiclaRecord(PairedVisits):
    """Baseline and follow-up BILAG-2004 grades, SLEDAI and PGA, treatment failure, options."""

    treatment_failure: bool = False
    options: BiclaOptions = BiclaOptions()


def active_domains_improved(baseline: Mapping[str, str], followup: Mapping[str, str]) -> bool:
    """Every domain graded A or B at baseline has a better (later-letter) grade at follow-up."""
    return all(
        grade(followup, d) > grade(baseline, d) for d in BILAG_DOMAINS if grade(baseline, d) in "AB"
    )


def score(record: Mapping[str, Any] | BiclaRecord) -> InstrumentResult:
    """Decide BICLA response between baseline and follow-up.

    Output ``bicla``: True or False, or ``None`` when no domain is A or B at baseline.
    Components give the new BILAG A and B domains and each criterion.
    """
    rec = parse_record(BiclaRecord, record)
    applicable = any(grade(rec.bilag_baseline, d) in "AB" for d in BILAG_DOMAINS)
    criteria = {
        "active_domains_improved": active_domains_improved(rec.bilag_baseline, rec.bilag_followup),
        "no_new_bilag_flare": no_new_bilag_flare(rec.bilag_baseline, rec.bilag_followup),
        "no_sledai_worsening": rec.sledai_followup <= rec.sledai_baseline,
        "no_pga_worsening": PGA_RULES[rec.options.pga_rule](rec.pga_baseline, rec.pga_followup),
        "no_treatment_failure": not rec.treatment_failure,
    }
    return InstrumentResult(
        instrument=KEY,
        outputs={"bicla": all(criteria.values()) if applicable else None},
        components={"applicable": applicable, **bilag_components(rec), "criteria": criteria},
        flags=() if applicable else ("no_baseline_a_or_b_domain",),
        options=rec.options.model_dump(),
    )


FIELDS = (
    *PAIRED_FIELDS,
    FieldSpec(
        "treatment_failure",
        "bool",
        default=False,
        description="non-protocol treatment started (counts as non-response)",
    ),
)

OPTION_FIELDS = (
    FieldSpec(
        "options.pga_rule",
        "enum",
        allowed="relative_10pct, absolute_0_3",
        default="relative_10pct",
        description="PGA deterioration: rise <= 10% of baseline, or rise < 0.3 points",
    ),
)

INSTRUMENT = register(
    Instrument(
        key=KEY,
        title="BILAG-based Composite Lupus Assessment (BICLA)",
        score=score,
        record=BiclaRecord,
        fields=FIELDS,
        status=Status.VERIFIED,
        source="Wallace DJ et al. 2011 (BICLA)",
        option_fields=OPTION_FIELDS,
    )
)
