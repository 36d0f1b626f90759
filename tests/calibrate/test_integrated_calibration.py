"""Calibrating the integrated model's CAR-expansion and B-cell-return parameters to the Erlangen
targets reproduces them (slow: a few hundred evaluations of a 20-patient cohort)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2

from immunoreset.calibrate.run import run_calibration
from immunoreset.model.models.integrated import MODEL

CONFIG = (
    Path(__file__).resolve().parents[2]
    / "examples"
    / "calibration"
    / "integrated_sle_mackensen.yaml"
)


@pytest.mark.slow
def test_fit_from_other_starting_values_reproduces_the_targets() -> None:
    result = run_calibration(CONFIG)
    targets = result.targets.set_index("target")
    # every virtual patient's peak day within the observed 7-10 would be the strict reading of an
    # observed range of 5; the 5th-95th percentile of the 20-patient cohort is what the range of 5
    # is compared with (docs/calibration.md, order statistics)
    day = targets.loc["mack22_car_peak_day"]
    assert day["cohort_p05"] >= 7 and day["cohort_p95"] <= 10, day
    peak = targets.loc["mack22_car_peak"]
    assert peak["cohort_p05"] >= 30 and peak["cohort_p95"] <= 1000, peak
    # a mean of 5 patients: within 2 standard errors of the reported mean (110, SD 32)
    back = targets.loc["mack22_b_return"]
    assert abs(back["cohort_mean"] - 110.0) <= 2 * 32.0 / math.sqrt(5), back
    # the shipped defaults (which the provenance file records, see
    # tests/model/integrated/test_provenance.py) lie inside this fit's 95 % likelihood-ratio
    # confidence region (-log L within chi2(0.95, 2) / 2 of the minimum): the top of the objective
    # is flat, and where the optimiser stops on it changes with the rounding of every default
    shipped = np.array([MODEL.parameter(name).value for name in result.fit.names])
    assert result.objective(shipped) - result.fit.nll <= chi2.ppf(0.95, 2) / 2
    assert result.verification["passed"].all()
