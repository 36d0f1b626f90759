"""DORIS 2021 definition of remission in SLE (registry key ``doris_2021``).

Status: VERIFIED; two wording ambiguities are configurable. van Vollenhoven RF et al. DORIS
definition of remission in SLE: final recommendations. Lupus Sci Med 2021;8:e000538.

Remission is judged at a single visit; the definition sets no duration (a sustained remission is a
study endpoint built on visit-level results). A patient is in remission on treatment when clinical
SLEDAI is 0 (serology does not count), the physician global assessment is below 0.5 on the 0-3
scale, prednisolone or equivalent is at most 5 mg/day, and no antimalarial, immunosuppressive or
biologic treatment was started or raised since the previous visit (stable maintenance is allowed).
The 2021 definition is a single, on-treatment definition. Remission off treatment is the 2017
framework's category (van Vollenhoven R et al., Ann Rheum Dis 2017;76:554-61), reported here in
that framework's wording: clinical SLEDAI 0, physician global assessment at most 0.5 (the 2017
definitions read "SELENA-SLEDAI PGA <=0.5 (scale 0-3)", as tabulated in Table 1 of
doi:10.1093/rheumatology/keaa420, PMC7719036), no glucocorticoid, no immunosuppressive or biologic
drug, antimalarials at a maintenance dose (not changed). Drug-free remission after CAR-T therapy is
this result.

A drug class is ``stable`` when no agent was added and no dose raised since the prior visit and
``changed`` otherwise (CONVENTION: the paper does not quantify stability; the caller decides).

Configurable choices (reported with every result):

* ``options.steroid_rule``: ``"<=5"`` mg/day (abstract; default) or ``"<5"`` (final table wording);
* ``options.pga_rule``: ``"<0.5"`` (2021 definition; default) or ``"<=0.5"`` (2017 framework), for
  the on-treatment result; the off-treatment result always uses the 2017 ``<= 0.5``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from immunoreset.clinical.sle.common import DoseMgDay, Pga, dose_field, meets, pga_field
from immunoreset.clinical.sle.sledai import ClinicalSledaiTotal, SledaiTotal

KEY = "doris_2021"

DrugStatus = Literal["none", "stable", "changed"]
OFF_TREATMENT_PGA_RULE = "<=0.5"
"""PGA limit of remission off treatment, in the wording of the 2017 framework."""


class DorisOptions(Record):
    """Configurable readings of the DORIS wording (defaults as in the specification)."""

    steroid_rule: Literal["<=5", "<5"] = "<=5"
    pga_rule: Literal["<0.5", "<=0.5"] = "<0.5"


class DorisRecord(Record):
    """One visit: clinical SLEDAI, PGA, glucocorticoid dose and the status of each drug class."""

    clinical_sledai: ClinicalSledaiTotal
    pga: Pga
    prednisolone_mg_day: DoseMgDay
    antimalarial: DrugStatus = "none"
    immunosuppressive: DrugStatus = "none"
    biologic: DrugStatus = "none"
    sledai_2k_total_for_info: SledaiTotal | None = None
    options: DorisOptions = DorisOptions()


def score(record: Mapping[str, Any] | DorisRecord) -> InstrumentResult:
    """Judge DORIS remission on and off treatment at one visit.

    Outputs ``doris_remission_on_treatment`` and ``doris_remission_off_treatment`` (bool); the
    components give each criterion. ``sledai_2k_total_for_info`` is validated and otherwise ignored.
    """
    rec = parse_record(DorisRecord, record)
    drugs = (rec.antimalarial, rec.immunosuppressive, rec.biologic)
    on_criteria = {
        "clinical_sledai_zero": rec.clinical_sledai == 0,
        "pga": meets(rec.pga, rec.options.pga_rule),
        "prednisolone": meets(rec.prednisolone_mg_day, rec.options.steroid_rule),
        "no_treatment_change": "changed" not in drugs,
    }
    off_criteria = {
        "pga_2017": meets(rec.pga, OFF_TREATMENT_PGA_RULE),
        "no_prednisolone": rec.prednisolone_mg_day == 0,
        "antimalarial_maintenance": rec.antimalarial != "changed",
        "no_immunosuppressive": rec.immunosuppressive == "none",
        "no_biologic": rec.biologic == "none",
    }
    off_treatment = on_criteria["clinical_sledai_zero"] and all(off_criteria.values())
    return InstrumentResult(
        instrument=KEY,
        outputs={
            "doris_remission_on_treatment": all(on_criteria.values()),
            "doris_remission_off_treatment": off_treatment,
        },
        components={**on_criteria, **off_criteria},
        options=rec.options.model_dump(),
    )


_DRUG_HELP = "none; stable (no agent added, no dose raised since the prior visit); changed"

FIELDS = (
    FieldSpec(
        "clinical_sledai",
        "integer",
        "points",
        "0-101",
        required=True,
        description="SLEDAI-2K without serology (see sledai_2k)",
    ),
    pga_field("pga", "physician global assessment"),
    dose_field("prednisolone_mg_day", "prednisolone or equivalent"),
    FieldSpec(
        "antimalarial",
        "enum",
        allowed="none, stable, changed",
        default="none",
        description=_DRUG_HELP,
    ),
    FieldSpec(
        "immunosuppressive",
        "enum",
        allowed="none, stable, changed",
        default="none",
        description="mycophenolate, azathioprine, methotrexate, calcineurin inhibitors ...: "
        + _DRUG_HELP,
    ),
    FieldSpec(
        "biologic", "enum", allowed="none, stable, changed", default="none", description=_DRUG_HELP
    ),
    FieldSpec(
        "sledai_2k_total_for_info",
        "integer",
        "points",
        "0-105",
        description="full SLEDAI-2K, informational only (ignored by the definition)",
    ),
)

OPTION_FIELDS = (
    FieldSpec(
        "options.steroid_rule",
        "enum",
        allowed="<=5, <5",
        default="<=5",
        description="prednisolone limit in mg/day (abstract <=5; final table <5)",
    ),
    FieldSpec(
        "options.pga_rule",
        "enum",
        allowed="<0.5, <=0.5",
        default="<0.5",
        description="PGA limit of the on-treatment result (2021 definition <0.5; 2017 "
        "framework <=0.5); off treatment always uses the 2017 <=0.5",
    ),
)

INSTRUMENT = register(
    Instrument(
        key=KEY,
        title="DORIS 2021 remission in SLE",
        score=score,
        record=DorisRecord,
        fields=FIELDS,
        status=Status.VERIFIED,
        source="van Vollenhoven RF et al. Lupus Sci Med 2021;8:e000538",
        option_fields=OPTION_FIELDS,
    )
)
