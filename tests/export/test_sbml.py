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
from immunoreset.model.core import DoseInput, Model, Parameter, State
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.engine import SolverSettings, simulate

TIGHT = 1e-10
AGREEMENT = 1e-4
"""Relative agreement of the two simulators, both at rtol = atol = 1e-10, taken against
max(|value|, 1e-6 x the output's largest value): outputs that fall to 1e-20 of their scale are
resolved by neither solver beyond its absolute tolerance (as in the engine's own verification)."""


def _engine(scenario) -> tuple[np.ndarray, np.ndarray, object]:
    inputs = prepare(scenario)
    p = inputs.model.typical_parameters(inputs.overrides)[None, :]
    res = simulate(inputs.model, p, inputs.events(p), inputs.times, SolverSettings(rtol=TIGHT,
                   atol=TIGHT), inputs.t_start)  # fmt: skip
    assert res.status[0] == 0
    return inputs.times, res.values[0], inputs.model


def _roadrunner(text: str, model: Model, times: np.ndarray) -> np.ndarray:
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = TIGHT
    for sid, state in zip(state_ids(model), model.states, strict=True):
        rr.integrator.setIndividualTolerance(sid, TIGHT * state.atol_scale)
    rr.integrator.maximum_num_steps = 1_000_000
    rr.timeCourseSelections = ["time", *output_ids(model)]
    out = np.array(rr.simulate(float(times[0]), float(times[-1]), len(times)))
    np.testing.assert_allclose(out[:, 0], times, rtol=0, atol=1e-9)
    return out[:, 1:]


@pytest.mark.parametrize("example", ["stein2019_typical.yaml", "park2025_sle_typical.yaml"])
def test_libroadrunner_reproduces_the_engine(examples_dir: Path, example: str) -> None:
    scenario = load_scenario(examples_dir / example)
    times, ours, model = _engine(scenario)
    theirs = _roadrunner(export_scenario_sbml(scenario), model, times)
    scale = np.maximum(np.abs(ours), 1e-6 * np.abs(ours).max(axis=0))
    rel = np.abs(theirs - ours) / scale
    rel[times == 0.0] = 0.0  # at a dosing time the engine reports the post-dose state by design
    worst = np.unravel_index(np.argmax(rel), rel.shape)
    assert rel.max() < AGREEMENT, (
        f"{model.observables[worst[1]]} at day {times[worst[0]]}: {theirs[worst]} vs {ours[worst]}"
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


def test_a_branch_on_a_state_is_a_clear_error() -> None:
    model = Model(
        name="branchy", title="t", reference="t", description="t",
        states=(State("x", "1", "x"),),
        parameters=(Parameter("k", 1.0, "1/day", "k", "test", "H"),),
        inputs=(DoseInput("car_t_cells", "cells", "unused"),), observables=("car_t_blood",),
        switch_names=(), initial_state=_noop, rhs=_branchy_rhs, switches=_noop, dose=_noop,
        observe=_noop,
    )  # fmt: skip
    with pytest.raises(SbmlExportError, match="branches on a state or parameter value"):
        export_sbml(model)


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
