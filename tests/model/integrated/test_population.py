"""Integrated model, 1,000 virtual SLE patients with between-patient variability after the Erlangen
regimen: every patient integrates, DORIS at month 3 in at least half, relapse only after B cells
return and in at most 10 % by month 15. Relapse here: continuous clinical activity (renal and
musculoskeletal, SLEDAI-2K points) back to at least half its pre-treatment value after month 3."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from immunoreset.model.models.integrated import MODEL
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import parse_scenario
from immunoreset.simulate.engine import simulate

N_PATIENTS = 1000
START = -6
MONTH_15 = 456
OBS = {name: k for k, name in enumerate(MODEL.observables)}


@pytest.fixture(scope="module")
def population():
    scenario = parse_scenario(
        {
            "model": "integrated",
            "product": {"catalogue": "cd19-41bb-erlangen"},
            "regimen": {"conditioning": "standard"},
            "population": {"size": N_PATIENTS, "seed": 7, "variability": True},
            "horizon_days": MONTH_15,
            "output_times": {"start_day": START, "every_days": 1},
        }
    )
    inputs = prepare(scenario)
    params = inputs.parameters(np.arange(N_PATIENTS))
    return simulate(
        inputs.model, params, inputs.events(params), inputs.times, inputs.settings, inputs.t_start
    )


@pytest.mark.slow
def test_every_patient_integrates(population) -> None:
    assert np.count_nonzero(population.status) == 0


def doris_at_month_3(population) -> np.ndarray:
    """Per patient: the clinical DORIS items met at day 90 (renal items and arthritis of the
    clinical SLEDAI-2K absent, PGA < 0.5)."""
    v = population.values[:, 90 - START]
    return (
        (v[:, OBS["proteinuria"]] <= 500.0)
        & (v[:, OBS["sledai_item_arthritis"]] == 0.0)
        & (v[:, OBS["sledai_item_hematuria"]] == 0.0)
        & (v[:, OBS["pga"]] < 0.5)
    )


@pytest.mark.slow
def test_doris_at_month_3_in_at_least_half(population) -> None:
    assert doris_at_month_3(population).mean() >= 0.5


@pytest.mark.slow
def test_erlangen_5_of_5_within_the_range_of_virtual_cohorts_of_5(population) -> None:
    """Mackensen 2022: DORIS at month 3 in 5 of 5. Compared as a statistic of the study's size:
    the observed count lies inside the 5-95 % range of the count in virtual cohorts of 5 drawn
    from this population (binomial with its DORIS share)."""
    share = doris_at_month_3(population).mean()
    assert binom.ppf(0.95, 5, share) >= 5, share


@pytest.mark.slow
def test_relapse_only_after_b_cell_return_and_rare_by_month_15(population) -> None:
    v = population.values[:, -START:]
    days = np.arange(v.shape[1])
    activity = v[:, :, OBS["sle_activity"]]
    relapsed = (activity >= 0.5 * population.values[:, :1, OBS["sle_activity"]]) & (days > 90)
    b_back = v[:, :, OBS["b_cells_blood"]] >= 1.0
    n_relapsed = 0
    for i in range(v.shape[0]):
        if relapsed[i].any():
            first = np.argmax(relapsed[i])
            after_aplasia = np.argmax(v[i, :, OBS["b_cells_blood"]] < 1.0)
            assert b_back[i, after_aplasia:first].any(), i
            n_relapsed += 1
    assert n_relapsed <= 0.10 * v.shape[0]
