"""SBML export: the file is valid SBML L3V2, carries sources, and libRoadRunner (an independent
simulator: LLVM-compiled SBML, CVODE) reproduces the engine's trajectories."""

from __future__ import annotations

from pathlib import Path

import libsbml
import numba
import numpy as np
import pytest
import roadrunner

from immunoreset.cli.main import main
from immunoreset.export import SbmlExportError, export_sbml, export_scenario_sbml
from immunoreset.export.sbml import output_ids, state_ids
from immunoreset.export.symbolic import symbolic
from immunoreset.model.core import DoseInput, Model, Parameter, State
from immunoreset.model.kernel import where
from immunoreset.model.registry import get_model
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.engine import SolverSettings, simulate

TIGHT = 1e-10
AGREEMENT = 1e-4
"""Relative agreement of the two simulators, both at rtol = atol = 1e-10, taken against
max(|value|, 1e-6 x the output's largest value): outputs that fall to 1e-20 of their scale are
resolved by neither solver beyond its absolute tolerance (as in the engine's own verification)."""
RESIDUE = TIGHT
"""Largest value libRoadRunner may give an output that the engine holds at exactly zero (the
integrated model's typical patient has no second product and is given no tocilizumab): its
Newton iterations leave residues of about 1e-13 in states whose derivative vanishes at zero,
within the absolute tolerance."""
INTEGRATED = "integrated_cd19_41bb_erlangen.yaml"


def _engine(scenario) -> tuple[np.ndarray, np.ndarray, object]:
    inputs = prepare(scenario)
    p = inputs.model.typical_parameters(inputs.overrides)[None, :]
    res = simulate(inputs.model, p, inputs.events(p), inputs.times, SolverSettings(rtol=TIGHT,
                   atol=TIGHT), inputs.t_start)  # fmt: skip
    assert res.status[0] == 0
    return inputs.times, res.values[0], inputs.model


def _roadrunner(text: str, model: Model, times: np.ndarray) -> np.ndarray:
    options = roadrunner.LoadSBMLOptions()
    # LLVM's newer JIT compiles the integrated model's equations (4 MB of MathML) in 3 s, the
    # default one in 20 s; both compile the same code.
    options.setLLVMBackend(roadrunner.LoadSBMLOptions.LLJIT)
    rr = roadrunner.RoadRunner(text, options)
    rr.integrator.relative_tolerance = TIGHT
    for sid, state in zip(state_ids(model), model.states, strict=True):
        rr.integrator.setIndividualTolerance(sid, TIGHT * state.atol_scale)
    rr.integrator.maximum_num_steps = 1_000_000
    rr.timeCourseSelections = ["time", *output_ids(model)]
    out = np.array(rr.simulate(float(times[0]), float(times[-1]), len(times)))
    np.testing.assert_allclose(out[:, 0], times, rtol=0, atol=1e-9)
    return out[:, 1:]


@pytest.mark.parametrize(
    "example",
    ["stein2019_typical.yaml", "park2025_sle_typical.yaml", pytest.param(INTEGRATED,
     marks=pytest.mark.slow)],
)  # fmt: skip
def test_libroadrunner_reproduces_the_engine(examples_dir: Path, example: str) -> None:
    """Every output over the scenario's horizon. The integrated model's typical patient (about
    15 s) starts on day -6: fludarabine on days -5 to -3, cyclophosphamide on day -3, the CAR
    cells on day 0, then 730 days; its equations carry the model's branches on states as
    ``piecewise`` and the switch modes as factors."""
    scenario = load_scenario(examples_dir / example)
    times, ours, model = _engine(scenario)
    theirs = _roadrunner(export_scenario_sbml(scenario), model, times)
    zero = np.all(ours == 0.0, axis=0)
    assert np.abs(theirs[:, zero]).max(initial=0.0) < RESIDUE
    names = np.array(model.observables)[~zero]
    ours, theirs = ours[:, ~zero], theirs[:, ~zero]
    scale = np.maximum(np.abs(ours), 1e-6 * np.abs(ours).max(axis=0))
    rel = np.abs(theirs - ours) / scale
    rel[times == 0.0] = 0.0  # at a dosing time the engine reports the post-dose state by design
    worst = np.unravel_index(np.argmax(rel), rel.shape)
    assert rel.max() < AGREEMENT, (
        f"{names[worst[1]]} at day {times[worst[0]]}: {theirs[worst]} vs {ours[worst]}"
    )


