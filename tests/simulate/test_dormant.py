"""Dormant states: zero states that nothing doses and the equations keep at zero are left out of
the Jacobian, per patient, without changing results (integrated model: a second product slot and
a tumour that an autoimmune, single-product patient does not have)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.engine import simulate
from immunoreset.simulate.kernels import kernel_for
from immunoreset.simulate.reference import solve_reference
from immunoreset.simulate.sparsity import dormant_states
from immunoreset.therapy.regimen import DosingEvents

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _inputs(example: str, n: int, horizon: int = 120):
    scenario = load_scenario(EXAMPLES / example)
    pop = scenario.population.model_copy(update={"size": n, "seed": 3, "variability": True})
    return prepare(scenario.model_copy(update={"population": pop, "horizon_days": horizon}))


def _names(model, mask: np.ndarray) -> set[str]:
    return {model.states[i].name for i in np.flatnonzero(mask)}


def test_single_product_patient_has_second_slot_and_tumour_dormant() -> None:
    inputs = _inputs("integrated_cd19_41bb_erlangen.yaml", 1)
    model, p = inputs.model, inputs.model.typical_parameters(inputs.overrides)
    dosed = np.zeros(model.n_states, dtype=bool)
    _, touched = kernel_for(model).pretreatment(p[None, :], p, model.n_states, len(model.inputs))
    for k in np.unique(inputs.events(p[None, :]).inputs):
        dosed |= touched[int(k)]
    candidates = (model.initial(p) == 0.0) & ~dosed
    dormant = _names(model, dormant_states(model, p, candidates))
    slot_b = {s.name for s in model.states if s.name.startswith("car_b_")}
    assert dormant == slot_b | {"tumour_ly", "tumour_bm"}


def test_a_zero_state_fed_by_another_is_not_dormant() -> None:
    """Central-memory CAR cells start at zero but are made from stem-like cells."""
    inputs = _inputs("integrated_cd19_41bb_erlangen.yaml", 1)
    model, p = inputs.model, inputs.model.typical_parameters(inputs.overrides)
    candidates = np.array([s.name == "car_a_cm_blood" for s in model.states])
    assert not dormant_states(model, p, candidates).any()


@pytest.fixture(scope="module")
def coinfusion():
    """Two co-infusion patients; the first is given no second product, so its dormant states
    differ from the second's and the batch runs in two groups."""
    inputs = _inputs("integrated_cd19_bcma_coinfusion.yaml", 2)
    params = inputs.parameters(np.arange(2))
    events = inputs.events(params)
    slot_b = inputs.model.input_index("car_t_cells_b")
    amounts = events.amounts.copy()
    amounts[0, events.inputs == slot_b] = 0.0
    return inputs, params, DosingEvents(events.times, events.inputs, amounts)


def test_patient_results_do_not_depend_on_a_batch_with_other_dormant_states(coinfusion) -> None:
    inputs, params, events = coinfusion

    def run(rows: list[int]) -> np.ndarray:
        sub = DosingEvents(events.times, events.inputs, events.amounts[rows])
        res = simulate(
            inputs.model, params[rows], sub, inputs.times, inputs.settings, inputs.t_start,
            None, inputs.model.typical_parameters(inputs.overrides),
        )  # fmt: skip
        assert np.all(res.status == 0)
        return res.values

    together = run([0, 1])
    np.testing.assert_array_equal(together[0], run([0])[0])
    np.testing.assert_array_equal(together[1], run([1])[0])


def test_engine_with_dormant_states_agrees_with_lsoda(coinfusion) -> None:
    """Engine at rtol = atol = 1e-10 against LSODA at 1e-12, for both patients, within 1e-4
    relative (values below 1e-3 compared absolutely): the code-verification criterion of the
    calibration report (immunoreset.calibrate.diagnostics.VERIFICATION_TOLERANCE, which explains
    why both run this tight)."""
    inputs, params, events = coinfusion
    tight = dataclasses.replace(inputs.settings, rtol=1e-10, atol=1e-10)
    res = simulate(
        inputs.model, params, events, inputs.times, tight, inputs.t_start, None,
        inputs.model.typical_parameters(inputs.overrides),
    )  # fmt: skip
    for i in range(2):
        ref = solve_reference(
            inputs.model, params[i], inputs.t_start, events.for_patient(i), inputs.times,
            rtol=1e-12, atol=1e-12,
        )  # fmt: skip
        diff = np.abs(res.values[i] - ref) / np.maximum(np.abs(ref), 1e-3)
        assert diff.max() < 1e-4, (i, inputs.model.observables[int(diff.max(axis=0).argmax())])
