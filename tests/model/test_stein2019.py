"""Stein 2019 against its published closed form (relative error <= 1e-6 over 0-365 days).

The engine runs at rtol = atol = 1e-10 so that its own error is well below the 1e-6 criterion; the
closed form is exact, so any larger error is an error of the engine (event location at Tmax
included).
"""

from __future__ import annotations

import numpy as np
import pytest

from immunoreset.model.models import stein2019
from immunoreset.population.sampling import sample_parameters
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.therapy.regimen import Infusion, ProductDose, Regimen, dosing_events

MODEL = stein2019.MODEL
T_OUT = np.union1d(np.linspace(0.0, 365.0, 1461), [9.3])  # every 6 hours, plus the typical Tmax
TIGHT = SolverSettings(rtol=1e-10, atol=1e-10)


def _run(params: np.ndarray) -> np.ndarray:
    events = dosing_events(MODEL, ProductDose(3.1e6, "cells/kg"), Regimen((Infusion(0.0),)),
                           np.full(len(params), 40.0))  # fmt: skip
    res = simulate(MODEL, params, events, T_OUT, TIGHT)
    assert np.all(res.status == 0)
    return res.values[:, :, 0]


def test_typical_matches_closed_form() -> None:
    p = MODEL.typical_parameters()
    sim = _run(p[None, :])[0]
    exact = stein2019.closed_form(T_OUT, p)
    assert np.max(np.abs(sim / exact - 1)) <= 1e-6
    assert sim.max() == pytest.approx(24000.0, rel=1e-6)  # Cmax is reached at Tmax = 9.3 d


def test_sampled_patients_match_closed_form() -> None:
    params = sample_parameters(MODEL, np.arange(25), seed=7, variability=True)
    sims = _run(params)
    for p, sim in zip(params, sims, strict=True):
        exact = stein2019.closed_form(T_OUT, p)
        assert np.max(np.abs(sim / exact - 1)) <= 1e-6


def test_typical_values_are_the_published_ones() -> None:
    p = {q.name: q for q in MODEL.parameters}
    assert (p["foldx"].value, p["tmax"].value, p["cmax"].value) == (3900, 9.3, 24000)
    assert (p["alpha"].value, p["fb"].value, p["beta"].value) == (0.16, 0.0079, 0.0032)
    assert [p[n].omega2 for n in ("foldx", "tmax", "cmax", "alpha", "fb", "beta")] == [
        2.4, 0.38, 0.65, 0.91, 0.8, 0.86,
    ]  # fmt: skip
