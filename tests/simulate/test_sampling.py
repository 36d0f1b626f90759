"""Virtual-patient sampling: reproducible per patient, log-normal with the published variances."""

from __future__ import annotations

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
