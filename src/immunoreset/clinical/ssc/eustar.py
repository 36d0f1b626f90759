"""Revised EUSTAR disease activity index for systemic sclerosis (status: VERIFIED).

Six weighted items are added into a 0-10 index: patient-reported worsening of the skin during the
previous month (1.5), mRSS above 18 (1.5), active digital ulcers (1.5), tendon friction rubs (2.25),
CRP above 1 mg/dL (2.25) and DLCO below 70 % of predicted (1.0). Disease is *active* at an index of
2.5 or more. Each item is strict: mRSS 18, CRP 1.0 mg/dL and DLCO 70 % all score 0.
Valentini G et al., Ann Rheum Dis 2017;76:270-6.

Every attainable index is a multiple of 0.25, so the sum is kept in integer quarter points and the
cut-off is compared exactly. Not to be confused with the older EScSG index (Valentini 2001/2003).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    NonNegative,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.ssc.mrss import MrssTotal, mrss_total_field
from immunoreset.clinical.units import lab

QUARTER_POINTS = {
    "delta_skin": 6,
    "mrss_gt_18": 6,
    "digital_ulcers": 6,
    "tendon_friction_rubs": 9,
    "crp_gt_1_mg_dl": 9,
    "dlco_lt_70": 4,
}
"""Item weights in quarter points (1.5 = 6 quarters); their total is 40 quarters = 10 points."""

ACTIVE_QUARTERS = 10
"""Activity cut-off, 2.5 points, in quarter points (index >= 2.5 means active disease)."""
MRSS_ABOVE = 18
CRP_ABOVE_MG_DL = Decimal(1)
DLCO_BELOW_PCT = Decimal(70)
CRP_FIELDS = ("crp_mg_dl", "crp_mg_l")


class EustarAiRecord(Record):
    """One visit; give CRP in exactly one unit. ``None`` in a numeric field = not evaluable."""

    delta_skin: bool = False
    mrss: MrssTotal | None
    digital_ulcers: bool = False
    tendon_friction_rubs: bool = False
    crp_mg_dl: lab("crp_mg_dl") | None = None
    crp_mg_l: lab("crp_mg_l") | None = None
    dlco_pct_pred: NonNegative | None


def _crp_mg_dl(rec: EustarAiRecord) -> Decimal | None:
    """The CRP in mg/dL from whichever single unit was given (10 mg/L = 1 mg/dL)."""
    given = [name for name in CRP_FIELDS if name in rec.model_fields_set]
    if len(given) != 1:
        raise InstrumentInputError(
            given[-1] if given else CRP_FIELDS[0],
            [getattr(rec, name) for name in given],
            "exactly one of crp_mg_dl or crp_mg_l",
        )
    value: Decimal | None = getattr(rec, given[0])
    if value is None or given[0] == "crp_mg_dl":
        return value
    return value / 10


def _above(value: Decimal | int | None, limit: Decimal | int) -> bool | None:
    return None if value is None else value > limit


def score(record: Mapping[str, Any] | EustarAiRecord) -> InstrumentResult:
    """Compute the revised EUSTAR activity index and whether disease is active.

    If the mRSS, CRP or DLCO is ``None`` the index and the activity state are ``None``.
    """
    rec = parse_record(EustarAiRecord, record)
    crp = _crp_mg_dl(rec)
    met: dict[str, bool | None] = {
        "delta_skin": rec.delta_skin,
        "mrss_gt_18": _above(rec.mrss, MRSS_ABOVE),
        "digital_ulcers": rec.digital_ulcers,
        "tendon_friction_rubs": rec.tendon_friction_rubs,
        "crp_gt_1_mg_dl": _above(crp, CRP_ABOVE_MG_DL),
        "dlco_lt_70": None if rec.dlco_pct_pred is None else rec.dlco_pct_pred < DLCO_BELOW_PCT,
    }
    points = {
        item: None if hit is None else (QUARTER_POINTS[item] / 4 if hit else 0.0)
        for item, hit in met.items()
    }
    if any(hit is None for hit in met.values()):
        outputs: dict[str, Any] = {"score": None, "active": None}
    else:
        quarters = sum(QUARTER_POINTS[item] for item, hit in met.items() if hit)
        outputs = {"score": quarters / 4, "active": quarters >= ACTIVE_QUARTERS}
    return InstrumentResult(
        instrument="eustar_ai_revised",
        outputs=outputs,
        components={"points": points, "crp_mg_dl": None if crp is None else float(crp)},
    )


register(
    Instrument(
        key="eustar_ai_revised",
        title="Revised EUSTAR disease activity index for systemic sclerosis",
        score=score,
        record=EustarAiRecord,
        fields=(
            FieldSpec(
                name="delta_skin",
                kind="bool",
                default=False,
                description="patient reports worse skin during the previous month",
            ),
            mrss_total_field("mrss", "modified Rodnan skin score; > 18 scores 1.5"),
            FieldSpec(
                name="digital_ulcers",
                kind="bool",
                default=False,
                description="active digital ulcers",
            ),
            FieldSpec(
                name="tendon_friction_rubs",
                kind="bool",
                default=False,
                description="tendon friction rubs",
            ),
            FieldSpec(
                name="crp_mg_dl",
                kind="number",
                unit="mg/dL",
                allowed=">= 0",
                description="C-reactive protein; give this or crp_mg_l (exactly one); > 1 mg/dL "
                "scores 2.25",
            ),
            FieldSpec(
                name="crp_mg_l",
                kind="number",
                unit="mg/L",
                allowed=">= 0",
                description="C-reactive protein; give this or crp_mg_dl (exactly one); > 10 mg/L "
                "scores 2.25",
            ),
            FieldSpec(
                name="dlco_pct_pred",
                kind="number",
                unit="% predicted",
                allowed=">= 0",
                required=True,
                description="diffusing capacity for carbon monoxide; < 70 % scores 1.0",
            ),
        ),
        status=Status.VERIFIED,
        source="Valentini G et al., Ann Rheum Dis 2017;76:270-6",
    )
)
