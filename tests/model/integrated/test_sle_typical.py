"""Integrated model, typical SLE patient after the Erlangen regimen: behaviour of the issue.

Regimen: fludarabine 25 mg/m2 on days -5, -4, -3 and cyclophosphamide 1000 mg/m2 on day -3 (Park
2025 Methods), 1e6 CAR+ cells/kg of the Erlangen-like 4-1BB CD19 product on day 0 (Mackensen 2022).
Baseline means before lymphodepletion (day -6). Thresholds are the behaviour the model must show
(calibration targets mack22_car_peak, mack22_b_return, mack22_doris_m3; Hill 2019 for IgG).
"""

from __future__ import annotations

import numpy as np
import pytest

from immunoreset.model.models.integrated import MODEL, model
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.therapy.regimen import DosingEvents

WEIGHT_KG = 70.0
T_OUT = np.arange(-6.0, 731.0)
OBS = {name: k for k, name in enumerate(MODEL.observables)}
K_IGG = MODEL.parameter("k_igg").value


def erlangen_events(cells_per_kg: float = 1e6) -> DosingEvents:
    times = np.array([-5.0, -4.0, -3.0, -3.0, 0.0])
    inputs = np.array([model.FLUDARABINE] * 3 + [model.CYCLOPHOSPHAMIDE, model.CAR_A])
    amounts = np.array([[25.0, 25.0, 25.0, 1000.0, cells_per_kg * WEIGHT_KG]])
    return DosingEvents(times, inputs.astype(np.int64), amounts)


@pytest.fixture(scope="module")
def v() -> np.ndarray:
    p = MODEL.typical_parameters()
    res = simulate(MODEL, p[None, :], erlangen_events(), T_OUT, SolverSettings(), -6.0)
    assert res.status[0] == 0, res.status_message(0)
    return res.values[0]


def at(v: np.ndarray, name: str, day: float) -> float:
    return float(v[round(day - T_OUT[0]), OBS[name]])


def test_no_compartment_goes_negative(v: np.ndarray) -> None:
    assert np.all(v >= 0.0)


def test_blood_b_cells_below_1_per_ul_by_day_14(v: np.ndarray) -> None:
    assert at(v, "b_cells_blood", 14) < 1.0


def test_lymphoid_b_cells_depleted_95_percent_at_nadir(v: np.ndarray) -> None:
    window = v[int(7 - T_OUT[0]) : int(29 - T_OUT[0]), OBS["b_cells_lymphoid"]]
    assert window.min() <= 0.05 * at(v, "b_cells_lymphoid", -6)


def test_anti_dsdna_falls_70_percent_by_month_6_but_not_faster_than_igg_elimination(
    v: np.ndarray,
) -> None:
    base = at(v, "anti_dsdna", -6)
    assert at(v, "anti_dsdna", 180) <= 0.3 * base
    days = np.arange(0.0, 181.0)
    level = np.array([at(v, "anti_dsdna", d) for d in days])
    # Elimination alone (no production) is the fastest possible fall from the day-0 level.
    floor = level[0] * np.exp(-K_IGG * days)
    assert np.all(level >= floor * (1.0 - 1e-3))


def test_igg_and_vaccine_titre_largely_preserved_at_month_6(v: np.ndarray) -> None:
    assert at(v, "igg_total", 180) > 0.7 * at(v, "igg_total", -6)
    assert at(v, "vaccine_titre", 180) > 0.8 * at(v, "vaccine_titre", -6)


def test_car_peak_day_6_to_14_and_30_to_1000_cells(v: np.ndarray) -> None:
    car = v[int(-T_OUT[0]) :, OBS["car_t_blood"]]
    day = int(np.argmax(car))
    assert 6 <= day <= 14 and 30.0 <= car[day] <= 1000.0


def test_b_cells_return_between_day_60_and_200(v: np.ndarray) -> None:
    b = v[int(-T_OUT[0]) :, OBS["b_cells_blood"]]
    below = np.flatnonzero(b < 1.0)
    back = np.flatnonzero((b[:-1] >= 1.0) & (b[1:] >= 1.0) & (np.arange(len(b) - 1) > below[0]))
    assert len(back) and 60 <= back[0] <= 200


def test_doris_criteria_met_at_month_3(v: np.ndarray) -> None:
    assert at(v, "proteinuria", 90) <= 500.0
    assert at(v, "sledai_item_arthritis", 90) == 0.0
    assert at(v, "sledai_item_hematuria", 90) == 0.0
    assert at(v, "pga", 90) < 0.5
    assert at(v, "prednisolone_mg_day", 90) <= 5.0
