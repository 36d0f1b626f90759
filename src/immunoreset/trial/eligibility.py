"""Eligibility: apply the trial's criteria to candidates and keep a screening log.

A candidate is eligible when every criterion holds. The screening log counts, for each criterion in
the order of the trial file, how many candidates failed it (a candidate can fail several) and how
many failed it first, which is what a CONSORT flow reports as the reason for exclusion.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from immunoreset.trial.design import Criterion

_OPS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def passes(candidates: pd.DataFrame, criteria: list[Criterion]) -> np.ndarray:
    """Boolean matrix ``[candidate, criterion]``: criterion holds."""
    out = np.ones((len(candidates), len(criteria)), dtype=bool)
    for j, crit in enumerate(criteria):
        out[:, j] = _OPS[crit.op](candidates[crit.covariate].to_numpy(dtype=float), crit.value)
    return out


def screen(candidates: pd.DataFrame, criteria: list[Criterion]) -> pd.DataFrame:
    """``candidates`` with ``eligible`` (bool) and ``screen_failure`` (first failed criterion)."""
    ok = passes(candidates, criteria)
    out = candidates.copy()
    out["eligible"] = ok.all(axis=1)
    labels = np.array([c.label for c in criteria] or [""], dtype=object)
    first = np.argmax(~ok, axis=1) if criteria else np.zeros(len(out), dtype=int)
    out["screen_failure"] = np.where(out["eligible"], None, labels[first])
    return out


def screening_log(screened: pd.DataFrame, criteria: list[Criterion]) -> pd.DataFrame:
    """Per criterion: ``criterion``, ``failed`` (all who failed it) and ``failed_first``."""
    ok = passes(screened, criteria)
    first = screened["screen_failure"].value_counts()
    return pd.DataFrame(
        {
            "criterion": [c.label for c in criteria],
            "failed": (~ok).sum(axis=0).astype(int),
            "failed_first": [int(first.get(c.label, 0)) for c in criteria],
        }
    )
