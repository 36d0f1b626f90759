"""Enrolment: draw candidates, screen them, randomise the first eligible ones, assign dropout.

Candidates are screened in id order until ``sample_size`` are eligible (a bundled covariate set) or
the CSV of digital twins is exhausted. The subject table has one row per screened candidate:
``patient_id``, covariates, ``eligible``, ``screen_failure`` (first failed criterion),
``randomised``, ``arm`` (code, empty if not randomised), ``dropout_day`` and ``last_day`` (the last
day of follow-up: the dropout day or the end of follow-up, whichever comes first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunoreset.trial.allocation import allocate, dropout_days
from immunoreset.trial.covariates import draw_covariates
from immunoreset.trial.eligibility import screen
from immunoreset.trial.load import Trial, TrialError

SCREEN_BATCH = 1000
DEFAULT_SCREEN_FACTOR = 50
"""Without ``population.screen_at_most``, screening stops after this many candidates per seat."""


def _screened(trial: Trial, replicate: int) -> pd.DataFrame:
    design = trial.design
    criteria = design.eligibility
    if trial.twins is not None:
        return screen(trial.twins, criteria)
    limit = design.population.screen_at_most or DEFAULT_SCREEN_FACTOR * design.sample_size
    parts, eligible, start = [], 0, 0
    while eligible < design.sample_size and start < limit:
        ids = np.arange(start, min(start + SCREEN_BATCH, limit))
        part = screen(draw_covariates(trial.covariates, ids, design.seed, replicate), criteria)
        cumulative = eligible + np.cumsum(part["eligible"].to_numpy())
        if cumulative[-1] >= design.sample_size:  # stop at the candidate who fills the last seat
            part = part.iloc[: int(np.searchsorted(cumulative, design.sample_size)) + 1]
        parts.append(part)
        eligible += int(part["eligible"].sum())
        start = int(ids[-1]) + 1
    return pd.concat(parts, ignore_index=True)


def enrol(trial: Trial, replicate: int = 0) -> pd.DataFrame:
    """The subject table of replicate ``replicate`` (see the module docstring)."""
    design = trial.design
    subjects = _screened(trial, replicate)
    eligible = subjects.index[subjects["eligible"]]
    if len(eligible) < design.sample_size:
        raise TrialError(
            trial.source,
            "sample_size",
            design.sample_size,
            f"at most the {len(eligible)} eligible of {len(subjects)} candidates screened "
            "(relax eligibility, raise population.screen_at_most or give more twins)",
        )
    chosen = eligible[: design.sample_size]
    subjects["randomised"] = subjects.index.isin(chosen)
    subjects["arm"] = None
    alloc = design.allocation
    subjects.loc[chosen, "arm"] = allocate(
        subjects.loc[chosen], design.arms, alloc.strata, alloc.block_size, design.seed, replicate
    )
    ids = subjects["patient_id"].to_numpy()
    drop = dropout_days(ids, design.dropout.rate_per_year, design.seed, replicate)
    subjects["dropout_day"] = np.where(drop < design.follow_up_days, drop, np.nan)
    subjects["last_day"] = np.minimum(drop, design.follow_up_days)
    subjects.loc[~subjects["randomised"], ["dropout_day", "last_day"]] = np.nan
    return subjects
