"""2019 EULAR/ACR classification criteria for SLE (registry key ``eular_acr_2019_sle``).

Status: VERIFIED. Aringer M et al. 2019 European League Against Rheumatism/American College of
Rheumatology classification criteria for systemic lupus erythematosus. Ann Rheum Dis
2019;78:1151-9 (also Arthritis Rheumatol 2019;71:1400-12).

Entry requires an antinuclear antibody titre of at least 1:80 on HEp-2 cells, or an equivalent
positive test, at any time. Weighted criteria are grouped in seven clinical and three immunological
domains; a criterion counts if it ever occurred and is not better explained by another condition,
and criteria need not be simultaneous. Within a domain only the highest-weighted criterion counts;
the score is the sum of the domain maxima (0-51) and is reported even when entry fails. A patient is
classified as having SLE when entry is met, at least one clinical criterion is present and the score
is at least 10. Immunological points alone (at most 12) never classify.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BeforeValidator

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
from immunoreset.clinical.sle.common import in_table_order, one_of, require_known
from immunoreset.clinical.units import lab

KEY = "eular_acr_2019_sle"
ENTRY_TITER_DENOMINATOR = 80
CLASSIFICATION_SCORE = 10


@dataclass(frozen=True)
class Criterion:
    """One weighted criterion and its domain."""

    key: str
    domain: str
    weight: int
    clinical: bool


def _domain(domain: str, clinical: bool, *weights: tuple[str, int]) -> tuple[Criterion, ...]:
    return tuple(Criterion(key, domain, weight, clinical) for key, weight in weights)


CRITERIA: tuple[Criterion, ...] = (
    *_domain("constitutional", True, ("fever", 2)),
    *_domain(
        "haematological",
        True,
        ("leukopenia", 3),
        ("thrombocytopenia", 4),
        ("autoimmune_hemolysis", 4),
    ),
    *_domain("neuropsychiatric", True, ("delirium", 2), ("psychosis", 3), ("seizure", 5)),
    *_domain(
        "mucocutaneous",
        True,
        ("non_scarring_alopecia", 2),
        ("oral_ulcers", 2),
        ("subacute_cutaneous_or_discoid_lupus", 4),
        ("acute_cutaneous_lupus", 6),
    ),
    *_domain("serosal", True, ("pleural_or_pericardial_effusion", 5), ("acute_pericarditis", 6)),
    *_domain("musculoskeletal", True, ("joint_involvement", 6)),
    *_domain(
        "renal",
        True,
        ("proteinuria_gt_0_5_g_24h", 4),
        ("lupus_nephritis_class_II_or_V", 8),
        ("lupus_nephritis_class_III_or_IV", 10),
    ),
    *_domain("antiphospholipid_antibodies", False, ("antiphospholipid_antibodies", 2)),
    *_domain("complement", False, ("low_c3_or_low_c4", 3), ("low_c3_and_low_c4", 4)),
    *_domain("sle_specific_antibodies", False, ("anti_dsdna_or_anti_smith", 6)),
)
"""The 21 weighted criteria: fever > 38.3 C, WBC < 4.0 x10^9/L, platelets < 100 x10^9/L,
proteinuria > 0.5 g/24 h, nephritis by ISN/RPS biopsy class; the rest as named."""

CRITERIA_BY_KEY: Mapping[str, Criterion] = MappingProxyType({c.key: c for c in CRITERIA})

CRITERION_TEXT = "2019 EULAR/ACR SLE criterion keys"
CriterionKey = Annotated[str, one_of(CRITERIA_BY_KEY, CRITERION_TEXT)]


def titre_denominator(value: object) -> object:
    """An ANA titre written ``1:80`` (as laboratories report it) read as its denominator, 80.

    Booleans are refused (a yes/no tick is not a titre); other values go on to the number check.
    """
    if isinstance(value, bool):
        raise ValueError("a titre denominator such as 80 (or 1:80), not yes/no")
    if isinstance(value, str) and ":" in value:
        head, _, tail = value.partition(":")
        if head.strip() != "1":
            raise ValueError("a titre written 1:N (e.g. 1:80) or its denominator N")
        return tail.strip()
    return value


AnaTitre = Annotated[lab("ana_titre", int), BeforeValidator(titre_denominator)]
"""The denominator of the highest ANA titre (80 for 1:80), plausible as a titre."""


class SleClassificationRecord(Record):
    """ANA entry data (at least one of the two fields) and the criteria ever present."""

    ana_titer_denominator: AnaTitre | None = None
    ana_equivalent_positive: bool | None = None
    criteria: tuple[CriterionKey, ...]


def domain_points(criteria: Iterable[str]) -> dict[str, int]:
    """Highest weight among the listed criteria of each domain that has one.

    Unknown criterion keys raise :class:`InstrumentInputError`.
    """
    present = set(criteria)
    require_known(present, CRITERIA_BY_KEY, "criteria", CRITERION_TEXT)
    points: dict[str, int] = {}
    for key in present:
        c = CRITERIA_BY_KEY[key]
        points[c.domain] = max(points.get(c.domain, 0), c.weight)
    return {c.domain: points[c.domain] for c in CRITERIA if c.domain in points}


def score(record: Mapping[str, Any] | SleClassificationRecord) -> InstrumentResult:
    """Apply the 2019 EULAR/ACR SLE classification criteria.

    Outputs ``entry_criterion``, ``score``, ``has_clinical_criterion`` and ``classified_sle``.
    Raises :class:`InstrumentInputError` naming ``ana_titer_denominator`` when neither ANA field is
    given.
    """
    rec = parse_record(SleClassificationRecord, record)
    titer = rec.ana_titer_denominator
    if titer is None and rec.ana_equivalent_positive is None:
        raise InstrumentInputError(
            "ana_titer_denominator",
            None,
            "an ANA titre denominator (e.g. 80) or ana_equivalent_positive; at least one is needed",
        )
    entry = (titer is not None and titer >= ENTRY_TITER_DENOMINATOR) or bool(
        rec.ana_equivalent_positive
    )
    counted = in_table_order(rec.criteria, CRITERIA_BY_KEY)
    points = domain_points(counted)
    total = sum(points.values())
    clinical = any(CRITERIA_BY_KEY[key].clinical for key in counted)
    return InstrumentResult(
        instrument=KEY,
        outputs={
            "entry_criterion": entry,
            "score": total,
            "has_clinical_criterion": clinical,
            "classified_sle": entry and clinical and total >= CLASSIFICATION_SCORE,
        },
        components={"criteria": counted, "domain_points": points},
    )


FIELDS = (
    FieldSpec(
        "ana_titer_denominator",
        "titre",
        "1:x",
        "0, or 10-100000 (1:80 or 80)",
        description="highest ANA titre on HEp-2 cells ever, as its denominator (80 for 1:80); "
        "this or ana_equivalent_positive is required",
    ),
    FieldSpec(
        "ana_equivalent_positive",
        "bool",
        description="an equivalent positive ANA test ever (empty = not done, counts as negative)",
    ),
    FieldSpec(
        "criteria",
        "list[text]",
        allowed=", ".join(CRITERIA_BY_KEY),
        required=True,
        description="criteria that ever occurred and are not better explained otherwise "
        "(may be empty)",
    ),
)

INSTRUMENT = register(
    Instrument(
        key=KEY,
        title="2019 EULAR/ACR classification criteria for SLE",
        score=score,
        record=SleClassificationRecord,
        fields=FIELDS,
        status=Status.VERIFIED,
        source="Aringer M et al. Ann Rheum Dis 2019;78:1151-9",
    )
)
