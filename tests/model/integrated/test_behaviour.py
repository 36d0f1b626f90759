"""Integrated model: product and regimen behaviour in the typical SLE patient.

Each comparison simulates the same patient (typical parameters, standard Erlangen conditioning
unless stated) with catalogue products through the scenario layer, each at its own default dose
unless the comparison is about the construct (CD28 is then given at the CD19 product's 1e6/kg).
Thresholds: "far more" = at least a 2-fold larger fall; "poorly" = a peak at least 10-fold
lower; "far less" = a ratio of fold-changes of at least 10. Modifiers without a quantitative
source (generations 4 and 5, the IL-18 payload, the CD20 binder) are tested for direction only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from immunoreset.model.models.integrated import MODEL
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import parse_scenario
from immunoreset.simulate.engine import simulate

OBS = {name: k for k, name in enumerate(MODEL.observables)}
START = -6
Series = Callable[[str], np.ndarray]

CASES: dict[str, dict] = {
    "cd19": {"catalogue": "cd19-41bb-erlangen"},
    "cd28": {"catalogue": "cd19-cd28-axicel", "dose": 1e6},
    "gen1": {"catalogue": "cd19-gen1"},
    "il18": {"catalogue": "cd19-41bb-il18"},
    "gen5": {"catalogue": "cd19-gen5"},
    "cd20": {"catalogue": "cd20-41bb"},
    "bcma": {"catalogue": "bcma-41bb-idecel"},
    "dual": {"catalogue": "bcma-cd19-dual"},
    "coinfusion": {"catalogue": "cd19-bcma-coinfusion"},
    "ld_reduced": {"catalogue": "cd19-41bb-erlangen", "conditioning": "reduced"},
    "ld_none": {"catalogue": "cd19-41bb-erlangen", "conditioning": "none"},
    "dose_low": {"catalogue": "cd19-41bb-erlangen", "dose": 1e6 / np.sqrt(10)},
    "dose_high": {"catalogue": "cd19-41bb-erlangen", "dose": 1e6 * np.sqrt(10)},
    "burden_low": {"catalogue": "cd19-41bb-erlangen", "b0_blood": 143 / np.sqrt(10)},
    "burden_high": {"catalogue": "cd19-41bb-erlangen", "b0_blood": 143 * np.sqrt(10)},
}


def _run(case: dict) -> np.ndarray:
    product: dict = {"catalogue": case["catalogue"]}
    if "dose" in case:
        product["dose"] = {"value": float(case["dose"]), "unit": "cells/kg"}
    overrides = {"b0_blood": float(case["b0_blood"])} if "b0_blood" in case else {}
    scenario = parse_scenario(
        {
            "model": "integrated",
            "product": product,
            "regimen": {"conditioning": case.get("conditioning", "standard")},
            "population": {"parameters": overrides},
            "horizon_days": 365,
            "output_times": {"start_day": START, "every_days": 1},
        }
    )
    inputs = prepare(scenario)
    params = inputs.parameters(np.arange(1))
    res = simulate(
        inputs.model, params, inputs.events(params), inputs.times, inputs.settings, inputs.t_start
    )
    assert res.status[0] == 0, res.status_message(0)
    return res.values[0]


@pytest.fixture(scope="module")
def runs() -> dict[str, np.ndarray]:
    return {name: _run(case) for name, case in CASES.items()}


def at(v: np.ndarray, name: str, day: int) -> float:
    return float(v[day - START, OBS[name]])


def fall(v: np.ndarray, name: str, day: int) -> float:
    """Relative fall from the pre-treatment value (day -6)."""
    return 1.0 - at(v, name, day) / at(v, name, START)


def peak(v: np.ndarray) -> tuple[int, float]:
    """Day and height of the expansion peak in blood, from day 1.

    The day-0 output is the instant of the infusion, before the cells leave the blood, so it is
    the dose divided by the blood volume for every construct; expansion is read after it, as the
    clinical post-infusion samples read it.
    """
    car = v[1 - START :, OBS["car_t_blood"]]
    return 1 + int(np.argmax(car)), float(car.max())


@pytest.mark.parametrize("product", ["bcma", "dual", "coinfusion"])
def test_bcma_products_lower_long_lived_antibody_and_igg_far_more(runs, product: str) -> None:
    for name in ("anti_ro", "igg_total"):
        assert fall(runs[product], name, 180) >= 2.0 * fall(runs["cd19"], name, 180), name


def test_cd20_spares_plasmablasts_so_anti_dsdna_falls_less(runs) -> None:
    cd20, cd19 = runs["cd20"], runs["cd19"]
    assert at(cd20, "plasma_cells_short", 7) > at(cd19, "plasma_cells_short", 7)
    assert fall(cd20, "anti_dsdna", 28) < fall(cd19, "anti_dsdna", 28)


def test_cd28_peaks_earlier_and_higher_and_persists_less_than_41bb(runs) -> None:
    (day28, peak28), (day41bb, peak41bb) = peak(runs["cd28"]), peak(runs["cd19"])
    assert day28 < day41bb and peak28 > peak41bb
    assert at(runs["cd28"], "car_t_blood", 365) < at(runs["cd19"], "car_t_blood", 365)


def test_first_generation_expands_poorly(runs) -> None:
    assert peak(runs["gen1"])[1] * 10.0 <= peak(runs["cd19"])[1]


def test_il18_payload_raises_expansion(runs) -> None:
    assert peak(runs["il18"])[1] > peak(runs["cd19"])[1]


def test_fifth_generation_persists_longer_with_less_exhaustion(runs) -> None:
    """Against its CD28 second-generation backbone (Kagoya 2018 compared 28z with 28-IL2RB-z)."""
    gen5, gen2 = runs["gen5"], runs["cd28"]
    assert at(gen5, "car_t_blood", 90) > at(gen2, "car_t_blood", 90)

    def exhausted_share(v: np.ndarray) -> float:
        return at(v, "car_t_exhausted_blood", 28) / at(v, "car_t_blood", 28)

    assert exhausted_share(gen5) < exhausted_share(gen2)


def test_without_lymphodepletion_the_peak_is_3_fold_lower_and_reduced_lies_between(runs) -> None:
    full, reduced, none = (peak(runs[k])[1] for k in ("cd19", "ld_reduced", "ld_none"))
    assert none * 3.0 <= full
    assert none < reduced < full


def test_peak_depends_far_less_on_dose_than_on_b_cell_burden(runs) -> None:
    by_dose = peak(runs["dose_high"])[1] / peak(runs["dose_low"])[1]
    by_burden = peak(runs["burden_high"])[1] / peak(runs["burden_low"])[1]
    assert by_burden / by_dose >= 10.0
