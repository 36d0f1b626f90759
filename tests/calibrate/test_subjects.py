"""Per-subject MAP fits on Stein 2019: rich data pull a subject's estimate to its own value, no
information leaves it at the prior (the population value)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immunoreset as ir
from immunoreset.calibrate.objective import IndividualObjective
from immunoreset.calibrate.subjects import fit_subjects

TIMES = np.array([1, 2, 4, 7, 9, 11, 14, 21, 28, 56, 90.0])


def _rows(subject: str, values: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"subject": subject, "time": times, "name": "car_transgene", "value": values,
         "unit": "copies/ug DNA", "blq": False, "evid": 0, "amount": np.nan, "lloq": np.nan}
    )  # fmt: skip


def test_rich_data_move_the_estimate_and_a_lone_far_sample_barely_does() -> None:
    scenario = ir.load_scenario("examples/stein2019_typical.yaml")
    typical = {"cmax": 24000.0}
    template = IndividualObjective(
        scenario, ["cmax"], _rows("x", np.ones(len(TIMES)), TIMES), {"car_transgene": "lognormal"}
    )
    curve = template.predictions(np.array([48000.0, 0.1]))["pred"].to_numpy()
    rng = np.random.default_rng(5)
    rich = _rows("rich", curve * np.exp(0.05 * rng.standard_normal(len(TIMES))), TIMES)
    # one sample on day 90 carries almost no information on the expansion peak
    lone = _rows("lone", np.array([curve[-1] * 1.0]), TIMES[-1:])
    data = pd.concat([rich, lone], ignore_index=True)
    estimates, shrinkage = fit_subjects(
        scenario, typical, data, {"car_transgene": "lognormal"}, [0.05]
    )
    est = estimates.set_index("subject")
    assert est.loc["rich", "lower_95"] <= 48000.0 <= est.loc["rich", "upper_95"]
    assert est.loc["rich", "estimate"] == pytest.approx(48000.0, rel=0.05)
    # the model's omega^2 of cmax is 0.65 (Stein 2019): the prior keeps the lone subject near 24000
    assert abs(est.loc["lone", "eta"]) < abs(est.loc["rich", "eta"])
    assert list(shrinkage["parameter"]) == ["cmax"]
    assert shrinkage.loc[0, "omega"] == pytest.approx(np.sqrt(0.65))


def test_parameters_without_variability_need_an_omega() -> None:
    scenario = ir.load_scenario("examples/park2025_sle_typical.yaml")
    data = _rows("a", np.array([10.0]), np.array([7.0])).assign(name="car_t_blood", unit="cells/uL")
    with pytest.raises(ValueError, match="omega2 of 'kel_m'"):
        fit_subjects(scenario, {"kel_m": 1.0}, data, {"car_t_blood": "lognormal"}, [0.3])
