"""Lock-step integration in vector lanes: the lane forms of the generated functions compute what the
scalar ones compute, bit for bit, and a patient's result does not depend on the lanes."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from immunoreset.model.registry import get_model
from immunoreset.population.sampling import sample_parameters
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.load import load_scenario
from immunoreset.simulate import lu_ir, traced_ir
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.simulate.kernels import colouring_for, kernel_for, lu_plan_for
from immunoreset.simulate.lanes_ir import LANES, SUFFIX, vectorized
from immunoreset.simulate.machine_code import compile_ir
from immunoreset.therapy.regimen import (
    Infusion,
    LymphodepletionDose,
    ProductDose,
    Regimen,
    dosing_events,
)

DOUBLES = ctypes.POINTER(ctypes.c_double)


def _ptr(a: np.ndarray):  # type: ignore[no-untyped-def]
    assert a.dtype == np.float64 and a.flags.c_contiguous
    return a.ctypes.data_as(DOUBLES)


def interleaved(rows: np.ndarray) -> np.ndarray:
    """``[lanes, k]`` -> entry ``i`` of lane ``l`` at ``i * lanes + l``."""
    return np.ascontiguousarray(rows.T).ravel()


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(
        np.ascontiguousarray(a).view(np.int64), np.ascontiguousarray(b).view(np.int64)
    )


@pytest.fixture(scope="module", params=["park2025", "integrated"])
def compiled(request):  # type: ignore[no-untyped-def]
    """Scalar and lane forms of a model's traced right-hand side, Jacobian and LU, and inputs of
    ``LANES`` patients around its pre-treatment state."""
    model = get_model(request.param)
    p = model.typical_parameters()
    colours = colouring_for(model, True, p)
    plan = lu_plan_for(model, colours, p, model.absolute_tolerances(1e-6), 1e-6)
    texts = {
        "rhs": traced_ir.rhs_ir(model, p)[0],
        "jac": traced_ir.jacobian_ir(model, p, colours)[0],
        "lu": lu_ir.lu_ir(plan),
    }
    names = {"rhs": ("rhs",), "jac": ("jac",), "lu": (lu_ir.FACTOR, lu_ir.SOLVE)}
    keep, fns = [], {}
    for key, text in texts.items():
        engine, addresses = compile_ir(text, None, names[key])
        keep.append(engine)
        fns.update(zip(names[key], addresses, strict=True))
        engine, addresses = compile_ir(
            vectorized(text, LANES), None, tuple(x + SUFFIX for x in names[key])
        )
        keep.append(engine)
        fns.update(zip((x + SUFFIX for x in names[key]), addresses, strict=True))
    rng = np.random.default_rng(3)
    y0 = kernel_for(model).pretreatment(p[None, :], p, model.n_states, len(model.inputs))[0][0]
    y = y0 * rng.uniform(0.5, 1.5, (LANES, model.n_states)) + rng.uniform(
        0, 1, (LANES, model.n_states)
    )
    params = p * rng.uniform(0.95, 1.05, (LANES, len(p)))
    return model, fns, keep, y, params


def _five(address: int):  # type: ignore[no-untyped-def]
    return ctypes.CFUNCTYPE(None, DOUBLES, DOUBLES, DOUBLES, ctypes.c_double, DOUBLES)(address)


def test_lane_right_hand_side_and_jacobian_are_the_scalar_ones(compiled) -> None:  # type: ignore[no-untyped-def]
    model, fns, _, y, params = compiled
    n = model.n_states
    mode = np.zeros((LANES, max(1, len(model.switch_names))))
    mode[1::2] = 1.0  # both switch modes appear among the lanes
    times = np.arange(LANES, dtype=float)
    for name, width in (("rhs", n), ("jac", n * n)):
        scalar = np.zeros((LANES, width))
        for lane in range(LANES):
            _five(fns[name])(_ptr(y[lane]), _ptr(params[lane]), _ptr(mode[lane]), times[lane],
                             _ptr(scalar[lane]))  # fmt: skip
        lanes = np.zeros(width * LANES)
        vector = ctypes.CFUNCTYPE(None, *[DOUBLES] * 5)(fns[name + SUFFIX])
        vector(*(_ptr(interleaved(a)) for a in (y, params, mode)), _ptr(times), _ptr(lanes))
        assert same_bits(interleaved(scalar), lanes), name


def test_lane_factorisation_and_solve_are_the_scalar_ones(compiled) -> None:  # type: ignore[no-untyped-def]
    """Including the mask: a lane whose pivot test fails has its bit cleared, as the scalar
    factorisation returns 0 for it."""
    model, fns, _, y, params = compiled
    n = model.n_states
    jac = np.zeros((LANES, n * n))
    mode = np.zeros(max(1, len(model.switch_names)))
    for lane in range(LANES):
        _five(fns["jac"])(_ptr(y[lane]), _ptr(params[lane]), _ptr(mode), 0.0, _ptr(jac[lane]))
    shift = 1.0 / (0.25 * np.logspace(-5, -1, LANES))
    shift[2] = 0.0
    jac[2] = 0.0  # a zero pivot: the planned factorisation declines this lane
    inv_scale = 1.0 / (1e-6 + 1e-6 * np.abs(y))
    factor = ctypes.CFUNCTYPE(ctypes.c_int32, DOUBLES, ctypes.c_double, DOUBLES, DOUBLES)(
        fns[lu_ir.FACTOR]
    )
    solve = ctypes.CFUNCTYPE(None, DOUBLES, DOUBLES)(fns[lu_ir.SOLVE])
    rhs = np.random.default_rng(4).uniform(-1, 1, (LANES, n))
    a = np.zeros((LANES, n * n))
    b = rhs.copy()
    passed = []
    for lane in range(LANES):
        passed.append(factor(_ptr(jac[lane]), shift[lane], _ptr(inv_scale[lane]), _ptr(a[lane])))
        if passed[-1]:
            solve(_ptr(a[lane]), _ptr(b[lane]))
    assert passed[2] == 0 and sum(passed) >= LANES // 2
    factor_lanes = ctypes.CFUNCTYPE(ctypes.c_int32, *[DOUBLES] * 4)(fns[lu_ir.FACTOR + SUFFIX])
    solve_lanes = ctypes.CFUNCTYPE(None, DOUBLES, DOUBLES)(fns[lu_ir.SOLVE + SUFFIX])
    a_lanes = np.zeros(n * n * LANES)
    b_lanes = interleaved(rhs)
    bits = factor_lanes(_ptr(interleaved(jac)), _ptr(shift), _ptr(interleaved(inv_scale)),
                        _ptr(a_lanes))  # fmt: skip
    solve_lanes(_ptr(a_lanes), _ptr(b_lanes))
    assert [(bits >> lane) & 1 for lane in range(LANES)] == passed
    ok = np.array(passed, dtype=bool)
    assert same_bits(a[ok], a_lanes.reshape(n * n, LANES).T[ok])
    assert same_bits(b[ok], b_lanes.reshape(n, LANES).T[ok])


def test_library_calls_are_made_lane_by_lane() -> None:
    """``tanh`` has no vector intrinsic: each lane calls the library function."""
    text = (
        "declare double @tanh(double)\n"
        "define void @rhs(double* %y, double* %p, double* %mode, double %t, double* %out) {\n"
        "  %v0 = getelementptr double, double* %y, i64 1\n"
        "  %v1 = load double, double* %v0\n"
        "  %v2 = call double @tanh(double %v1)\n"
        "  %v3 = fmul double %v2, %t\n"
        "  %v4 = getelementptr double, double* %out, i64 0\n"
        "  store double %v3, double* %v4\n"
        "  ret void\n}\n"
    )
    engine, (address,) = compile_ir(vectorized(text, 4), None, ("rhs" + SUFFIX,))
    y = np.array([[0.0, -2.0], [0.0, 0.1], [0.0, 0.5], [0.0, 3.0]])
    t = np.array([1.0, 2.0, 3.0, 4.0])
    out = np.zeros(4)
    none = np.zeros(4)
    ctypes.CFUNCTYPE(None, *[DOUBLES] * 5)(address)(_ptr(interleaved(y)), _ptr(none), _ptr(none),
                                                     _ptr(t), _ptr(out))  # fmt: skip
    assert same_bits(out, np.tanh(y[:, 1]) * t)
    del engine


def test_forms_it_does_not_know_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot vectorise"):
        vectorized("define void @f(double* %y) {\n  %v0 = frem double 1.0, 2.0\n  ret void\n}\n", 4)
    with pytest.raises(ValueError, match="power of two"):
        vectorized("", 3)


def _cohort(model_name: str, n: int) -> tuple:
    model = get_model(model_name)
    params = sample_parameters(model, np.arange(n), 7, variability=True)
    regimen = Regimen((Infusion(0.0),), (LymphodepletionDose(0.0, 1935.0),))
    weights = params[:, model.parameter_names.index("weight_kg")]
    return model, params, dosing_events(model, ProductDose(1e6, "cells/kg"), regimen, weights)


@pytest.mark.parametrize(
    ("patients", "max_steps"), [(2 * LANES + 3, 200_000), (3, 200_000), (LANES, 150)]
)
def test_patients_in_lanes_get_the_scalar_integrators_bits(patients: int, max_steps: int) -> None:
    """Park 2025 with the published variability: outputs (from before the first dose, which are
    NaN), status and step statistics are the same bits in lanes as one patient at a time; with a
    step limit some patients fail, at the same step, in both. Fewer patients than lanes leave
    lanes empty."""
    model, params, events = _cohort("park2025", patients)
    t_out = np.arange(-2.0, 400.0, 1.0)
    results = [
        simulate(
            model, params, events, t_out, SolverSettings(lanes=lanes, max_steps=max_steps), 0.0
        )
        for lanes in (False, True)
    ]
    scalar, lanes = results
    assert same_bits(scalar.values, lanes.values)
    assert np.array_equal(scalar.status, lanes.status)
    assert np.array_equal(scalar.stats, lanes.stats)
    assert np.isnan(lanes.values[:, :2]).all()
    assert (lanes.stats[:, 2] > 0).any()  # switch crossings were located inside lanes
    if max_steps < 200_000:
        assert (lanes.status != 0).any()
    else:
        assert (lanes.status == 0).all()


@pytest.mark.slow
def test_integrated_model_in_lanes_gets_the_scalar_integrators_bits(examples_dir: Path) -> None:
    """The Erlangen example with its population variability (conditioning from day -5)."""
    inputs = prepare(load_scenario(examples_dir / "integrated_cd19_41bb_erlangen.yaml"))
    params = inputs.parameters(np.arange(2 * LANES + 1))
    scalar, lanes = (
        simulate(
            inputs.model,
            params,
            inputs.events(params),
            inputs.times,
            SolverSettings(lanes=lanes),
            inputs.t_start,
        )
        for lanes in (False, True)
    )
    assert same_bits(scalar.values, lanes.values)
    assert np.array_equal(scalar.stats, lanes.stats)
