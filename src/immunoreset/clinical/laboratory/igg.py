"""Hypogammaglobulinaemia from a serum IgG measurement.

Sources: Otani IM et al., Practical guidance for the diagnosis and management of secondary
hypogammaglobulinemia: a Work Group Report of the AAAAI, J Allergy Clin Immunol 2022;149:1525-1560
(replacement considered for IgG below 400 mg/dL with recurrent infection); Hill JA, Seo SK, How I
prevent infections in patients receiving CD19-targeted chimeric antigen receptor T cells for B-cell
malignancies, Blood 2020;136:925-935 (IgG before CAR-T and within 3 months; replacement considered
at or below 400 mg/dL). Both are tabulated in Table 1 of PMC11272770.

Status: the 4.0 g/L (400 mg/dL) threshold is VERIFIED. CONVENTION: whether exactly 4.0 g/L is severe
(``severe_rule``, default strict ``"<"``), the laboratory lower limit of normal (``igg_lln_g_L``,
default 7.0 g/L) and the 28-day window after immunoglobulin replacement in which a sample reflects
the infused IgG rather than the patient's own (``ivig_window_days``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    NonNegativeInteger,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.laboratory.measures import one_of_units, plain
from immunoreset.clinical.units import lab

KEY = "hypogammaglobulinemia"
SOURCE = (
    "Otani IM et al., J Allergy Clin Immunol 2022;149:1525-1560 (AAAAI work group); "
    "Hill JA, Seo SK, Blood 2020;136:925-935"
)
MG_DL_PER_G_L = Decimal(100)
IggThreshold = lab("igg_threshold_g_L")
"""An IgG threshold in g/L (> 0, plausible in g/L)."""


class IggRecord(Record):
    """One serum IgG sample (exactly one of g/L or mg/dL) and the thresholds applied to it."""

    igg_g_L: lab("igg_g_L") | None = None  # noqa: N815 (unit spelling of the specification)
    igg_mg_dL: lab("igg_mg_dL") | None = None  # noqa: N815
    igg_lln_g_L: IggThreshold = Decimal("7.0")  # noqa: N815
    severe_rule: Literal["<", "<="] = "<"
    severe_threshold_g_L: IggThreshold = Decimal("4.0")  # noqa: N815
    days_since_ivig: NonNegativeInteger | None = None
    ivig_window_days: NonNegativeInteger = 28


def score(record: Mapping[str, Any] | IggRecord) -> InstrumentResult:
    """Severe hypogammaglobulinaemia, IgG below the LLN, and confounding by recent replacement."""
    rec = parse_record(IggRecord, record)
    igg = one_of_units(rec, "igg_g_L", "igg_mg_dL", MG_DL_PER_G_L)
    threshold = rec.severe_threshold_g_L
    severe = igg < threshold or (rec.severe_rule == "<=" and igg == threshold)
    confounded = rec.days_since_ivig is not None and rec.days_since_ivig <= rec.ivig_window_days
    return InstrumentResult(
        instrument=KEY,
        outputs={
            "severe_hypogammaglobulinemia": severe,
            "below_lln": igg < rec.igg_lln_g_L,
            "ivig_confounded": confounded,
        },
        components={"igg_g_L": float(igg)},
        options={
            "severe_rule": rec.severe_rule,
            "severe_threshold_g_L": plain(threshold),
            "igg_lln_g_L": plain(rec.igg_lln_g_L),
            "ivig_window_days": rec.ivig_window_days,
        },
    )


register(
    Instrument(
        key=KEY,
        title="Hypogammaglobulinaemia (serum IgG)",
        score=score,
        record=IggRecord,
        fields=(
            FieldSpec("igg_g_L", "number", "g/L", ">= 0", description="or give igg_mg_dL"),
            FieldSpec("igg_mg_dL", "number", "mg/dL", ">= 0", description="or give igg_g_L"),
            FieldSpec(
                "days_since_ivig",
                "integer",
                "days",
                ">= 0",
                description="days since the last immunoglobulin replacement; empty = none given",
            ),
        ),
        status=Status.CONVENTION,
        source=SOURCE,
        option_fields=(
            FieldSpec(
                "severe_rule",
                "enum",
                allowed="<, <=",
                default="<",
                description="CONVENTION: severe iff IgG < threshold, or <= threshold",
            ),
            FieldSpec(
                "severe_threshold_g_L",
                "number",
                "g/L",
                "> 0",
                default=4.0,
                description="severe hypogammaglobulinaemia threshold (VERIFIED 4.0 g/L)",
            ),
            FieldSpec(
                "igg_lln_g_L",
                "number",
                "g/L",
                "> 0",
                default=7.0,
                description="CONVENTION: laboratory lower limit of normal (below = strict <)",
            ),
            FieldSpec(
                "ivig_window_days",
                "integer",
                "days",
                ">= 0",
                default=28,
                description="CONVENTION: replacement this recent or more recent confounds the IgG",
            ),
        ),
    )
)
