"""SLEDAI-2K and clinical SLEDAI (registry key ``sledai_2k``).

Status: VERIFIED. Gladman DD, Ibanez D, Urowitz MB. Systemic lupus erythematosus disease activity
index 2000. J Rheumatol 2002;29:288-91. The 30-day window variant: Touma Z, Urowitz MB, Gladman DD,
Lupus 2010;19:49-51.

The index adds fixed weights (8, 4, 2 or 1) for each of 24 descriptors of lupus activity that were
present at the visit or at any time in the preceding window (10 days by default) and that are
attributable to lupus. Unlike the 1992 SLEDAI, the 2000 revision also counts rash, alopecia, mucosal
ulcers and proteinuria that persist, not only new ones. The maximum is 105. Clinical SLEDAI is the
same sum without the two serological descriptors (low complement, raised anti-dsDNA binding), which
is the quantity the DORIS remission definition uses; its maximum is 101.

Measured values may switch a descriptor on through its strict threshold (fever above 38 C, platelets
below 100 x10^9/L, ...), but never off; the caller is responsible for excluding other causes.

Configurable choices (CONVENTION, reported with every result):

* ``options.arthritis_rule``: ``">=2"`` inflamed joints (SLEDAI-2K glossary, default) or ``">2"``
  (wording of the 1992 SLEDAI);
* ``options.window_days``: 10 (default) or 30 days of data; item definitions are unchanged;
* ``options.variant``: ``"SLEDAI-2K"`` (default) or ``"SELENA-SLEDAI"``, a label only (same
  weights).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    NonNegativeInteger,
    Record,
    Status,
    integer_in,
    parse_record,
    register,
)
from immunoreset.clinical.sle.common import (
    in_table_order,
    meets,
    one_of,
    require_known,
)
from immunoreset.clinical.units import lab

KEY = "sledai_2k"


@dataclass(frozen=True)
class SledaiDescriptor:
    """One SLEDAI-2K descriptor: its key, weight and a short definition."""

    key: str
    weight: int
    definition: str


SLEDAI_DESCRIPTORS: tuple[SledaiDescriptor, ...] = (
    SledaiDescriptor(
        "seizure", 8, "recent-onset seizure; metabolic, infective, drug causes excluded"
    ),
    SledaiDescriptor(
        "psychosis", 8, "severely disturbed perception of reality; uraemia and drugs excluded"
    ),
    SledaiDescriptor(
        "organic_brain_syndrome",
        8,
        "rapid-onset fluctuating impairment of orientation, memory or intellect with clouded "
        "consciousness and at least 2 further features; metabolic, infective, drug causes excluded",
    ),
    SledaiDescriptor(
        "visual_disturbance", 8, "retinal changes of lupus or optic neuritis; other causes excluded"
    ),
    SledaiDescriptor("cranial_nerve_disorder", 8, "new sensory or motor cranial neuropathy"),
    SledaiDescriptor("lupus_headache", 8, "severe persistent headache not relieved by opioids"),
    SledaiDescriptor("cva", 8, "new stroke; arteriosclerosis excluded"),
    SledaiDescriptor(
        "vasculitis", 8, "ulceration, gangrene, digital nodules, infarcts, or proven vasculitis"
    ),
    SledaiDescriptor("arthritis", 4, "painful inflamed joints (2 or more under the default rule)"),
    SledaiDescriptor(
        "myositis", 4, "proximal aching or weakness with raised CK/aldolase, EMG or biopsy changes"
    ),
    SledaiDescriptor("urinary_casts", 4, "haem-granular or red-cell casts"),
    SledaiDescriptor(
        "hematuria", 4, "more than 5 red cells per high-power field; other causes out"
    ),
    SledaiDescriptor("proteinuria", 4, "more than 0.5 g per 24 h"),
    SledaiDescriptor("pyuria", 4, "more than 5 white cells per high-power field; infection out"),
    SledaiDescriptor("rash", 2, "inflammatory-type rash"),
    SledaiDescriptor("alopecia", 2, "abnormal patchy or diffuse hair loss"),
    SledaiDescriptor("mucosal_ulcers", 2, "oral or nasal ulcers"),
    SledaiDescriptor("pleurisy", 2, "pleuritic pain with rub, effusion or pleural thickening"),
    SledaiDescriptor("pericarditis", 2, "pericardial pain with rub, effusion, ECG or echo proof"),
    SledaiDescriptor("low_complement", 2, "CH50, C3 or C4 below the laboratory lower limit"),
    SledaiDescriptor("increased_dna_binding", 2, "anti-dsDNA above the laboratory normal range"),
    SledaiDescriptor("fever", 1, "temperature above 38 C; infection excluded"),
    SledaiDescriptor("thrombocytopenia", 1, "platelets below 100 x10^9/L; drugs excluded"),
    SledaiDescriptor("leukopenia", 1, "white cells below 3 x10^9/L; drugs excluded"),
)

SLEDAI_WEIGHTS: Mapping[str, int] = MappingProxyType({d.key: d.weight for d in SLEDAI_DESCRIPTORS})
"""Descriptor key -> SLEDAI-2K weight, in the order of the published form."""

SEROLOGY_ITEMS: frozenset[str] = frozenset({"low_complement", "increased_dna_binding"})
"""The serological descriptors that clinical SLEDAI leaves out."""

SLEDAI_2K_MAX = sum(SLEDAI_WEIGHTS.values())
CLINICAL_SLEDAI_MAX = SLEDAI_2K_MAX - sum(SLEDAI_WEIGHTS[key] for key in SEROLOGY_ITEMS)

SLEDAI_ITEM_TEXT = "SLEDAI-2K descriptor keys"
SledaiItem = Annotated[str, one_of(SLEDAI_WEIGHTS, SLEDAI_ITEM_TEXT)]
SledaiTotal = integer_in(0, SLEDAI_2K_MAX)
ClinicalSledaiTotal = integer_in(0, CLINICAL_SLEDAI_MAX)
SledaiVariant = Literal["SLEDAI-2K", "SELENA-SLEDAI"]
ArthritisRule = Literal[">=2", ">2"]

RAW_TRIGGERS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "temp_c": ("fever", ">38"),
        "platelets_1e9_L": ("thrombocytopenia", "<100"),
        "wbc_1e9_L": ("leukopenia", "<3"),
        "proteinuria_g_24h": ("proteinuria", ">0.5"),
        "rbc_per_hpf": ("hematuria", ">5"),
        "wbc_per_hpf": ("pyuria", ">5"),
    }
)
"""Raw field -> (descriptor it switches on, strict threshold). Arthritis follows the option."""


class SledaiRaw(Record):
    """Measured values that switch their descriptor on when past its threshold (all optional)."""

    temp_c: Annotated[Decimal, Field(ge=25, le=45)] | None = None
    platelets_1e9_L: lab("platelets_1e9_L") | None = None  # noqa: N815
    wbc_1e9_L: lab("wbc_1e9_L") | None = None  # noqa: N815
    proteinuria_g_24h: lab("proteinuria_g_24h") | None = None
    rbc_per_hpf: lab("cells_per_hpf") | None = None
    wbc_per_hpf: lab("cells_per_hpf") | None = None
    inflamed_joint_count: NonNegativeInteger | None = None


class SledaiOptions(Record):
    """Configurable choices of SLEDAI-2K (CONVENTION; defaults as in the specification)."""

    arthritis_rule: ArthritisRule = ">=2"
    window_days: Literal[10, 30] = 10
    variant: SledaiVariant = "SLEDAI-2K"


class SledaiRecord(Record):
    """One visit: descriptors judged present in the window, optional raw values, options."""

    items: tuple[SledaiItem, ...]
    raw: SledaiRaw = SledaiRaw()
    options: SledaiOptions = SledaiOptions()


def sledai_points(items: Iterable[str], *, clinical: bool = False) -> int:
    """Sum of the weights of the distinct descriptors in ``items``.

    With ``clinical=True`` the serological descriptors are left out (clinical SLEDAI). Unknown keys
    raise :class:`InstrumentInputError`.
    """
    present = set(items)
    require_known(present, SLEDAI_WEIGHTS, "items", SLEDAI_ITEM_TEXT)
    return sum(SLEDAI_WEIGHTS[key] for key in present if not (clinical and key in SEROLOGY_ITEMS))


def raw_items(raw: SledaiRaw, arthritis_rule: ArthritisRule = ">=2") -> tuple[str, ...]:
    """Descriptors that the measured values in ``raw`` switch on, in form order."""
    triggers = {**RAW_TRIGGERS, "inflamed_joint_count": ("arthritis", arthritis_rule)}
    switched = (
        descriptor
        for name, (descriptor, rule) in triggers.items()
        if (value := getattr(raw, name)) is not None and meets(value, rule)
    )
    return in_table_order(switched, SLEDAI_WEIGHTS)


def contradictions(items: Iterable[str], raw: SledaiRaw, arthritis_rule: str) -> tuple[str, ...]:
    """Flags for descriptors listed as present whose measured value says absent.

    A listed descriptor still scores (it may have been present earlier in the window, or the raw
    value may be a different measurement), but a proteinuria of 0.1 g/24 h next to a ticked
    proteinuria, or one inflamed joint next to arthritis under the ``">2"`` rule, is usually a
    data-entry slip, so the result names it: ``<descriptor>_listed_but_raw_value_absent``.
    """
    listed = set(items)
    triggers = {**RAW_TRIGGERS, "inflamed_joint_count": ("arthritis", arthritis_rule)}
    return tuple(
        f"{descriptor}_listed_but_raw_value_absent"
        for name, (descriptor, rule) in triggers.items()
        if descriptor in listed
        and (value := getattr(raw, name)) is not None
        and not meets(value, rule)
    )


def score(record: Mapping[str, Any] | SledaiRecord) -> InstrumentResult:
    """Score SLEDAI-2K and clinical SLEDAI for one visit.

    Outputs ``sledai_2k`` (0-105) and ``clinical_sledai`` (0-101). Components list the descriptors
    that scored with their weights and those switched on by raw values; flags name listed
    descriptors that their raw value contradicts (:func:`contradictions`).
    """
    rec = parse_record(SledaiRecord, record)
    from_raw = raw_items(rec.raw, rec.options.arthritis_rule)
    present = in_table_order((*rec.items, *from_raw), SLEDAI_WEIGHTS)
    return InstrumentResult(
        instrument=KEY,
        outputs={
            "sledai_2k": sledai_points(present),
            "clinical_sledai": sledai_points(present, clinical=True),
        },
        components={
            "scored": {key: SLEDAI_WEIGHTS[key] for key in present},
            "from_raw": from_raw,
        },
        flags=contradictions(rec.items, rec.raw, rec.options.arthritis_rule),
        options=rec.options.model_dump(),
    )


ITEM_KEYS_TEXT = ", ".join(SLEDAI_WEIGHTS)

FIELDS = (
    FieldSpec(
        "items",
        "list[text]",
        allowed=ITEM_KEYS_TEXT,
        required=True,
        description="descriptors present in the window and attributable to lupus (may be empty); "
        "duplicates count once",
    ),
    FieldSpec("raw.temp_c", "number", "degC", "25-45", description="fever if above 38"),
    FieldSpec(
        "raw.platelets_1e9_L", "number", "x10^9/L", ">= 0", description="thrombocytopenia if < 100"
    ),
    FieldSpec("raw.wbc_1e9_L", "number", "x10^9/L", ">= 0", description="leukopenia if below 3"),
    FieldSpec(
        "raw.proteinuria_g_24h", "number", "g/24 h", ">= 0", description="proteinuria if > 0.5"
    ),
    FieldSpec("raw.rbc_per_hpf", "number", "cells/hpf", ">= 0", description="hematuria if > 5"),
    FieldSpec("raw.wbc_per_hpf", "number", "cells/hpf", ">= 0", description="pyuria if above 5"),
    FieldSpec(
        "raw.inflamed_joint_count",
        "integer",
        "joints",
        ">= 0",
        description="arthritis if the count meets options.arthritis_rule",
    ),
)

OPTION_FIELDS = (
    FieldSpec(
        "options.arthritis_rule",
        "enum",
        allowed=">=2, >2",
        default=">=2",
        description="inflamed joints needed for arthritis (SLEDAI-2K >=2; 1992 SLEDAI >2)",
    ),
    FieldSpec(
        "options.window_days",
        "integer",
        "days",
        "10, 30",
        default=10,
        description="data window before the visit; item definitions unchanged",
    ),
    FieldSpec(
        "options.variant",
        "enum",
        allowed="SLEDAI-2K, SELENA-SLEDAI",
        default="SLEDAI-2K",
        description="label of the index version (same weights)",
    ),
)

INSTRUMENT = register(
    Instrument(
        key=KEY,
        title="SLEDAI-2K and clinical SLEDAI",
        score=score,
        record=SledaiRecord,
        fields=FIELDS,
        status=Status.VERIFIED,
        source="Gladman DD, Ibanez D, Urowitz MB. J Rheumatol 2002;29:288-91",
        option_fields=OPTION_FIELDS,
    )
)
