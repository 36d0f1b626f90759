"""2013 ACR/EULAR classification criteria for systemic sclerosis (status: VERIFIED).

Skin thickening of the fingers of both hands that extends proximal to the MCP joints is sufficient
on its own (9 points). Otherwise seven categories are scored, each contributing only its highest
item: finger skin thickening (sclerodactyly 4, else puffy fingers 2), fingertip lesions (pitting
scars 3, else digital tip ulcers 2), telangiectasia 2, abnormal nailfold capillaries 2, PAH and/or
ILD 2, Raynaud's phenomenon 3, and any SSc-related autoantibody (anticentromere, anti-topoisomerase
I, anti-RNA polymerase III) 3. A total of 9 or more classifies as SSc. The criteria do not apply to
skin thickening that spares the fingers or to a scleroderma-like disorder that better explains the
findings; then nothing is classified (``None``), which differs from a negative classification.
Items are cumulative: each counts if it was ever present.
van den Hoogen F et al., Ann Rheum Dis 2013;72:1747-55 (and Arthritis Rheum 2013;65:2737-47).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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

CLASSIFICATION_CUTOFF = 9

CATEGORIES: dict[str, tuple[tuple[str, int], ...]] = {
    "finger_skin_thickening": (
        ("skin_proximal_to_mcp", 9),
        ("sclerodactyly", 4),
        ("puffy_fingers", 2),
    ),
    "fingertip_lesions": (("pitting_scars", 3), ("digital_tip_ulcers", 2)),
    "telangiectasia": (("telangiectasia", 2),),
    "abnormal_nailfold_capillaries": (("abnormal_nailfold_capillaries", 2),),
    "pah_or_ild": (("pah", 2), ("ild", 2)),
    "raynaud": (("raynaud", 3),),
    "ssc_autoantibodies": (
        ("anticentromere", 3),
        ("anti_topoisomerase_i", 3),
        ("anti_rna_polymerase_iii", 3),
    ),
}
"""Each category's items, highest first; a category scores its first item present, else 0."""

EXCLUSIONS = ("skin_thickening_sparing_fingers", "better_explained_by_mimic")


class AcrEular2013SscRecord(Record):
    """Items ever present (all default false) and the two applicability exclusions."""

    skin_proximal_to_mcp: bool = Field(
        False,
        description="skin thickening of the fingers of both hands extending proximal to the MCP "
        "joints (sufficient alone)",
    )
    puffy_fingers: bool = Field(False, description="puffy fingers")
    sclerodactyly: bool = Field(
        False, description="skin thickening distal to the MCP but proximal to the PIP joints"
    )
    digital_tip_ulcers: bool = Field(False, description="digital tip ulcers")
    pitting_scars: bool = Field(False, description="fingertip pitting scars")
    telangiectasia: bool = Field(False, description="telangiectasia")
    abnormal_nailfold_capillaries: bool = Field(False, description="abnormal nailfold capillaries")
    pah: bool = Field(False, description="pulmonary arterial hypertension")
    ild: bool = Field(False, description="interstitial lung disease")
    raynaud: bool = Field(False, description="Raynaud's phenomenon")
    anticentromere: bool = Field(False, description="anticentromere antibodies")
    anti_topoisomerase_i: bool = Field(
        False, description="anti-topoisomerase I (anti-Scl-70) antibodies"
    )
    anti_rna_polymerase_iii: bool = Field(False, description="anti-RNA polymerase III antibodies")
    skin_thickening_sparing_fingers: bool = Field(
        False, description="exclusion: skin thickening that spares the fingers"
    )
    better_explained_by_mimic: bool = Field(
        False, description="exclusion: a scleroderma-like disorder better explains the findings"
    )


def _category_points(rec: AcrEular2013SscRecord, ladder: tuple[tuple[str, int], ...]) -> int:
    return next((points for item, points in ladder if getattr(rec, item)), 0)


def score(record: Mapping[str, Any] | AcrEular2013SscRecord) -> InstrumentResult:
    """Apply the 2013 criteria: ``applicable``, ``score`` (0-24) and ``classified_ssc``."""
    rec = parse_record(AcrEular2013SscRecord, record)
    excluded = [name for name in EXCLUSIONS if getattr(rec, name)]
    if excluded:
        return InstrumentResult(
            instrument="acr_eular_2013_ssc",
            outputs={"applicable": False, "score": None, "classified_ssc": None},
            components={"excluded_by": excluded},
        )
    categories = {name: _category_points(rec, ladder) for name, ladder in CATEGORIES.items()}
    total = sum(categories.values())
    return InstrumentResult(
        instrument="acr_eular_2013_ssc",
        outputs={
            "applicable": True,
            "score": total,
            "classified_ssc": total >= CLASSIFICATION_CUTOFF,
        },
        components={"categories": categories},
    )


register(
    Instrument(
        key="acr_eular_2013_ssc",
        title="2013 ACR/EULAR classification criteria for systemic sclerosis",
        score=score,
        record=AcrEular2013SscRecord,
        fields=tuple(
            FieldSpec(name=name, kind="bool", default=False, description=info.description or "")
            for name, info in AcrEular2013SscRecord.model_fields.items()
        ),
        status=Status.VERIFIED,
        source="van den Hoogen F et al., Ann Rheum Dis 2013;72:1747-55",
    )
)
