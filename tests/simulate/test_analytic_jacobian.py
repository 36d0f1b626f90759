"""The analytic Jacobian: exact on a model with a hand-derived Jacobian, equal to finite differences
on both shipped models, kept per patient only where its parameter decisions hold, and a run with it
agrees with a tight finite-difference reference."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import numba
import numpy as np
import pytest

from immunoreset.model.core import Model
from immunoreset.model.registry import get_model
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate.analytic import analytic_jacobian
from immunoreset.simulate.engine import simulate
from immunoreset.simulate.kernels import colouring_for, kernel_for, model_function_addresses
from immunoreset.simulate.native import python_caller
from immunoreset.simulate.sparsity import dense_colouring


@numba.njit
def _smooth_rhs(t, y, p, mode, dydt):
    dydt[0] = -p[0] * y[0] * y[1] + max(y[1] - 1.0, 0.0) + math.exp(-t)
    dydt[1] = p[0] * math.exp(-y[0]) - y[1] ** 3 / (1.0 + y[0] ** 2)


@numba.njit
def _branching_rhs(t, y, p, mode, dydt):
    if y[0] > 1.0:
        dydt[0] = -y[0]
    else:
        dydt[0] = 0.0
    dydt[1] = -y[1]


def _evaluate(model: Model, colours, address: int, t: float, y: np.ndarray, p: np.ndarray,
              mode: np.ndarray) -> np.ndarray:  # fmt: skip
    """The kernel's Jacobian at ``(t, y)``: analytic at ``address``, finite differences of the
    model's own right-hand side if 0."""
    n = model.n_states
    f0, jac = np.empty(n), np.zeros((n, n))
    model.rhs(t, y, p, mode, f0)
    atol = model.absolute_tolerances(1e-6)
    kernel_for(model).jacobian(t, y, p, mode, model_function_addresses(model), f0, atol, jac,
                               np.empty(n), np.empty(n),
                               colours.colour_ptr, colours.colour_cols, colours.col_ptr,
                               colours.row_idx, address)  # fmt: skip
    return jac


def test_exact_on_a_model_with_a_hand_derived_jacobian(two_state_model) -> None:
    model = two_state_model("smooth", _smooth_rhs)
    p = model.typical_parameters()
    colours = dense_colouring(2)
    compiled = analytic_jacobian(model, p, colours)
    assert compiled is not None and compiled.applies(p[None, :]).all()
    fn = python_caller(compiled.address)
    for a, b in [(0.3, 2.0), (1.5, 0.5)]:
        y, jac, mode = np.array([a, b]), np.zeros((2, 2)), np.zeros(1)
        fn(0.2, y, p, mode, jac)
        k = p[0]
        expected = [
            [-k * b, -k * a + (1.0 if b > 1.0 else 0.0)],
            [-k * math.exp(-a) + 2 * a * b**3 / (1 + a**2) ** 2, -3 * b**2 / (1 + a**2)],
        ]
        np.testing.assert_allclose(jac, expected, rtol=1e-14, atol=1e-15)


def test_a_model_that_branches_on_a_state_falls_back_to_finite_differences(
    two_state_model,
) -> None:
    model = two_state_model("branching", _branching_rhs)
    assert analytic_jacobian(model, model.typical_parameters(), dense_colouring(2)) is None


@pytest.mark.parametrize("name", ["park2025", "integrated"])
def test_equal_to_finite_differences_on_the_shipped_models(name: str) -> None:
    """Forward differences carry a relative error of about sqrt(eps) times the curvature (measured
    worst 5e-8 on these states); 1e-5 of each row's scale separates that from a wrong entry,
    which would be of the order of the entry itself."""
    model = get_model(name)
    p = model.typical_parameters()
    colours = colouring_for(model, True, p)
    compiled = analytic_jacobian(model, p, colours)
    assert compiled is not None
    rng = np.random.default_rng(7)
    y0 = np.abs(model.initial(p))
    ref = np.where(y0 > 0, y0, 1e6 * np.array([s.atol_scale for s in model.states]))
    atol = model.absolute_tolerances(1e-6)
    for mode in itertools.product((0.0, 1.0), repeat=len(model.switch_names)):
        mode = np.array(mode)
        for _ in range(3):
            y = ref * 10.0 ** rng.uniform(-1.0, 1.0, model.n_states)
            exact = _evaluate(model, colours, compiled.address, 3.0, y, p, mode)
            approx = _evaluate(model, colours, 0, 3.0, y, p, mode)
            f = np.empty(model.n_states)
            model.rhs(3.0, y, p, mode, f)
            scale = np.maximum(np.abs(y), atol)
            row = np.maximum((np.abs(exact) * scale).max(axis=1), np.abs(f)) + 1e-300
            worst = (np.abs(exact - approx) * scale / row[:, None]).max()
            assert worst < 1e-5, (name, mode, worst)


def test_patients_that_decide_a_parameter_otherwise_keep_finite_differences() -> None:
    """The integrated model branches on the CAR-HEMATOTOX covariate; the Jacobian traced at a
    low score applies to low-score patients only."""
    model = get_model("integrated")
    p = model.typical_parameters()
    compiled = analytic_jacobian(model, p, colouring_for(model, True, p))
    assert compiled is not None
    high = model.typical_parameters({"hematotox_high": 1.0})
    assert compiled.applies(np.stack([p, high, p])).tolist() == [True, False, True]


def test_a_run_agrees_with_a_tight_finite_difference_reference(examples_dir: Path) -> None:
    """Ten Park 2025 patients at the default tolerance against finite differences at 1e-10: the
    benchmark's worst error of the engine over 1,000 patients is 0.0031 of each output's scale
    (benchmarks/results/roadrunner_park2025.json); 0.01 allows for that, not for a wrong
    Jacobian, which shows at the tolerance of the run."""
    scenario = load_scenario(examples_dir / "park2025_sle_population.yaml")
    pop = scenario.population.model_copy(update={"size": 10, "variability": True})
    inputs = prepare(scenario.model_copy(update={"population": pop}))
    params = inputs.parameters(np.arange(10))
    events = inputs.events(params)
    run = simulate(inputs.model, params, events, inputs.times, inputs.settings, inputs.t_start)
    tight = dataclasses.replace(
        inputs.settings, rtol=1e-10, atol=1e-10, jacobian="finite-difference"
    )
    ref = simulate(inputs.model, params, events, inputs.times, tight, inputs.t_start)
    assert (run.status == 0).all() and (ref.status == 0).all()
    scale = np.abs(ref.values).max(axis=1, keepdims=True) + 1e-12
    assert np.max(np.abs(run.values - ref.values) / scale) < 0.01


def test_a_run_imports_no_computer_algebra() -> None:
    """A cached start must not pay for sympy (about 0.45 s): the engine, a run and the export
    package's namespace import it only when a Jacobian is traced or a model is exported."""
    import subprocess
    import sys

    code = (
        "import sys, immunoreset.simulate.engine, immunoreset.runs.execute, immunoreset.export\n"
        "print(sorted(m for m in sys.modules if m == 'sympy' or m.startswith('sympy.'))[:3])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
