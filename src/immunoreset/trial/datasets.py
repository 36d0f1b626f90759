"""Trial datasets shaped like CDISC ADaM: ADSL, ADTTE, ADLB and ADAE, with a data dictionary.

The variable names and meanings follow the CDISC ADaM Implementation Guide v1.3 (ADSL subject-level
variables, Basic Data Structure for ADLB, ADTTE for time to event) and the ADaM Structure for
Occurrence Data (ADAE). Study days count from the CAR infusion (day 0), as the model's time does;
there are no calendar dates in a virtual trial, so ``ADY``/``ASTDY`` replace ``ADT``/``ASTDT``.
These tables are shaped like ADaM so that statisticians' tools read them; they are not submission
datasets (no controlled terminology check, no define.xml).

* ADSL: one row per screened virtual patient (screen failures included: ``ARM`` = "Screen
  Failure"), covariates, eligibility, randomisation, follow-up and flags.
* ADTTE: one row per randomised patient and time-to-event endpoint (``CNSR`` 0 = event, 1 =
  censored, CDISC convention).
* ADLB: one row per randomised patient, visit and parameter: laboratory values and scores at the
  visits (``PARCAT1`` LABORATORY or SCORE), with baseline and change from baseline.
* ADAE: one row per randomised patient and adverse event the model produces (CRS, ICANS, ICAHT when
  graded, hypogammaglobulinaemia), with the worst grade.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunoreset.observables import OBSERVABLES
from immunoreset.trial.design import TrialDesign

LABS = {
    "b_cells_blood": ("BCELL", "CD19+ B cells in blood", "LABORATORY"),
    "car_t_blood": ("CART", "CAR T cells in blood", "LABORATORY"),
    "anti_dsdna": ("DSDNA", "Anti-dsDNA antibodies", "LABORATORY"),
    "c3": ("C3", "Complement C3", "LABORATORY"),
    "c4": ("C4", "Complement C4", "LABORATORY"),
    "proteinuria": ("UPCR", "Urine protein/creatinine ratio", "LABORATORY"),
    "igg_total": ("IGG", "Immunoglobulin G", "LABORATORY"),
    "neutrophils": ("NEUT", "Neutrophils", "LABORATORY"),
    "cd4_t_blood": ("CD4", "CD4+ T cells in blood", "LABORATORY"),
    "cd8_t_blood": ("CD8", "CD8+ T cells in blood", "LABORATORY"),
    "sledai_2k": ("SLEDAI", "SLEDAI-2K total score", "SCORE"),
    "clinical_sledai": ("CSLEDAI", "Clinical SLEDAI-2K (without serology)", "SCORE"),
    "doris_remission_off_treatment": ("DORIS", "DORIS remission off treatment (1 = yes)", "SCORE"),
    "lldas": ("LLDAS", "Lupus low disease activity state (1 = yes)", "SCORE"),
}
"""Visit-level columns that become ADLB parameters: (PARAMCD, PARAM, PARCAT1)."""

EVENTS = {
    "b_cell_return": ("BCRET", "Time to B-cell return (days)", "B-cell reconstitution"),
    "remission": ("REMIS", "Time to DORIS remission (days)", "DORIS remission at a visit"),
    "flare": ("FLARE", "Time to SLEDAI-2K flare (days)", "SLEDAI-2K rise from nadir"),
    "seroconversion": (
        "SEROCONV",
        "Time to anti-dsDNA seroconversion (days)",
        "anti-dsDNA negative",
    ),
}

ADVERSE = {
    "crs": "Cytokine release syndrome",
    "icans": "Immune effector cell-associated neurotoxicity syndrome",
    "icaht": "Immune effector cell-associated haematotoxicity",
}
"""Graded events: patient-level columns ``<key>_max_grade``, ``_onset_d``, ``_duration_d``."""

SUBJECT_VARIABLES = {
    "age_years": "AGE",
    "weight_kg": "WEIGHTBL",
    "height_cm": "HEIGHTBL",
    "bsa_m2": "BSABL",
}
"""ADSL names of covariates with a usual ADaM variable; others keep their name in capitals."""

DICTIONARY = {
    "AGE": "age at screening (years)",
    "AGEU": "age unit",
    "SEX": "sex (F, M)",
    "WEIGHTBL": "baseline body weight (kg)",
    "HEIGHTBL": "baseline height (cm)",
    "BSABL": "baseline body surface area, Mosteller (m2)",
    "STUDYID": "study identifier (trial name)",
    "USUBJID": "unique subject identifier (STUDYID-patient id)",
    "SUBJID": "subject identifier within the study (screening number, or the twin's subject_id)",
    "ARM": "planned arm (description); Screen Failure if not randomised",
    "ARMCD": "planned arm code",
    "TRT01P": "planned treatment (arm name)",
    "TRT01A": "actual treatment (arm name; as planned in a virtual trial)",
    "SCRNFL": "screened flag",
    "ELIGFL": "eligible flag (Y: every criterion met)",
    "SCRFREAS": "first eligibility criterion failed",
    "RANDFL": "randomised flag",
    "ITTFL": "intention-to-treat population flag",
    "SAFFL": "safety population flag (infused)",
    "EVALFL": "simulation evaluable (N: the model integration failed)",
    "DCSREAS": "reason for discontinuation (LOST TO FOLLOW-UP) or empty",
    "EOSDY": "last study day of follow-up (day 0 = infusion)",
    "PARAMCD": "parameter code",
    "PARAM": "parameter description",
    "PARCAT1": "parameter category",
    "AVAL": "analysis value",
    "AVALU": "analysis value unit",
    "BASE": "baseline value (visit day 0)",
    "CHG": "change from baseline",
    "AVISIT": "analysis visit",
    "AVISITN": "analysis visit (scheduled day)",
    "ADY": "analysis relative day of the sample read at the visit",
    "CNSR": "censor (0 = event, 1 = censored)",
    "EVNTDESC": "event description",
    "CNSDTDSC": "censoring description",
    "AEDECOD": "adverse event (dictionary-derived term)",
    "ATOXGR": "analysis toxicity grade (ASTCT / EHA-EBMT grade for CRS, ICANS, ICAHT)",
    "AESEV": "severity",
    "ASTDY": "analysis start relative day",
    "AENDY": "analysis end relative day",
    "TRTEMFL": "treatment-emergent flag",
}


def _usubjid(study: str, ids: pd.Series) -> pd.Series:
    return study + "-" + ids.astype("int64").map("{:06d}".format)


def _yn(flag: pd.Series) -> pd.Series:
    return np.where(flag.astype(bool), "Y", "N")


def adsl(
    subjects: pd.DataFrame, patients: pd.DataFrame, design: TrialDesign, covariates: list[str]
) -> pd.DataFrame:
    """Subject-level dataset (one row per screened virtual patient)."""
    names = {a.code: a.name for a in design.arms}
    arm = subjects["arm"]
    evaluable = subjects["patient_id"].map(
        patients.set_index("patient_id")["evaluable"] if len(patients) else pd.Series(dtype=bool)
    )
    out = pd.DataFrame(
        {
            "STUDYID": design.name,
            "USUBJID": _usubjid(design.name, subjects["patient_id"]),
            "SUBJID": (
                subjects["subject_id"]
                if "subject_id" in subjects.columns
                else subjects["patient_id"].astype("int64").astype(str)
            ),
            "ARMCD": arm.fillna("SCRNFAIL"),
            "ARM": arm.map(names).fillna("Screen Failure"),
            "TRT01P": arm.map(names),
            "TRT01A": arm.map(names),
            "SCRNFL": "Y",
            "ELIGFL": _yn(subjects["eligible"]),
            "SCRFREAS": subjects["screen_failure"],
            "RANDFL": _yn(subjects["randomised"]),
            "ITTFL": _yn(subjects["randomised"]),
            "SAFFL": _yn(subjects["randomised"]),
            "EVALFL": np.where(evaluable.isna(), None, _yn(evaluable.fillna(False))),
            "DCSREAS": np.where(subjects["dropout_day"].notna(), "LOST TO FOLLOW-UP", None),
            "EOSDY": subjects["last_day"],
        }
    )
    out.loc[~subjects["randomised"] & subjects["eligible"], "ARMCD"] = "NOTASSGN"
    out.loc[~subjects["randomised"] & subjects["eligible"], "ARM"] = "Not Assigned"
    for name in covariates:
        if name == "sex_female":
            out["SEX"] = np.where(subjects[name] == 1, "F", "M")
            continue
        out[SUBJECT_VARIABLES.get(name, name.upper())] = subjects[name].to_numpy()
        if name == "age_years":
            out["AGEU"] = "YEARS"
    return out


def adtte(outcomes: pd.DataFrame, design: TrialDesign) -> pd.DataFrame:
    """Time-to-event dataset."""
    names = {a.code: a.name for a in design.arms}
    parts = []
    for ep in design.endpoints:
        if ep.kind != "time_to_event":
            continue
        code, label, what = EVENTS[ep.event]  # type: ignore[index]
        rows = outcomes[outcomes["endpoint"] == ep.name]
        parts.append(
            pd.DataFrame(
                {
                    "STUDYID": design.name,
                    "USUBJID": _usubjid(design.name, rows["patient_id"]),
                    "ARMCD": rows["arm"].to_numpy(),
                    "ARM": rows["arm"].map(names).to_numpy(),
                    "PARAMCD": code,
                    "PARAM": ep.label or label,
                    "AVAL": rows["time"].to_numpy(),
                    "AVALU": "DAYS",
                    "CNSR": (1 - rows["event"]).astype("int64").to_numpy(),
                    "EVNTDESC": np.where(rows["event"] == 1, what, None),
                    "CNSDTDSC": np.where(
                        rows["event"] == 1, None, "last follow-up without the event"
                    ),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["USUBJID"])


def _visit_name(day: float) -> str:
    return "Baseline" if day == 0 else f"Day {day:g}"


def _categorical(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """``labels[codes]`` as a categorical (labels may repeat: they are merged)."""
    unique = list(dict.fromkeys(labels))
    remap = np.array([unique.index(label) for label in labels], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(unique, dtype=object))


def adlb(visits: pd.DataFrame, design: TrialDesign) -> pd.DataFrame:
    """Visit-level laboratory and score dataset (long: one row per visit and parameter).

    Built from integer codes and stored as categoricals: at 100,000 patients the table has millions
    of rows, and a string per row and column would take gigabytes.
    """
    present = [c for c in LABS if c in visits.columns]
    if not present:
        return pd.DataFrame(columns=["USUBJID"])
    n = len(visits)
    ids = visits["patient_id"].to_numpy(np.int64)
    day = visits["visit_day"].to_numpy(float)
    ady = visits["time"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    value = np.empty(n * len(present))
    base = np.empty_like(value)
    for j, column in enumerate(present):
        v = pd.to_numeric(visits[column].astype("Float64"), errors="coerce").astype(float)
        b = v.where(visits["visit_day"] == 0).groupby(visits["patient_id"]).transform("max")
        value[j * n : (j + 1) * n] = v.to_numpy()
        base[j * n : (j + 1) * n] = b.to_numpy()
    param = np.repeat(np.arange(len(present)), n)
    pid, vday = np.tile(ids, len(present)), np.tile(day, len(present))
    order = np.lexsort((vday, param, pid))
    unique = np.unique(ids)
    codes = [a.code for a in design.arms]
    arm_codes = visits["arm"].map({c: i for i, c in enumerate(codes)}).to_numpy(np.int64)
    days = sorted(set(day))
    units = [OBSERVABLES[c].unit if c in OBSERVABLES else "score" for c in present]
    info = [LABS[c] for c in present]
    arm_of = np.tile(arm_codes, len(present))[order]
    return pd.DataFrame(
        {
            "STUDYID": _categorical(np.zeros(len(order), np.int8), [design.name]),
            "USUBJID": _categorical(
                np.searchsorted(unique, pid[order]), list(_usubjid(design.name, pd.Series(unique)))
            ),
            "ARMCD": _categorical(arm_of, codes),
            "ARM": _categorical(arm_of, [a.name for a in design.arms]),
            "PARAMCD": _categorical(param[order], [i[0] for i in info]),
            "PARAM": _categorical(param[order], [i[1] for i in info]),
            "PARCAT1": _categorical(param[order], [i[2] for i in info]),
            "AVAL": value[order],
            "AVALU": _categorical(param[order], units),
            "BASE": base[order],
            "CHG": (value - base)[order],
            "AVISITN": vday[order],
            "ADY": np.tile(ady, len(present))[order],
            "AVISIT": _categorical(
                np.searchsorted(days, vday[order]), [_visit_name(d) for d in days]
            ),
        }
    )


def adae(patients: pd.DataFrame, design: TrialDesign) -> pd.DataFrame:
    """Adverse events the model produces (worst grade per patient and event)."""
    names = {a.code: a.name for a in design.arms}
    parts = []
    for key, term in ADVERSE.items():
        grade_col = f"{key}_max_grade"
        if grade_col not in patients.columns:
            continue
        grade = pd.to_numeric(patients[grade_col].astype("Float64"), errors="coerce")
        rows = patients[(grade >= 1).fillna(False).to_numpy()]
        onset = pd.to_numeric(rows.get(f"{key}_onset_d", np.nan), errors="coerce")
        duration = pd.to_numeric(rows.get(f"{key}_duration_d", np.nan), errors="coerce")
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": rows["patient_id"].to_numpy(),
                    "ARMCD": rows["arm"].to_numpy(),
                    "AEDECOD": term,
                    "ATOXGR": grade[rows.index].astype(float).to_numpy(),
                    "AESEV": None,
                    "ASTDY": np.asarray(onset, float),
                    "AENDY": np.asarray(onset, float) + np.asarray(duration, float),
                }
            )
        )
    if "igg_nadir_below_lln" in patients.columns:
        low = patients["igg_nadir_below_lln"].astype("boolean").fillna(False).to_numpy()
        rows = patients[low]
        severe = rows["igg_nadir_severe"].astype("boolean").fillna(False).to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": rows["patient_id"].to_numpy(),
                    "ARMCD": rows["arm"].to_numpy(),
                    "AEDECOD": "Hypogammaglobulinaemia",
                    "ATOXGR": np.nan,
                    "AESEV": np.where(severe, "SEVERE (IgG < 4 g/L)", "BELOW LLN"),
                    "ASTDY": pd.to_numeric(rows["igg_nadir_d"], errors="coerce").to_numpy(float),
                    "AENDY": np.nan,
                }
            )
        )
    columns = [
        "STUDYID",
        "USUBJID",
        "ARMCD",
        "ARM",
        "AEDECOD",
        "ATOXGR",
        "AESEV",
        "ASTDY",
        "AENDY",
        "TRTEMFL",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat([p for p in parts if len(p)] or parts, ignore_index=True)
    out["USUBJID"] = _usubjid(design.name, out.pop("patient_id"))
    out["STUDYID"] = design.name
    out["ARM"] = out["ARMCD"].map(names)
    out["TRTEMFL"] = "Y"
    return out[columns]


def dictionary(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> pd.DataFrame:
    """Data dictionary: ``dataset, variable, type, label`` of every column of ``tables``."""
    rows = []
    for name, table in tables.items():
        for col in table.columns:
            label = DICTIONARY.get(col) or labels.get(col.lower(), "")
            rows.append((name, col, str(table[col].dtype), label))
    return pd.DataFrame(rows, columns=["dataset", "variable", "type", "label"])
