"""What the SLE responder indices share: BILAG-2004 grades, new flares and the paired record.

SRI-4 and BICLA compare a baseline with one follow-up visit using the total SLEDAI, the physician
global assessment (0-3) and the BILAG-2004 domain grades. The BILAG item algorithm that produces the
grades is not implemented: grades A (severe) to E (never involved) are inputs, and a domain left out
is read as E (so an omitted grade object means every domain is E).

Flare definitions used by both indices (verified for BICLA: Wallace DJ et al. 2011):

* a new A is a domain graded A at follow-up that was not A at baseline;
* a new B is a domain graded B at follow-up that was C, D or E at baseline (A to B is improvement).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal, get_args

from pydantic import Field

from immunoreset.clinical.core import FieldSpec, Record
from immunoreset.clinical.sle.common import Pga, pga_field
from immunoreset.clinical.sle.sledai import SledaiTotal

BilagDomain = Literal[
    "constitutional",
    "mucocutaneous",
    "neuropsychiatric",
    "musculoskeletal",
    "cardiorespiratory",
    "gastrointestinal",
    "ophthalmic",
    "renal",
    "haematological",
]
BilagGrade = Literal["A", "B", "C", "D", "E"]
BilagGrades = dict[BilagDomain, BilagGrade]

BILAG_DOMAINS: tuple[str, ...] = get_args(BilagDomain)
BILAG_GRADES: tuple[str, ...] = get_args(BilagGrade)

PGA_WORSENING_POINTS = Decimal("0.3")


def grade(grades: Mapping[str, str], domain: str) -> str:
    """The grade of ``domain``; a domain not listed is E."""
    return grades.get(domain, "E")


def new_a_domains(baseline: Mapping[str, str], followup: Mapping[str, str]) -> tuple[str, ...]:
    """Domains graded A at follow-up that were not A at baseline."""
    return tuple(
        d for d in BILAG_DOMAINS if grade(followup, d) == "A" and grade(baseline, d) != "A"
    )


def new_b_domains(baseline: Mapping[str, str], followup: Mapping[str, str]) -> tuple[str, ...]:
    """Domains graded B at follow-up that were C, D or E at baseline."""
    return tuple(
        d for d in BILAG_DOMAINS if grade(followup, d) == "B" and grade(baseline, d) in "CDE"
    )


def no_new_bilag_flare(baseline: Mapping[str, str], followup: Mapping[str, str]) -> bool:
    """No new A and at most one new B."""
    return not new_a_domains(baseline, followup) and len(new_b_domains(baseline, followup)) <= 1


def pga_increase_below_0_3(baseline: Decimal, followup: Decimal) -> bool:
    """PGA rose by less than 0.3 points (a rise of exactly 0.3 is worsening)."""
    return followup - baseline < PGA_WORSENING_POINTS


class PairedVisits(Record):
    """Baseline and follow-up measures that SRI-4 and BICLA both read."""

    sledai_baseline: SledaiTotal
    sledai_followup: SledaiTotal
    pga_baseline: Pga
    pga_followup: Pga
    bilag_baseline: BilagGrades = Field(default_factory=dict)
    bilag_followup: BilagGrades = Field(default_factory=dict)


VISITS = ("baseline", "followup")

PAIRED_FIELDS: tuple[FieldSpec, ...] = (
    *(
        FieldSpec(
            f"sledai_{visit}",
            "integer",
            "points",
            "0-105",
            required=True,
            description=f"total SLEDAI at {visit}",
        )
        for visit in VISITS
    ),
    *(pga_field(f"pga_{visit}", f"physician global assessment at {visit}") for visit in VISITS),
    *(
        FieldSpec(
            f"bilag_{visit}.{domain}",
            "enum",
            allowed=", ".join(BILAG_GRADES),
            default="E",
            description=f"BILAG-2004 {domain} grade at {visit}",
        )
        for visit in VISITS
        for domain in BILAG_DOMAINS
    ),
)
"""CSV columns of :class:`PairedVisits`; BILAG grades as ``bilag_<visit>.<domain>`` columns."""


def bilag_components(rec: PairedVisits) -> dict[str, tuple[str, ...]]:
    """New A and new B domains, for the result components."""
    return {
        "new_a": new_a_domains(rec.bilag_baseline, rec.bilag_followup),
        "new_b": new_b_domains(rec.bilag_baseline, rec.bilag_followup),
    }
