"""Replicate trials and parameter uncertainty: power is a share of replicate decisions with its
Wilson interval; prior draws are reproducible, inside the stated ranges, and change the trial."""

from __future__ import annotations

import math

import pytest

from immunoreset.model.registry import get_model
from immunoreset.trial import Trial
from immunoreset.trial.design import Replicates
from immunoreset.trial.priors import prior_overrides
from immunoreset.trial.run import power_table, replicate_trials


def test_prior_draws_are_reproducible_and_in_range() -> None:
    model = get_model("park2025")
    draws = prior_overrides(model, seed=1, replicate=3)
    assert draws == prior_overrides(model, seed=1, replicate=3)
    assert draws != prior_overrides(model, seed=1, replicate=4)
    for p in model.parameters:
        if p.has_prior:
            assert p.prior_low <= draws[p.name] <= p.prior_high
        else:
            assert p.name not in draws


@pytest.mark.parametrize("uncertainty", [False, True])
def test_replicates_give_power(small_trial: Trial, uncertainty: bool) -> None:
    design = small_trial.design.model_copy(
        update={"replicates": Replicates(trials=2, parameter_uncertainty=uncertainty)}
    )
    trial = Trial(**{**small_trial.__dict__, "design": design})
    reps = replicate_trials(trial)
    assert reps["replicate"].tolist() == [1, 2]
    assert reps["success"].isin([True, False]).all()
    power = power_table(reps, uncertainty)
    row = power.iloc[0]
    assert row["quantity"] == ("probability of success (prior draws)" if uncertainty else "power")
    assert row["replicates"] == 2
    assert row["low"] <= row["estimate"] <= row["high"]
    assert not math.isnan(row["high"])
