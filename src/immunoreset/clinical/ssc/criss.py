"""ACR Composite Response Index in Systemic Sclerosis (ACR-CRISS).

Status: two-step structure, coefficient magnitudes and the 0.60 cut-off VERIFIED; the coefficient
signs and the 0-10 scale of both global assessments are PROVISIONAL (register item P6).

Step 1: a patient who, during the trial and attributable to SSc, develops a new scleroderma renal
crisis, new left-ventricular failure (LVEF <= 45 %) needing treatment, new pulmonary arterial
hypertension needing treatment, or a confirmed relative FVC decline of at least 15 % with ILD on
HRCT and a follow-up FVC below 80 % predicted, has probability 0 and has not improved.
Step 2: otherwise the probability of improvement is the logistic function of
``L = -5.54 - 0.81 dmRSS + 0.21 dFVC% - 0.40 dPtGlobal - 0.44 dMDGlobal - 3.41 dHAQ``
(changes are follow-up minus baseline); the patient has improved when that probability is at least
0.60. L is computed in exact decimals and compared with ``ln(0.6 / 0.4)``.
Khanna D et al., Arthritis Rheumatol 2016;68:299-311.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.exact import reaches_percent

PROVISIONAL_SIGNS = "P6"
"""PROVISIONAL: coefficient signs and the 0-10 range of both global assessments."""

INTERCEPT = Decimal("-5.54")
COEFFICIENTS = {
    "d_mrss": Decimal("-0.81"),
    "d_fvc_pct": Decimal("0.21"),
    "d_pt_global": Decimal("-0.40"),
    "d_md_global": Decimal("-0.44"),
    "d_haq": Decimal("-3.41"),
}
"""Step-2 logistic coefficients (signs PROVISIONAL, P6)."""
IMPROVED_PROBABILITY = Decimal("0.60")
IMPROVED_LOGIT = (IMPROVED_PROBABILITY / (1 - IMPROVED_PROBABILITY)).ln()
FVC_DECLINE_PERCENT = 15
FVC_FOLLOWUP_BELOW = 80

MrssChange = Annotated[Decimal, Field(ge=-51, le=51)]
GlobalChange = Annotated[Decimal, Field(ge=-10, le=10)]
HaqChange = Annotated[Decimal, Field(ge=-3, le=3)]


class FvcDecline(Record):
    """FVC % predicted at baseline and follow-up, with the confirmation and HRCT findings."""

    baseline: Annotated[Decimal, Field(gt=0)]
    followup: Annotated[Decimal, Field(ge=0)]
    confirmed: bool = False
    hrct_ild: bool = False


class CrissStep1(Record):
    """Step-1 events attributable to SSc (all default false: no event)."""

    new_renal_crisis: bool = False
    fvc_decline: FvcDecline | None = None
    new_lv_failure_lvef_le45_requiring_treatment: bool = False
    new_pah_requiring_treatment: bool = False


class AcrCrissRecord(Record):
    """Step-1 events and the five baseline-to-follow-up changes (``None`` = not evaluable)."""

    step1: CrissStep1 = CrissStep1()
    d_mrss: MrssChange | None
    d_fvc_pct: Decimal | None
    d_pt_global: GlobalChange | None
    d_md_global: GlobalChange | None
    d_haq: HaqChange | None


def _fvc_trigger(fvc: FvcDecline | None) -> bool:
    """Confirmed relative FVC decline >= 15 % with ILD on HRCT and follow-up FVC < 80 %."""
    return (
        fvc is not None
        and reaches_percent(fvc.baseline - fvc.followup, fvc.baseline, FVC_DECLINE_PERCENT)
        and fvc.confirmed
        and fvc.hrct_ild
        and fvc.followup < FVC_FOLLOWUP_BELOW
    )


def step1_events(step1: CrissStep1) -> list[str]:
    """Names of the step-1 events present (any one forces probability 0)."""
    events = {
        "new_renal_crisis": step1.new_renal_crisis,
        "fvc_decline": _fvc_trigger(step1.fvc_decline),
        "new_lv_failure_lvef_le45_requiring_treatment": (
            step1.new_lv_failure_lvef_le45_requiring_treatment
        ),
        "new_pah_requiring_treatment": step1.new_pah_requiring_treatment,
    }
    return [name for name, present in events.items() if present]


def score(record: Mapping[str, Any] | AcrCrissRecord) -> InstrumentResult:
    """ACR-CRISS ``probability`` of improvement and ``improved`` (probability >= 0.60)."""
    rec = parse_record(AcrCrissRecord, record)
    events = step1_events(rec.step1)
    if events:
        return InstrumentResult(
            instrument="acr_criss",
            outputs={"probability": 0.0, "improved": False},
            components={"step1_events": events},
        )
    changes = {name: getattr(rec, name) for name in COEFFICIENTS}
    if any(value is None for value in changes.values()):
        return InstrumentResult(
            instrument="acr_criss",
            outputs={"probability": None, "improved": None},
            components={"step1_events": events},
        )
    logit = INTERCEPT + sum(COEFFICIENTS[name] * value for name, value in changes.items())
    return InstrumentResult(
        instrument="acr_criss",
        outputs={
            "probability": float(1 / (1 + (-logit).exp())),
            "improved": logit >= IMPROVED_LOGIT,
        },
        components={"step1_events": events, "logit": float(logit)},
        provisional=(PROVISIONAL_SIGNS,),
    )


def _event(name: str, description: str) -> FieldSpec:
    return FieldSpec(name=f"step1.{name}", kind="bool", default=False, description=description)


def _fvc(name: str, kind: str, description: str) -> FieldSpec:
    return FieldSpec(
        name=f"step1.fvc_decline.{name}",
        kind=kind,
        unit="% predicted" if kind == "number" else "",
        default=None if kind == "number" else False,
        description=description + " (only when an FVC decline is reported)",
    )


def _change_field(name: str, unit: str, allowed: str, description: str) -> FieldSpec:
    return FieldSpec(
        name=name,
        kind="number",
        unit=unit,
        allowed=allowed,
        required=True,
        description=description + " (follow-up minus baseline)",
    )


register(
    Instrument(
        key="acr_criss",
        title="ACR Composite Response Index in Systemic Sclerosis (ACR-CRISS)",
        score=score,
        record=AcrCrissRecord,
        fields=(
            _event("new_renal_crisis", "new scleroderma renal crisis"),
            _fvc("baseline", "number", "FVC at baseline, > 0"),
            _fvc("followup", "number", "FVC at follow-up"),
            _fvc("confirmed", "bool", "decline confirmed by a repeat FVC within one month"),
            _fvc("hrct_ild", "bool", "interstitial lung disease on HRCT"),
            _event(
                "new_lv_failure_lvef_le45_requiring_treatment",
                "new left-ventricular failure, LVEF <= 45 %, needing treatment",
            ),
            _event(
                "new_pah_requiring_treatment",
                "new PAH on right-heart catheterisation needing treatment",
            ),
            _change_field("d_mrss", "points", "-51 to 51", "change in mRSS"),
            _change_field("d_fvc_pct", "% predicted", "", "change in FVC % predicted"),
            _change_field(
                "d_pt_global",
                "0-10 scale",
                "-10 to 10",
                "change in patient global assessment (0-10 scale PROVISIONAL, P6)",
            ),
            _change_field(
                "d_md_global",
                "0-10 scale",
                "-10 to 10",
                "change in physician global assessment (0-10 scale PROVISIONAL, P6)",
            ),
            _change_field("d_haq", "HAQ-DI points", "-3 to 3", "change in HAQ-DI"),
        ),
        status=Status.PROVISIONAL,
        source="Khanna D et al., Arthritis Rheumatol 2016;68:299-311",
        provisional_items=(PROVISIONAL_SIGNS,),
    )
)
