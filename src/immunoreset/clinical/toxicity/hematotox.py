"""CAR-HEMATOTOX: baseline risk of haematotoxicity after CAR-T cell therapy.

Source: Rejeski K et al., CAR-HEMATOTOX: a model for CAR T-cell-related hematologic toxicity in
relapsed/refractory large B-cell lymphoma, Blood 2021;138(24):2499-2513 (Figure 2).

Status: five baseline variables, double weight for platelets and ferritin, range 0-7, low risk 0-1
and high risk >= 2: VERIFIED.
PROVISIONAL (register item P1): every numeric cut-off (platelets 75,000 / 175,000 per uL, ANC 1,200
per uL, haemoglobin 9.0 g/dL, CRP 3.0 mg/dL, ferritin 650 / 2,000 ng/mL); every result lists
``"P1"``.
CONVENTION: the points for a value exactly on a cut-off (the figure only states < and >); each is an
option of :class:`HematotoxOptions`, defaulting to the middle band for two-edge variables and to 0
points for ANC, haemoglobin and CRP.

Rules, in short. Measured before lymphodepletion: platelets score 0 above 175,000/uL, 1 in the
middle band and 2 below 75,000/uL; ANC below 1,200/uL scores 1; haemoglobin below 9.0 g/dL scores 1;
CRP above 3.0 mg/dL scores 1; ferritin scores 0 below 650 ng/mL, 1 in the middle band and 2 above
2,000 ng/mL. The points are summed; 2 or more is high risk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from immunoreset.clinical.core import (
    NOT_BOOL,
    FieldSpec,
    Instrument,
    InstrumentResult,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.laboratory.measures import one_of_units
from immunoreset.clinical.units import lab

KEY = "car_hematotox"
SOURCE = "Rejeski K et al., Blood 2021;138(24):2499-2513, doi:10.1182/blood.2020010543 (Fig. 2)"
PROVISIONAL_CUTOFFS = "P1"
HIGH_RISK_MIN = 2
CRP_MG_L_PER_MG_DL = Decimal(10)


ZeroOrOne = Annotated[Literal[0, 1], NOT_BOOL]
OneOrTwo = Annotated[Literal[1, 2], NOT_BOOL]


class HematotoxOptions(Record):
    """CONVENTION: points given to a value exactly on each (PROVISIONAL, P1) cut-off."""

    platelets_175000_points: ZeroOrOne = 1
    platelets_75000_points: OneOrTwo = 1
    anc_1200_points: ZeroOrOne = 0
    hb_9_points: ZeroOrOne = 0
    crp_3_points: ZeroOrOne = 0
    ferritin_650_points: ZeroOrOne = 1
    ferritin_2000_points: OneOrTwo = 1


class HematotoxRecord(Record):
    """Baseline laboratory values; CRP in exactly one of mg/dL or mg/L."""

    platelets_per_uL: lab("platelets_per_uL")  # noqa: N815 (unit spelling of the specification)
    anc_per_uL: lab("anc_per_uL")  # noqa: N815
    hb_g_dl: lab("hb_g_dl")
    crp_mg_dl: lab("crp_mg_dl") | None = None
    crp_mg_l: lab("crp_mg_l") | None = None
    ferritin_ng_ml: lab("ferritin_ng_ml")
    options: HematotoxOptions = HematotoxOptions()


@dataclass(frozen=True)
class Banding:
    """Points of one variable: ascending cut-offs, points of the open bands between them (ascending
    values), and the option that gives the points for a value exactly on each cut-off."""

    edges: tuple[Decimal, ...]
    band_points: tuple[int, ...]
    edge_options: tuple[str, ...]

    def points(self, value: Decimal, options: HematotoxOptions) -> int:
        for edge, below, option in zip(
            self.edges, self.band_points, self.edge_options, strict=False
        ):
            if value < edge:
                return below
            if value == edge:
                return int(getattr(options, option))
        return self.band_points[-1]


BANDINGS: dict[str, Banding] = {
    "platelets": Banding(
        (Decimal(75000), Decimal(175000)),
        (2, 1, 0),
        ("platelets_75000_points", "platelets_175000_points"),
    ),
    "anc": Banding((Decimal(1200),), (1, 0), ("anc_1200_points",)),
    "hb": Banding((Decimal("9.0"),), (1, 0), ("hb_9_points",)),
    "crp": Banding((Decimal("3.0"),), (0, 1), ("crp_3_points",)),
    "ferritin": Banding(
        (Decimal(650), Decimal(2000)), (0, 1, 2), ("ferritin_650_points", "ferritin_2000_points")
    ),
}
"""PROVISIONAL (P1) cut-offs in cells/uL, g/dL, mg/dL and ng/mL."""


def score(record: Mapping[str, Any] | HematotoxRecord) -> InstrumentResult:
    """CAR-HEMATOTOX score (0-7) and risk group (low 0-1, high >= 2)."""
    rec = parse_record(HematotoxRecord, record)
    values = {
        "platelets": rec.platelets_per_uL,
        "anc": rec.anc_per_uL,
        "hb": rec.hb_g_dl,
        "crp": one_of_units(rec, "crp_mg_dl", "crp_mg_l", CRP_MG_L_PER_MG_DL),
        "ferritin": rec.ferritin_ng_ml,
    }
    points = {name: BANDINGS[name].points(value, rec.options) for name, value in values.items()}
    total = sum(points.values())
    return InstrumentResult(
        instrument=KEY,
        outputs={"score": total, "risk": "high" if total >= HIGH_RISK_MIN else "low"},
        components={**points, "crp_mg_dl": float(values["crp"])},
        options=rec.options.model_dump(),
        provisional=(PROVISIONAL_CUTOFFS,),
    )


def _option_fields() -> tuple[FieldSpec, ...]:
    """CSV columns of the exact-cut-off options, read off :class:`HematotoxOptions`."""
    return tuple(
        FieldSpec(
            f"options.{name}",
            "integer",
            "points",
            ", ".join(str(points) for points in get_args(info.annotation)),
            default=info.default,
            description="CONVENTION: points for a value exactly on the {} cut-off {}".format(
                *name.split("_")[:2]
            ),
        )
        for name, info in HematotoxOptions.model_fields.items()
    )


register(
    Instrument(
        key=KEY,
        title="CAR-HEMATOTOX baseline haematotoxicity risk",
        score=score,
        record=HematotoxRecord,
        fields=(
            FieldSpec(
                "platelets_per_uL",
                "number",
                "cells/uL",
                ">= 0",
                True,
                description="platelet count before lymphodepletion",
            ),
            FieldSpec(
                "anc_per_uL",
                "number",
                "cells/uL",
                ">= 0",
                True,
                description="absolute neutrophil count before lymphodepletion",
            ),
            FieldSpec(
                "hb_g_dl",
                "number",
                "g/dL",
                ">= 0",
                True,
                description="haemoglobin before lymphodepletion",
            ),
            FieldSpec("crp_mg_dl", "number", "mg/dL", ">= 0", description="or give crp_mg_l"),
            FieldSpec("crp_mg_l", "number", "mg/L", ">= 0", description="or give crp_mg_dl"),
            FieldSpec(
                "ferritin_ng_ml",
                "number",
                "ng/mL",
                ">= 0",
                True,
                description="serum ferritin before lymphodepletion",
            ),
        ),
        status=Status.PROVISIONAL,
        source=SOURCE,
        provisional_items=(PROVISIONAL_CUTOFFS,),
        option_fields=_option_fields(),
    )
)