def test_export_is_valid_sbml_with_sources(examples_dir: Path) -> None:
    text = export_scenario_sbml(load_scenario(examples_dir / "park2025_sle_typical.yaml"))
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]  # fmt: skip
    assert not errors, errors[0].getMessage()
    sbml = doc.getModel()
    assert sbml.getTimeUnits() == "day"
    kexp = sbml.getParameter("kexp_max_cd8")
    assert "Park 2025" in kexp.getNotesString() and "1/day" in kexp.getNotesString()
    assert sbml.getParameter("c3_state") is not None  # state c3 and output c3 kept apart
    assert {sbml.getEvent(i).getId() for i in range(sbml.getNumEvents())} >= {
        "dose_0", "dose_1", "mode_reconstitution_on", "mode_reconstitution_off",
    }  # fmt: skip


@numba.njit
def _branchy_rhs(t, y, p, mode, dydt):
    if y[0] > 1.0:
        dydt[0] = -1.0
    else:
        dydt[0] = 0.0


@numba.njit
def _noop(*args):
    pass


def _one_state_model(name: str, rhs, k: float) -> Model:
    return Model(
        name=name, title="t", reference="t", description="t",
        states=(State("x", "1", "x"),),
        parameters=(Parameter("k", k, "1", "k", "test", "H"),),
        inputs=(DoseInput("car_t_cells", "cells", "unused"),), observables=("car_t_blood",),
        switch_names=(), initial_state=_noop, rhs=rhs, switches=_noop, dose=_noop,
        observe=_noop,
    )  # fmt: skip


def test_a_branch_on_a_state_is_a_clear_error() -> None:
    model = _one_state_model("branchy", _branchy_rhs, 1.0)
    with pytest.raises(SbmlExportError, match="branches on a state or parameter value"):
        export_sbml(model)


@numba.njit
def _where_rhs(t, y, p, mode, dydt):
    dydt[0] = where(y[0] > p[0], -y[0], 0.0) + where(t <= 1.0, 1.0, 0.0)


def test_a_branch_written_with_where_is_a_piecewise() -> None:
    model = _one_state_model("stepped", _where_rhs, 0.5)
    dydt = np.zeros(1)
    _where_rhs(0.0, np.array([1.0]), np.array([0.5]), np.zeros(0), dydt)
    assert dydt[0] == 0.0  # compiled: the plain branch
    doc = libsbml.readSBMLFromString(export_sbml(model))  # owns the rule: keep it alive
    assert libsbml.formulaToL3String(doc.getModel().getRateRule("x").getMath()) == (
        "piecewise(1, time <= 1, 0) + piecewise(-x, x > k, 0)"
    )


@pytest.mark.slow
def test_traced_equations_are_the_compiled_ones() -> None:
    """The integrated model traced as the export traces it (an empty product slot on the full
    path, ``where`` as a choice), run on numbers, gives exactly the compiled right-hand side and
    outputs at a state with CAR cells in slot a only, B cells below baseline (the other branch of
    the precursor feedback) and both treatments on: skipping the empty slot is only a shortcut.
    Slow only because it compiles the right-hand side (20 s)."""
    model = get_model("integrated")
    names = [s.name for s in model.states]
    p = model.typical_parameters()
    y = np.zeros(model.n_states)
    model.initial_state(p, y)
    for name in ("car_a_cm_blood", "car_a_scm_marrow", "car_a_stim", "toci_central", "musc"):
        y[names.index(name)] = 2.0
    y[names.index("b_nv_bl")] *= 0.5
    mode = np.ones(len(model.switch_names))
    compiled, traced = np.zeros(model.n_states), np.zeros(model.n_states, dtype=object)
    model.rhs(2.0, y, p, mode, compiled)
    symbolic(model.rhs)(2.0, y, p, mode, traced)
    assert np.any(compiled[[names.index("car_a_cm_blood"), names.index("b_pre1_bm")]] != 0.0)
    np.testing.assert_array_equal(traced.astype(float), compiled)
    compiled, traced = np.zeros(len(model.observables)), np.zeros(len(model.observables), object)
    model.observe(2.0, y, p, compiled)
    symbolic(model.observe)(2.0, y, p, traced)
    assert compiled[model.observables.index("sledai_item_arthritis")] == 1.0
    np.testing.assert_allclose(traced.astype(float), compiled, rtol=1e-15, atol=0.0)


def test_export_command(examples_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "park.xml"
    scenario = str(examples_dir / "park2025_sle_typical.yaml")
    assert main(["export", "park2025", "--scenario", scenario, "--out", str(out)]) == 0
    assert libsbml.readSBMLFromString(out.read_text()).getModel().getId() == "park2025"
    assert main(["export", "park2025", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", "stein2019", "--scenario", scenario]) == 2
    assert "allowed: 'stein2019'" in capsys.readouterr().err
    assert main(["export", "nope"]) == 2
    assert main(["export", "stein2019"]) == 0
    assert capsys.readouterr().out.startswith("<?xml")
