"""Virtual-patient sampling: reproducible per patient, log-normal with the published variances."""

from __future__ import annotations

import math

import numpy as np

from immunoreset.model.models import park2025 as pk
from immunoreset.population.sampling import sample_parameters, variable_parameters

MODEL = pk.MODEL


def test_patient_parameters_depend_only_on_seed_and_index() -> None:
    whole = sample_parameters(MODEL, np.arange(50), seed=3)
    np.testing.assert_array_equal(sample_parameters(MODEL, np.arange(20, 35), seed=3), whole[20:35])
    np.testing.assert_array_equal(sample_parameters(MODEL, np.array([49, 0]), 3), whole[[49, 0]])
    assert not np.array_equal(sample_parameters(MODEL, np.arange(50), seed=4), whole)


def test_no_variability_gives_typical_values_with_overrides() -> None:
    p = sample_parameters(
        MODEL, np.arange(3), seed=0, variability=False, overrides={"weight_kg": 55}
    )
    assert np.all(p == MODEL.typical_parameters({"weight_kg": 55}))


def test_log_normal_spread_matches_omega2() -> None:
    """With 20,000 patients the sample variance of log(value/typical) is within 5 % of omega^2
    (the standard error of a variance estimate at n = 20,000 is 1 %)."""
    p = sample_parameters(MODEL, np.arange(20_000), seed=5)
    typical = MODEL.typical_parameters()
    for j in variable_parameters(MODEL):
        eta = np.log(p[:, j] / typical[j])
        assert abs(eta.mean()) < 4 * np.sqrt(MODEL.parameters[j].omega2 / 20_000)
        assert abs(np.var(eta) / MODEL.parameters[j].omega2 - 1) < 0.05


def test_logit_scale_shares_stay_below_one_with_the_given_spread() -> None:
    """Integrated model: the B-cell shares with logit-scale variability. 20,000 patients: every
    draw lies in (0, 1) and the sample variance of logit(value) - logit(typical) is within 5 % of
    omega^2 (standard error 1 %); log-scale parameters keep exactly typical * exp(eta)."""
    from immunoreset.model.models.integrated import MODEL as INTEGRATED
    from immunoreset.population.sampling import individual_values, logit_parameters

    logit = logit_parameters(INTEGRATED)
    names = [INTEGRATED.parameter_names[j] for j in np.flatnonzero(logit)]
    assert names == ["f_mem", "f_ara0", "f_pb"]
    p = sample_parameters(INTEGRATED, np.arange(20_000), seed=5)
    typical = INTEGRATED.typical_parameters()
    for j in np.flatnonzero(logit):
        assert np.all((p[:, j] > 0) & (p[:, j] < 1))
        eta = np.log(p[:, j] / (1 - p[:, j])) - np.log(typical[j] / (1 - typical[j]))
        omega2 = INTEGRATED.parameters[j].omega2
        assert abs(eta.mean()) < 4 * np.sqrt(omega2 / 20_000)
        assert abs(np.var(eta) / omega2 - 1) < 0.05
    eta = np.array([-40.0, -1.0, 0.0, 1.0, 40.0])
    shares = individual_values(np.full(5, 0.3), eta, np.ones(5, dtype=bool))
    assert np.all((shares >= 0) & (shares <= 1)) and math.isclose(shares[2], 0.3)
    logs = individual_values(np.full(5, 0.3), eta, np.zeros(5, dtype=bool))
    np.testing.assert_array_equal(logs, 0.3 * np.exp(eta))
