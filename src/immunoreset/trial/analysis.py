"""Analysis of a trial's outcomes: per-arm estimates, arm differences, curves and the decision.

All functions take the long outcome table (``patient_id, arm, endpoint, value, time, event``) and
return DataFrames; the statistics themselves are in :mod:`immunoreset.trial.stats`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from immunoreset.trial.design import Decision, TrialDesign
from immunoreset.trial.stats import (
    kaplan_meier,
    logrank,
    median_interval,
    median_time,
    newcombe,
    wilson,
)

ARM_COLUMNS = ("endpoint", "kind", "arm", "n", "events", "estimate", "low", "high", "statistic")
DIFF_COLUMNS = (
    "endpoint",
    "kind",
    "arm",
    "control",
    "estimate",
    "low",
    "high",
    "statistic",
    "test_statistic",
    "p_value",
)


def _rows(outcomes: pd.DataFrame, name: str, arm: str) -> pd.DataFrame:
    rows = outcomes[(outcomes["endpoint"] == name) & (outcomes["arm"] == arm)]
    return rows[rows["value"].notna() | rows["time"].notna()]


def arm_estimates(outcomes: pd.DataFrame, design: TrialDesign, alpha: float = 0.05) -> pd.DataFrame:
    """Per endpoint and arm: rate (Wilson), median (order statistics) or KM median time."""
    records = []
    for ep in design.endpoints:
        for arm in design.arms:
            rows = _rows(outcomes, ep.name, arm.code)
            n = len(rows)
            if ep.kind == "binary":
                k = int(rows["value"].sum())
                est, stat = wilson(k, n, alpha), "rate (Wilson)"
            elif ep.kind == "continuous":
                k = n
                est, stat = median_interval(rows["value"].to_numpy(), alpha), "median"
            else:
                k = int(rows["event"].sum())
                est = median_time(rows["time"].to_numpy(), rows["event"].to_numpy(), alpha)
                stat = "median time (Kaplan-Meier)"
            records.append((ep.name, ep.kind, arm.code, n, k, est.value, est.low, est.high, stat))
    return pd.DataFrame(records, columns=list(ARM_COLUMNS))


def control_arm(design: TrialDesign) -> str:
    """The reference arm of comparisons: the decision's control, else the first arm."""
    return design.decision.control if design.decision is not None else design.arms[0].code


def differences(outcomes: pd.DataFrame, design: TrialDesign, alpha: float = 0.05) -> pd.DataFrame:
    """Each arm against the control: rate difference (Newcombe), log-rank test, or difference in
    medians with the Mann-Whitney U test."""
    control = control_arm(design)
    records = []
    for ep in design.endpoints:
        ref = _rows(outcomes, ep.name, control)
        for arm in design.arms:
            if arm.code == control:
                continue
            rows = _rows(outcomes, ep.name, arm.code)
            if ep.kind == "binary":
                est = newcombe(
                    int(rows["value"].sum()), len(rows), int(ref["value"].sum()), len(ref), alpha
                )
                records.append(
                    (
                        ep.name,
                        ep.kind,
                        arm.code,
                        control,
                        est.value,
                        est.low,
                        est.high,
                        "difference in rates (Newcombe)",
                        math.nan,
                        math.nan,
                    )
                )
                continue
            if ep.kind == "continuous":
                records.append((ep.name, ep.kind, arm.code, control, *_median_shift(rows, ref)))
                continue
            both = pd.concat([rows.assign(g=1), ref.assign(g=0)])
            chisq, p = math.nan, math.nan
            if both["event"].sum() > 0 and len(rows) and len(ref):
                chisq, p = logrank(
                    both["time"].to_numpy(), both["event"].to_numpy(), both["g"].to_numpy()
                )
            records.append(
                (
                    ep.name,
                    ep.kind,
                    arm.code,
                    control,
                    math.nan,
                    math.nan,
                    math.nan,
                    "log-rank test",
                    chisq,
                    p,
                )
            )
    return pd.DataFrame(records, columns=list(DIFF_COLUMNS))


