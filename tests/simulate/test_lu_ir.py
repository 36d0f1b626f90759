"""The generated sparse LU (:mod:`immunoreset.simulate.lu_ir`) against the plain loops of
:mod:`immunoreset.simulate.linalg` it unrolls: the same pivot decisions and the same numbers, bit
for bit (the same operations in the same order, no fused multiply-adds), on random patterns and
on the plans of the shipped models."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from immunoreset.model.registry import get_model
from immunoreset.simulate import linalg
from immunoreset.simulate.engine import colouring_for
from immunoreset.simulate.lu_ir import compiled_lu
from immunoreset.simulate.native import call_lu_factor, call_lu_solve


@numba.njit
def _generated(factor, solve, jac, shift, inv_scale, a, b):  # type: ignore[no-untyped-def]
    ok = call_lu_factor(factor, jac, shift, inv_scale, a)
    if ok:
        call_lu_solve(solve, a, b)
    return ok


def _loops(plan: linalg.LuPlan, jac, shift, inv_scale, b):  # type: ignore[no-untyped-def]
    a = np.zeros(jac.shape)
    ok = linalg.static_factor(a, jac, shift, inv_scale, *plan.arrays)
    x = b.copy()
    if ok:
        linalg.static_solve(a, *plan.arrays[:5], x)
    return ok, x


def _compare(plan: linalg.LuPlan, jac: np.ndarray, shift: float, inv_scale: np.ndarray,
             b: np.ndarray) -> bool:  # fmt: skip
    lu = compiled_lu(plan)
    a = np.full(jac.shape, 7.0)
    x = b.copy()
    ok = _generated(lu.factor, lu.solve, jac, shift, inv_scale, a, x)
    ok_loops, x_loops = _loops(plan, jac, shift, inv_scale, b)
    assert ok == ok_loops
    if ok:
        assert np.array_equal(x, x_loops)  # bit for bit
    else:
        assert np.all(a == 7.0)  # a declined factorisation leaves the work matrix untouched
    return ok


def _random_jacobian(rng: np.random.Generator, pattern: np.ndarray) -> np.ndarray:
    """Entries over six decades with random signs where ``pattern`` holds."""
    n = pattern.shape[0]
    jac = rng.normal(size=(n, n)) * 10.0 ** rng.uniform(-3.0, 3.0, (n, n))
    return np.where(pattern, jac, 0.0)


@pytest.mark.parametrize("seed", range(10))
def test_generated_lu_equals_the_loops_on_random_patterns(seed: int) -> None:
    """Shifts from small to large steps: both accept and decline; accepted solves are equal."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    pattern = rng.random((n, n)) < 0.15
    plan = linalg.plan_lu(pattern)
    outcomes = set()
    for shift in (0.0, 1e-2, 1.0, 1e2, 1e4, 1e6):
        jac = _random_jacobian(rng, pattern | np.eye(n, dtype=bool))
        inv_scale = 1.0 / 10.0 ** rng.uniform(-3.0, 3.0, n)
        outcomes.add(_compare(plan, jac, shift, inv_scale, rng.normal(size=n)))
    assert True in outcomes  # a shift of 1e6 dominates every diagonal


@pytest.mark.parametrize("name", ["park2025", "integrated"])
def test_generated_lu_equals_the_loops_on_the_models_plans(name: str) -> None:
    model = get_model(name)
    plan = colouring_for(model, True).lu_plan
    n = model.n_states
    pattern = np.zeros((n, n), dtype=bool)
    pattern[plan.entry_rows, plan.entry_cols] = True
    rng = np.random.default_rng(2)
    accepted = 0
    for _ in range(40):
        jac = _random_jacobian(rng, pattern)
        shift = 10.0 ** rng.uniform(-2.0, 6.0)
        accepted += _compare(
            plan, jac, shift, 1.0 / 10.0 ** rng.uniform(-3.0, 3.0, n), rng.normal(size=n)
        )
    assert accepted > 0


def test_a_nan_in_a_pivot_column_declines() -> None:
    """The loops' ``max`` may skip a NaN below a pivot; the generated test declines it, so the
    integrator's pivoting LU (which reports a non-finite matrix as singular) takes the step."""
    pattern = np.ones((3, 3), dtype=bool)
    plan = linalg.plan_lu(pattern)
    lu = compiled_lu(plan)
    jac = -np.eye(3)
    first = int(plan.order[0])
    jac[(first + 1) % 3, first] = math.nan  # below the first pivot
    a = np.zeros((3, 3))
    assert not _generated(lu.factor, lu.solve, jac, 1.0, np.ones(3), a, np.ones(3))
    assert _generated(lu.factor, lu.solve, -np.eye(3), 1.0, np.ones(3), a, np.ones(3))
