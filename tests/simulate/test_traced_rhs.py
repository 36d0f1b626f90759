"""The traced right-hand side, observables and switch functions: equal to the model's own functions
on the shipped models, a model that cannot be traced runs on its own functions, and a run on either
agrees with the other."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numba
import numpy as np
import pytest

from immunoreset.model.core import DoseInput, Model, Parameter, State
from immunoreset.model.registry import get_model
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.analytic import traced_outputs, traced_rhs
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.simulate.native import python_caller
from immunoreset.therapy.regimen import DosingEvents


@pytest.mark.parametrize("name", ["stein2019", "park2025", "integrated"])
def test_equal_to_the_models_own_functions(name: str) -> None:
    """Random states over two decades around each state's typical size, in every switch mode, at
    times before, during and after treatment. The traced rates group sums and products as the
    computer algebra orders them, so they differ from the model's own by rounding (measured worst
    6e-14 of the rate); 1e-11 leaves room for other states, and a wrong term would be off by the
    size of the term itself. Observables and switch functions likewise, at the last state."""
    model = get_model(name)
    p = model.typical_parameters()
    compiled = traced_rhs(model, p)
    assert compiled is not None and compiled.applies(p[None, :]).all()
    rhs = python_caller(compiled.address)
    rng = np.random.default_rng(11)
    y0 = np.abs(model.initial(p))
    ref = np.where(y0 > 0, y0, 1e6 * np.array([s.atol_scale for s in model.states]))
    for mode in itertools.product((0.0, 1.0), repeat=len(model.switch_names)):
        mode = np.array(mode, dtype=np.float64)
        for t in (-3.0, 2.0, 40.0):
            y = ref * 10.0 ** rng.uniform(-1.0, 1.0, model.n_states)
            own, traced = np.empty(model.n_states), np.empty(model.n_states)
            model.rhs(t, y, p, mode, own)
            rhs(t, y, p, mode, traced)
            worst = np.max(np.abs(traced - own) / (np.abs(own) + 1e-300))
            assert worst < 1e-11, (name, mode, t, worst)
        for role, size in (("observe", len(model.observables)),
                           ("switches", len(model.switch_names))):  # fmt: skip
            outputs = traced_outputs(model, p, role)
            assert outputs is not None and outputs.applies(p[None, :]).all()
            own, traced = np.empty(size), np.empty(size)
            getattr(model, role)(40.0, y, p, own)
            python_caller(outputs.address)(40.0, y, p, mode, traced)
            assert np.max(np.abs(traced - own) / (np.abs(own) + 1e-300), initial=0.0) < 1e-11


@numba.njit
def _stops_at_one(t, y, p, mode, dydt):
    """y' = -r y above 1, 0 below: a branch on a state, which tracing cannot follow."""
    if y[0] > 1.0:
        dydt[0] = -p[0] * y[0]
    else:
        dydt[0] = 0.0


@numba.njit
def _start_at_three(p, y0):
    y0[0] = 3.0


@numba.njit
def _observe(t, y, p, out):
    out[0] = y[0]


@numba.njit
def _nothing(*args):
    pass


def test_a_model_that_cannot_be_traced_runs_on_its_own_function() -> None:
    """y = 3 exp(-t) until it reaches 1 at t = ln 3, then 1: the run matches to 1e-5 (rtol = atol =
    1e-8; the kink at ln 3 is not a switch, so the step control alone has to find it)."""
    model = Model(
        name="stops_at_one", title="stops at one", reference="test", description="test",
        states=(State("y", "1", "y"),),
        parameters=(Parameter("r", 1.0, "1/day", "rate", "test", "H"),),
        inputs=(DoseInput("car_t_cells", "cells", "unused"),), observables=("car_t_blood",),
        switch_names=(), initial_state=_start_at_three, rhs=_stops_at_one, switches=_nothing,
        dose=_nothing, observe=_observe,
    )  # fmt: skip
    p = model.typical_parameters()
    assert traced_rhs(model, p) is None
    times = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    events = DosingEvents(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((1, 0)))
    run = simulate(model, p[None, :], events, times, SolverSettings(rtol=1e-8, atol=1e-8), 0.0)
    assert run.status[0] == 0
    exact = np.maximum(3.0 * np.exp(-times), 1.0)
    np.testing.assert_allclose(run.values[0, :, 0], exact, rtol=1e-5)


def test_a_run_on_the_traced_rhs_agrees_with_the_models_own(examples_dir: Path) -> None:
    """Three patients of the integrated example with variability, run on either right-hand side
    at rtol = atol = 1e-9, against the model's own at 1e-11. The two differ by rounding only, which
    the integration cannot tell from its own error: both stay within 1e-4 of each output's largest
    value (measured worst 1.4e-5 traced, 0.7e-5 own, both at the IFN-gamma peak of day 3, where the
    two runs at 1e-11 agree to 1e-9)."""
    scenario = load_scenario(examples_dir / "integrated_cd19_41bb_erlangen.yaml")
    pop = scenario.population.model_copy(update={"size": 3, "variability": True})
    inputs = prepare(scenario.model_copy(update={"population": pop, "horizon_days": 365}))
    params = inputs.parameters(np.arange(3))
    events = inputs.events(params)
    p_typ = inputs.model.typical_parameters(inputs.overrides)

    def run(rhs: str, tol: float) -> np.ndarray:
        settings = dataclasses.replace(inputs.settings, rtol=tol, atol=tol, rhs=rhs)
        result = simulate(inputs.model, params, events, inputs.times, settings, inputs.t_start,
                          None, p_typ)  # fmt: skip
        assert (result.status == 0).all()
        return result.values

    ref = run("model", 1e-11)
    scale = np.abs(ref).max(axis=1, keepdims=True) + 1e-12
    for rhs in ("traced", "model"):
        assert np.max(np.abs(run(rhs, 1e-9) - ref) / scale) < 1e-4, rhs