def _median_shift(rows: pd.DataFrame, ref: pd.DataFrame) -> tuple:
    """Difference of medians and the two-sided Mann-Whitney U test (Mann HB, Whitney DR, Ann Math
    Stat 1947;18:50-60; scipy, asymptotic with tie correction). The difference has no interval:
    the Hodges-Lehmann interval would assume a shift the endpoints need not follow."""
    a, b = rows["value"].to_numpy(float), ref["value"].to_numpy(float)
    if not len(a) or not len(b):
        return (math.nan,) * 6
    diff = float(np.median(a) - np.median(b))
    if np.all(np.concatenate([a, b]) == a[0]):  # all equal: no evidence of any difference
        return diff, math.nan, math.nan, "difference in medians (Mann-Whitney U)", math.nan, 1.0
    test = sps.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    return (
        diff,
        math.nan,
        math.nan,
        "difference in medians (Mann-Whitney U)",
        float(test.statistic),
        float(test.pvalue),
    )


def km_curves(outcomes: pd.DataFrame, design: TrialDesign) -> pd.DataFrame:
    """Kaplan-Meier curves of every time-to-event endpoint and arm (``endpoint``, ``arm`` then
    the columns of :func:`~immunoreset.trial.stats.kaplan_meier`)."""
    parts = []
    for ep in design.endpoints:
        if ep.kind != "time_to_event":
            continue
        for arm in design.arms:
            rows = _rows(outcomes, ep.name, arm.code)
            if len(rows):
                curve = kaplan_meier(rows["time"].to_numpy(), rows["event"].to_numpy())
                parts.append(curve.assign(endpoint=ep.name, arm=arm.code))
    if not parts:
        return pd.DataFrame(
            columns=["endpoint", "arm", "time", "at_risk", "events", "survival", "std_err"]
        )
    out = pd.concat(parts, ignore_index=True)
    return out[["endpoint", "arm", *[c for c in out.columns if c not in ("endpoint", "arm")]]]


def decide(outcomes: pd.DataFrame, design: TrialDesign) -> dict:
    """Apply the decision rule (see :class:`~immunoreset.trial.design.Decision`)."""
    rule: Decision | None = design.decision
    if rule is None:
        return {}
    ep = design.endpoint(rule.endpoint)
    treat = _rows(outcomes, ep.name, rule.treatment)
    ctrl = _rows(outcomes, ep.name, rule.control)
    out = {
        "endpoint": ep.name,
        "treatment": rule.treatment,
        "control": rule.control,
        "alpha": rule.alpha,
        "margin": rule.margin,
        "better": rule.better,
    }
    if ep.kind == "binary":
        est = newcombe(
            int(treat["value"].sum()), len(treat), int(ctrl["value"].sum()), len(ctrl), rule.alpha
        )
        bound = est.low if rule.better == "higher" else est.high
        success = (bound > rule.margin) if rule.better == "higher" else (bound < -rule.margin)
        out |= {
            "test": "Newcombe interval of the rate difference",
            "estimate": est.value,
            "low": est.low,
            "high": est.high,
            "success": bool(success),
        }
        return out
    if ep.kind == "time_to_event":
        both = pd.concat([treat.assign(g=1), ctrl.assign(g=0)])
        if both["event"].sum() == 0 or not len(treat) or not len(ctrl):
            return out | {"test": "log-rank", "p_value": math.nan, "success": False}
        chisq, p = logrank(both["time"].to_numpy(), both["event"].to_numpy(), both["g"].to_numpy())
        observed, expected = _observed_expected(both)
        more = observed > expected
        success = p < rule.alpha and (more if rule.better == "higher" else not more)
        return out | {
            "test": "log-rank",
            "chisq": chisq,
            "p_value": p,
            "observed": observed,
            "expected": expected,
            "success": bool(success),
        }
    raise ValueError(f"decision on a {ep.kind} endpoint is not supported")


def _observed_expected(both: pd.DataFrame) -> tuple[float, float]:
    """Observed and log-rank expected events of group 1."""
    expected = 0.0
    for t in np.unique(both.loc[both["event"] == 1, "time"]):
        at_risk = both[both["time"] >= t]
        d = ((both["time"] == t) & (both["event"] == 1)).sum()
        expected += d * (at_risk["g"] == 1).sum() / len(at_risk)
    return float(both.loc[both["g"] == 1, "event"].sum()), float(expected)
