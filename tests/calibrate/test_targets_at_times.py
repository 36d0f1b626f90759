"""Targets reported on several days (``medians_at_times``, e.g. ZUMA-1's CAR counts on days 7, 14,
28 and 90): the calibration reads the quantity on each of the target's days, the per-day terms add
up to the target's log-likelihood, and a fit recovers the value that generated the medians. On
Stein 2019 (a 2-state model) so that each fit takes seconds."""

from __future__ import annotations

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.calibrate.cohort import Cohort
from immunoreset.calibrate.data import parse_targets
from immunoreset.calibrate.diagnostics import validation_table
from immunoreset.calibrate.fit import FitParameter, maximum_likelihood
from immunoreset.calibrate.objective import SummaryObjective
from immunoreset.calibrate.quantities import QuantitySeries, per_patient

DAYS = [7.0, 14.0, 28.0]
N = 19


def _scenario(size: int, seed: int) -> ir.Scenario:
    return ir.parse_scenario(
        {
            "model": "stein2019",
            "product": {"name": "tisagenlecleucel", "dose": {"value": 3.1e6, "unit": "cells/kg"}},
            "regimen": {"infusions": [{"day": 0}]},
            "population": {"size": size, "seed": seed, "variability": True},
            "horizon_days": 40,
            "output_times": {"every_days": 1},
        }
    )


@pytest.fixture(scope="module")
def targets() -> list:
    """Medians on DAYS of a 19-patient cohort at Cmax 24,000 (another seed than the fit's)."""
    observed = Cohort(_scenario(N, 99), ["cmax"])(np.array([24000.0]))
    series = QuantitySeries.parse("value:car_transgene", DAYS)
    medians = np.median(per_patient(observed, series), axis=0)
    return parse_targets(
        {
            "targets": [
                {
                    "id": "synthetic_series", "statistic": "medians_at_times",
                    "observable": "car_transgene", "unit": "copies/ug DNA", "times": DAYS,
                    "medians": medians.tolist(), "n": N, "study": "synthetic",
                    "source": "this test", "setting": "Stein 2019 typical", "use": "test",
                }
            ]
        }
    )  # fmt: skip


def test_a_series_is_read_on_each_of_the_targets_days(targets) -> None:
    objective = SummaryObjective(
        _scenario(200, 3), ["cmax"], targets, {"synthetic_series": "value:car_transgene"}
    )
    traj = objective.cohort(np.array([24000.0]))
    ((_, q),) = objective.pairs
    values = per_patient(traj, q)
    assert values.shape == (200, len(DAYS))
    for j, day in enumerate(DAYS):
        np.testing.assert_array_equal(
            values[:, j], per_patient(traj, f"value:car_transgene@{day:g}")
        )
    table = objective.contributions(np.array([24000.0]))
    assert list(table["quantity"]) == [f"value:car_transgene@{d:g}" for d in DAYS]
    assert table["loglik"].sum() == pytest.approx(-objective(np.array([24000.0])), rel=1e-12)


def test_a_fit_to_the_medians_recovers_the_generating_value(targets) -> None:
    objective = SummaryObjective(
        _scenario(200, 3), ["cmax"], targets, {"synthetic_series": "value:car_transgene"}
    )
    fit = maximum_likelihood(objective, [FitParameter("cmax", 1e3, 1e6, initial=5e3)], starts=2)
    row = fit.table().iloc[0]
    assert row["lower_95"] <= 24000.0 <= row["upper_95"], row


def test_validation_has_one_row_per_day(targets) -> None:
    table = validation_table(
        _scenario(50, 3), ["cmax"], np.array([24000.0]), targets,
        {"synthetic_series": "value:car_transgene"},
    )  # fmt: skip
    assert list(table["quantity"]) == [f"value:car_transgene@{d:g}" for d in DAYS]
    assert list(table["observed"]) == pytest.approx(targets[0].medians)


@pytest.mark.parametrize("text", ["value:car_transgene@7", "peak:car_transgene", "value"])
def test_a_series_needs_a_one_day_kind_without_its_day(targets, text: str) -> None:
    with pytest.raises(ValueError, match="read on the target's days: 7, 14, 28"):
        SummaryObjective(_scenario(20, 3), ["cmax"], targets, {"synthetic_series": text})
