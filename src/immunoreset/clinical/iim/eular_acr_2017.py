"""2017 EULAR/ACR classification criteria for idiopathic inflammatory myopathies (IIM).

Status: item weights and score cut-offs VERIFIED; the probability constants are PROVISIONAL
(register item P10) and reported for information only.

The score adds points for the age at the first symptom (18 to under 40: 1.3, or 1.5 with a muscle
biopsy; 40 or older: 2.1, or 2.2 with a biopsy; under 18: nothing) and for each clinical, laboratory
and biopsy item present, taking each weight from the column that matches whether a muscle biopsy is
available (biopsy items only exist in that column). Without a biopsy the case is definite IIM from
7.5, probable from 5.5 and possible from 5.3; with a biopsy from 8.7, 6.7 and 6.5. Below the lowest
cut-off it is not IIM. Without heliotrope rash, Gottron's papules or Gottron's sign, biopsy features
are needed to classify a case as IIM: the result then flags that a biopsy is required (the score is
unchanged). Items are cumulative: each counts if it was ever present.
Lundberg IE et al., Ann Rheum Dis 2017;76:1955-64 (and Arthritis Rheumatol 2017;69:2271-82).

The weights are exact decimals, added exactly, so a score on a cut-off (e.g. 5.5) is on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
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

PROVISIONAL_PROBABILITY = "P10"
"""PROVISIONAL: the logistic probability constants (information only)."""


def _weights(without_biopsy: str | None, with_biopsy: str) -> tuple[Decimal | None, Decimal]:
    return (None if without_biopsy is None else Decimal(without_biopsy), Decimal(with_biopsy))


WEIGHTS: dict[str, tuple[Decimal | None, Decimal]] = {
    "weak_prox_upper": _weights("0.7", "0.7"),
    "weak_prox_lower": _weights("0.8", "0.5"),
    "neck_flexors_weaker_than_extensors": _weights("1.9", "1.6"),
    "legs_proximal_weaker_than_distal": _weights("0.9", "1.2"),
    "heliotrope": _weights("3.1", "3.2"),
    "gottron_papules": _weights("2.1", "2.7"),
    "gottron_sign": _weights("3.3", "3.7"),
    "dysphagia_or_esophageal_dysmotility": _weights("0.7", "0.6"),
    "anti_jo1": _weights("3.9", "3.8"),
    "elevated_enzymes": _weights("1.3", "1.4"),
    "bx_endomysial_infiltrate": _weights(None, "1.7"),
    "bx_perimysial_or_perivascular_infiltrate": _weights(None, "1.2"),
    "bx_perifascicular_atrophy": _weights(None, "1.9"),
    "bx_rimmed_vacuoles": _weights(None, "3.1"),
}
"""Item weights as (without biopsy, with biopsy), indexed by ``biopsy``; ``bx_`` items have no
weight without a biopsy."""

AGE_POINTS: tuple[tuple[int, tuple[Decimal, Decimal]], ...] = (
    (40, (Decimal("2.1"), Decimal("2.2"))),
    (18, (Decimal("1.3"), Decimal("1.5"))),
)
"""Age-at-onset points as (lowest age, (without biopsy, with biopsy)), oldest band first."""

CATEGORY_CUTOFFS: dict[bool, tuple[tuple[Decimal, str], ...]] = {
    False: (
        (Decimal("7.5"), "definite"),
        (Decimal("5.5"), "probable"),
        (Decimal("5.3"), "possible"),
    ),
    True: (
        (Decimal("8.7"), "definite"),
        (Decimal("6.7"), "probable"),
        (Decimal("6.5"), "possible"),
    ),
}
"""Lowest score of each category, by biopsy availability; below the last one: ``not_iim``."""

PROBABILITY_MIDPOINT = {False: Decimal("5.33"), True: Decimal("6.49")}
"""PROVISIONAL (P10): probability = 1 / (1 + exp(midpoint - score)); never used to classify."""

SKIN_SIGNS = ("heliotrope", "gottron_papules", "gottron_sign")

ItemKey = Literal[tuple(WEIGHTS)]  # type: ignore[valid-type]


class EularAcr2017IimRecord(Record):
    """Biopsy availability, age at onset (years; ``None`` = unknown) and the items present."""

    biopsy: bool
    age_at_onset: Annotated[Decimal, Field(ge=0, le=130)] | None
    items: tuple[ItemKey, ...] = ()


def _check_items(rec: EularAcr2017IimRecord) -> None:
    repeated = [item for item, count in Counter(rec.items).items() if count > 1]
    if repeated:
        raise InstrumentInputError("items", repeated[0], "each item at most once")
    biopsy_only = [item for item in rec.items if WEIGHTS[item][0] is None]
    if biopsy_only and not rec.biopsy:
        raise InstrumentInputError("items", biopsy_only[0], "bx_ items only when biopsy is true")


def age_points(age: Decimal, biopsy: bool) -> Decimal:
    """Points for the age at onset (none under 18)."""
    return next((points[biopsy] for low, points in AGE_POINTS if age >= low), Decimal(0))


def category(score: Decimal, biopsy: bool) -> str:
    """Category by score: definite, probable, possible or not_iim (a cut-off score reaches it)."""
    return next((label for cut, label in CATEGORY_CUTOFFS[biopsy] if score >= cut), "not_iim")


def score(record: Mapping[str, Any] | EularAcr2017IimRecord) -> InstrumentResult:
    """Score the 2017 criteria; ``score``, ``category_by_score`` and the biopsy-required flag."""
    rec = parse_record(EularAcr2017IimRecord, record)
    _check_items(rec)
    item_points = {item: WEIGHTS[item][rec.biopsy] for item in rec.items}
    biopsy_required = not any(item in SKIN_SIGNS or WEIGHTS[item][0] is None for item in rec.items)
    components: dict[str, Any] = {"items": {k: float(v) for k, v in item_points.items()}}
    if rec.age_at_onset is None:
        total = None
    else:
        age = age_points(rec.age_at_onset, rec.biopsy)
        total = age + sum(item_points.values(), Decimal(0))
        midpoint = PROBABILITY_MIDPOINT[rec.biopsy]
        components["age_points"] = float(age)
        components["probability"] = float(1 / (1 + (midpoint - total).exp()))
    return InstrumentResult(
        instrument="eular_acr_2017_iim",
        outputs={
            "score": None if total is None else float(total),
            "category_by_score": None if total is None else category(total, rec.biopsy),
            "biopsy_required_for_classification": biopsy_required,
        },
        components=components,
        provisional=() if total is None else (PROVISIONAL_PROBABILITY,),
    )


register(
    Instrument(
        key="eular_acr_2017_iim",
        title="2017 EULAR/ACR classification criteria for idiopathic inflammatory myopathies",
        score=score,
        record=EularAcr2017IimRecord,
        fields=(
            FieldSpec(
                name="biopsy",
                kind="bool",
                required=True,
                description="a muscle biopsy is available (selects the weight column)",
            ),
            FieldSpec(
                name="age_at_onset",
                kind="number",
                unit="years",
                allowed="0-130",
                required=True,
                description="age at the first symptom attributed to the disease",
            ),
            FieldSpec(
                name="items",
                kind="list[text]",
                allowed=", ".join(WEIGHTS),
                default=(),
                description="items ever present, each at most once; bx_ items need biopsy = true",
            ),
        ),
        status=Status.VERIFIED,
        source="Lundberg IE et al., Ann Rheum Dis 2017;76:1955-64",
        provisional_items=(PROVISIONAL_PROBABILITY,),
    )
)
