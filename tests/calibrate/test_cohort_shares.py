"""Calibration cohorts move a logit-scale share on its own scale: each patient keeps its random
effect, ``logit(value_i) = logit(theta) + eta_i``, so a share stays below 1 at any typical value."""

from __future__ import annotations

import numpy as np
import pytest

from immunoreset.calibrate.cohort import Cohort
from immunoreset.scenario.load import ScenarioError, parse_scenario

DOC = {
    "model": "integrated",
    "product": {"catalogue": "cd19-41bb-erlangen"},
    "regimen": {"conditioning": "standard"},
    "population": {"size": 50, "seed": 3, "variability": True},
    "horizon_days": 30,
}


def _logit(x: np.ndarray) -> np.ndarray:
    return np.log(x / (1 - x))


def test_a_share_keeps_its_random_effect_on_the_logit_scale() -> None:
    cohort = Cohort(parse_scenario(DOC), ["f_mem", "d_mem"])
    j, k = cohort.columns
    same = cohort.parameters(cohort.typical)
    np.testing.assert_allclose(same, cohort.base, rtol=1e-12)
    moved = cohort.parameters(np.array([0.9, 0.1]))
    assert np.all((moved[:, j] > 0) & (moved[:, j] < 1))
    np.testing.assert_allclose(
        _logit(moved[:, j]) - _logit(np.array(0.9)),
        _logit(cohort.base[:, j]) - _logit(cohort.typical[0]),
        atol=1e-9,
    )
    np.testing.assert_allclose(moved[:, k], cohort.base[:, k] * 0.1 / cohort.typical[1])


def test_a_share_outside_0_1_is_refused_in_a_scenario() -> None:
    doc = DOC | {"population": {"parameters": {"f_mem": 1.2}}}
    with pytest.raises(ScenarioError, match=r"population.parameters.f_mem: got 1.2.*between 0"):
        parse_scenario(doc)
