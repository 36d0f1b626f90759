"""Trial endpoints of each patient, read from the endpoint library's tables.

* binary: a visit-level column at ``day`` or a patient-level column, true when the value is true
  (boolean) or within ``at_least``/``at_most``. A visit the patient did not attend (dropout, missed
  visit) counts as not responding (non-responder imputation, the usual rule of SLE trials); a
  patient whose simulation failed is not evaluable.
* continuous: the value (visit or patient level); missing values are not evaluable.
* time to event (day, event 1 / censored 0):

  - ``b_cell_return``: the confirmed B-cell reconstitution day of the endpoint library; censored at
    the last day of follow-up; not evaluable for a patient never in aplasia.
  - ``remission``: first post-baseline visit in DORIS remission (off treatment); censored at the
    last visit attended.
  - ``flare``: first post-baseline visit whose SLEDAI-2K is at least ``rise`` (default 4) above the
    lowest SLEDAI-2K of the earlier post-baseline visits (the post-treatment nadir). An increase of
    more than 3 points is the usual SLEDAI flare convention (Gladman DD et al., J Rheumatol
    2002;29:288-91, and docs/instruments.md); SELENA-SLEDAI flare index wording differs (Petri M et
    al., N Engl J Med 2005;353:2550-8). Censored at the last visit attended.
  - ``seroconversion``: first follow-up visit with negative anti-dsDNA; not evaluable when negative
    at baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunoreset.endpoints import Endpoints
from immunoreset.trial.design import Endpoint, TrialDesign

OUTCOME_COLUMNS = ("patient_id", "endpoint", "value", "time", "event")


def _binary(values: pd.Series, ep: Endpoint) -> pd.Series:
    numeric = pd.to_numeric(values.astype("Float64"), errors="coerce")
    ok = pd.Series(True, index=values.index, dtype="boolean")
    if ep.at_least is None and ep.at_most is None:
        return numeric.astype("boolean").where(numeric.notna())
    if ep.at_least is not None:
        ok &= numeric >= ep.at_least
    if ep.at_most is not None:
        ok &= numeric <= ep.at_most
    return ok.where(numeric.notna())


def _visit_times(visits: pd.DataFrame) -> pd.DataFrame:
    """Attended post-baseline visits."""
    return visits[(visits["visit_day"] > 0) & visits["time"].notna()]


def _first_visit(visits: pd.DataFrame, hit: pd.Series) -> pd.DataFrame:
    """Per patient: first attended post-baseline visit where ``hit``, else censored at the last."""
    attended = _visit_times(visits).assign(
        hit=hit.reindex(_visit_times(visits).index).fillna(False)
    )
    rows = []
    for pid, g in attended.groupby("patient_id", sort=True):
        hits = g[g["hit"].astype(bool)]
        if len(hits):
            rows.append((pid, float(hits["visit_day"].iat[0]), 1))
        else:
            rows.append((pid, float(g["visit_day"].iat[-1]), 0))
    return pd.DataFrame(rows, columns=["patient_id", "time", "event"])


def _flare_hits(visits: pd.DataFrame, rise: float) -> pd.Series:
    post = _visit_times(visits).sort_values(["patient_id", "visit_day"])
    score = pd.to_numeric(post["sledai_2k"].astype("Float64"), errors="coerce").astype(float)
    nadir = score.groupby(post["patient_id"]).transform(lambda s: s.cummin().shift(1))
    return (score >= nadir + rise).fillna(False)


def time_to_event(ends: Endpoints, ep: Endpoint, last_day: pd.Series, rise: float) -> pd.DataFrame:
    """``patient_id, time, event`` of a time-to-event endpoint (evaluable patients only)."""
    patient = ends.patient[ends.patient["evaluable"].astype(bool)]
    visits = ends.visits[ends.visits["patient_id"].isin(patient["patient_id"])]
    if ep.event == "b_cell_return":
        onset = patient["b_cell_aplasia_onset_d"].notna()
        rec = patient.loc[onset, ["patient_id", "b_cell_reconstitution_d"]]
        time = rec["b_cell_reconstitution_d"].astype(float)
        event = time.notna().astype(int)
        censor = rec["patient_id"].map(last_day).astype(float)
        return pd.DataFrame(
            {
                "patient_id": rec["patient_id"].to_numpy(),
                "time": time.fillna(censor).to_numpy(),
                "event": event.to_numpy(),
            }
        )
    if ep.event == "remission":
        hit = visits["doris_remission_off_treatment"].astype("boolean").fillna(False)
        return _first_visit(visits, hit)
    if ep.event == "flare":
        return _first_visit(visits, _flare_hits(visits, rise))
    positive_at_baseline = patient.loc[
        patient["anti_dsdna_baseline_positive"].astype("boolean").fillna(False), "patient_id"
    ]
    visits = visits[visits["patient_id"].isin(positive_at_baseline)]
    hit = ~visits["anti_dsdna_positive"].astype("boolean").fillna(True)
    return _first_visit(visits, hit)


def patient_outcomes(ends: Endpoints, design: TrialDesign, last_day: pd.Series) -> pd.DataFrame:
    """Long table ``patient_id, endpoint, value, time, event`` of every endpoint of the trial."""
    evaluable = ends.patient.loc[ends.patient["evaluable"].astype(bool), "patient_id"]
    parts = []
    for ep in design.endpoints:
        if ep.kind == "time_to_event":
            tte = time_to_event(ends, ep, last_day, design.flare.rise)
            parts.append(tte.assign(endpoint=ep.name, value=np.nan))
            continue
        if ep.column in ends.patient.columns and ep.day is None:
            rows = ends.patient[ends.patient["patient_id"].isin(evaluable)]
            values = rows[ep.column]
        else:
            rows = ends.visits[
                (ends.visits["visit_day"] == ep.day) & ends.visits["patient_id"].isin(evaluable)
            ]
            values = rows[ep.column].where(rows["time"].notna())  # a missed visit reads nothing
        if ep.kind == "binary":
            flag = _binary(values, ep)
            if ep.day is not None:
                flag = flag.fillna(False)  # non-responder imputation for missed visits
            value = flag.astype("Float64").astype(float)
        else:
            value = pd.to_numeric(values.astype("Float64"), errors="coerce").astype(float)
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": rows["patient_id"].to_numpy(),
                    "endpoint": ep.name,
                    "value": value.to_numpy(),
                    "time": np.nan,
                    "event": np.nan,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)[list(OUTCOME_COLUMNS)]
    return out.astype({"patient_id": "int64", "value": float, "time": float, "event": float})
