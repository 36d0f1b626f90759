"""The integrator's parts tested alone: step-size controller, dense output, sparse LU, the order
of the RODAS5P step and of its dense output, and the failure modes a whole-patient test cannot
isolate (a singular iteration matrix, a chattering switch, outputs that go negative)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from immunoreset.model.core import DoseInput, Model, Parameter, State
from immunoreset.simulate import controller, linalg, rodas5p
from immunoreset.simulate.clip import clip_patient
from immunoreset.simulate.engine import BatchResult, SolverSettings, report_negative, simulate
from immunoreset.simulate.interpolate import N_DENSE, dense_output, dense_vectors
from immunoreset.simulate.kernels import kernel_for, model_function_addresses
from immunoreset.simulate.lu_ir import compiled_lu
from immunoreset.simulate.native import borrowed
from immunoreset.simulate.sparsity import dense_colouring
from immunoreset.simulate.status import CHATTERING, NEGATIVE_OUTPUT, OK
from immunoreset.therapy.regimen import DosingEvents


def test_controller_bounds_and_no_growth_after_rejection() -> None:
    q = rodas5p.ORDER_EST
    assert controller.step_factor(0.0, q, False) == controller.FAC_MAX
    assert controller.step_factor(1e-12, q, False) == controller.FAC_MAX
    assert controller.step_factor(1e12, q, False) == controller.FAC_MIN
    assert controller.step_factor(1.0, q, False) == pytest.approx(controller.SAFETY)
    assert controller.step_factor(1e-6, q, True) == 1.0  # right after a rejection: no growth
    assert controller.step_factor(math.inf, q, False) == controller.FAC_NOT_FINITE
    assert controller.step_factor(math.nan, q, True) == controller.FAC_NOT_FINITE


def test_dense_output_meets_the_step_ends() -> None:
    """At theta = 0 and 1 the dense output is the step's start and end state, whatever the
    dense vectors."""
    y0, y1 = np.array([0.3, -2.0]), np.array([1.7, 5.0])
    dense = np.array([[2.0, -1.0], [0.5, 3.0], [-4.0, 0.25]])
    out = np.empty(2)
    dense_output(0.0, y0, y1, dense, out)
    assert np.array_equal(out, y0)
    dense_output(1.0, y0, y1, dense, out)
    assert np.array_equal(out, y1)


def _lu_solve(a: np.ndarray, b: np.ndarray) -> tuple[bool, np.ndarray]:
    n = a.shape[0]
    lu = a.copy()
    piv = np.empty(n, dtype=np.int64)
    nz = [np.empty(k, dtype=np.int64) for k in (n + 1, n * n, n + 1, n * n)]
    if not linalg.pivoting_factor(lu, piv, *nz):
        return False, b
    x = b.copy()
    linalg.pivoting_solve(lu, piv, *nz, x)
    return True, x


def _random_system(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random sparse matrix (about 15 % non-zeros, small diagonals that force pivoting) with
    condition number below 1e4, and a right-hand side."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    a = np.where(rng.random((n, n)) < 0.15, rng.normal(size=(n, n)), 0.0)
    a += np.diag(rng.normal(size=n) * 0.5)
    if np.linalg.cond(a) > 1e4:
        a += np.eye(n) * 3.0
    assert np.linalg.cond(a) < 1e4
    return a, rng.normal(size=n)


@pytest.mark.parametrize("seed", range(20))
def test_pivoting_lu_matches_dense_solve(seed: int) -> None:
    """Against numpy's dense LAPACK solve; tolerance 1e-9 relative, well above the rounding of a
    condition number below 1e4."""
    a, b = _random_system(seed)
    ok, x = _lu_solve(a, b)
    assert ok
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)


def test_pivoting_lu_reports_a_singular_matrix() -> None:
    a = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    assert _lu_solve(a, np.ones(3))[0] is False


def _static_solve(a: np.ndarray, b: np.ndarray, shift: float) -> tuple[bool, np.ndarray]:
    """Solve ``(shift I - J) x = b`` with ``J = -a`` by the planned sparse LU."""
    plan = linalg.plan_lu(a != 0.0).arrays
    lu = np.full(a.shape, np.nan)  # entries outside the plan must never be read
    if not linalg.static_factor(lu, -a, shift, np.ones(len(b)), *plan):
        return False, b
    x = b.copy()
    linalg.static_solve(lu, *plan[:5], x)
    return True, x


@pytest.mark.parametrize("seed", range(20))
def test_static_lu_matches_dense_solve_or_declines(seed: int) -> None:
    """The planned LU of ``shift I + A`` either solves like LAPACK (tolerance as above) or, when a
    diagonal pivot fails the threshold test, declines so that the integrator pivots instead.
    With a dominant diagonal (the iteration matrix at small steps) it never declines."""
    a, b = _random_system(seed)
    for shift, must_accept in ((0.0, False), (50.0, True)):
        ok, x = _static_solve(a, b, shift)
        assert ok or not must_accept
        if ok:
            expect = np.linalg.solve(a + shift * np.eye(len(b)), b)
            np.testing.assert_allclose(x, expect, rtol=1e-9, atol=1e-12)


def test_static_lu_declines_a_small_pivot_and_plans_little_fill() -> None:
    """A zero diagonal and a diagonal small against the entry below it are declined (the
    integrator then pivots), and accepted once the step's shift makes it dominant; an arrow matrix
    whose dense row and column come first is eliminated at the end (Markowitz), so it has no
    fill-in."""
    assert _static_solve(np.array([[0.0, 1.0], [1.0, 1.0]]), np.ones(2), 0.0)[0] is False
    assert _static_solve(np.array([[1e-3, 1.0], [1.0, 1.0]]), np.ones(2), 0.0)[0] is False
    assert _static_solve(np.array([[1e-3, 1.0], [1.0, 1.0]]), np.ones(2), 1.0)[0] is True
    n = 8
    arrow = np.eye(n, dtype=bool)
    arrow[0, :] = arrow[:, 0] = True
    plan = linalg.plan_lu(arrow)
    assert 0 in plan.order[-2:] and len(plan.fill_rows) == 0  # last two: a tie at the end


# A small model family written in this file: the engine specialises it in memory (it is not part
# of the package, so it is not cached on disk).
P_RATE = 0


@numba.njit
def _init_one(p, y0):
    y0[0] = 1.0


@numba.njit
def _no_switches(t, y, p, g):
    pass


@numba.njit
def _no_dose(k, amount, p, y):
    pass


@numba.njit
def _observe_first(t, y, p, out):
    out[0] = y[0]


@numba.njit
def _riccati(t, y, p, mode, dydt):
    """y' = -r y^2, y(0) = 1: exact solution 1 / (1 + r t)."""
    dydt[0] = -p[P_RATE] * y[0] * y[0]


@numba.njit
def _linear(t, y, p, mode, dydt):
    """y' = r y (r chosen so that the first iteration matrix is exactly singular)."""
    dydt[0] = p[P_RATE] * y[0]


@numba.njit
def _relay(t, y, p, mode, dydt):
    """Pushed up below 1 and down above 1: no consistent mode at y = 1 (chattering)."""
    dydt[0] = 1.0 - 2.0 * mode[0]


@numba.njit
def _relay_switch(t, y, p, g):
    g[0] = y[0] - 1.0


@numba.njit
def _relay_init(p, y0):
    y0[0] = 0.5


def _model(name: str, rhs, switches=_no_switches, init=_init_one, switch_names=()) -> Model:
    return Model(
        name=name,
        title=name,
        reference="test",
        description="test model",
        states=(State("y", "1", "test state"),),
        parameters=(
            Parameter("rate", 1.0, "1/day", "rate", "test", "assumption", 0.0, "", 0.1, 10.0),
        ),
        inputs=(DoseInput("none", "1", "unused"),),
        observables=("car_t_blood",),
        switch_names=switch_names,
        initial_state=init,
        rhs=rhs,
        switches=switches,
        dose=_no_dose,
        observe=_observe_first,
    )


NO_EVENTS = DosingEvents(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((1, 0)))


def test_rodas5p_step_and_dense_output_orders() -> None:
    """Fixed steps on y' = -y^2: halving the step divides the global error at t = 1 by about
    2^5 = 32 (observed order between 4.6 and 5.4: the asymptotic range is reached at these steps),
    the embedded error estimate of one step shrinks like h^5 (local order 4 + 1), and the dense
    output at mid-step of the first step like h^5 too (a continuous extension of order 4)."""
    model = _model("riccati", _riccati)
    kern = kernel_for(model)
    fns = model_function_addresses(model)
    colours = dense_colouring(1)
    lu_plan = compiled_lu(colours.lu_plan)
    p = np.array([1.0])
    n = 1
    work = {k: np.zeros(n) for k in ("f0", "dfdt", "ynew", "err", "work", "ytmp", "ftmp")}
    jac = np.zeros((n, n))
    lu = np.zeros((n, n))
    piv = np.zeros(n, dtype=np.int64)
    nz = (np.zeros(n + 1, np.int64), np.zeros(n * n, np.int64), np.zeros(n + 1, np.int64),
          np.zeros(n * n, np.int64))  # fmt: skip
    k = np.zeros((rodas5p.N_STAGES, n))
    dense = np.zeros((N_DENSE, n))
    mid = np.zeros(n)
    mode = np.zeros(0)

    def integrate(h: float) -> tuple[float, float, float]:
        y, t, first = np.array([1.0]), 0.0, None
        for _ in range(round(1.0 / h)):
            model.rhs(t, y, p, mode, work["f0"])
            kern.jacobian(t, y, p, mode, fns, work["f0"], np.array([1e-12]), jac, work["ytmp"],
                          work["ftmp"], colours.colour_ptr, colours.colour_cols, colours.col_ptr,
                          colours.row_idx, 0)  # fmt: skip
            assert kern.rodas_step(t, y, p, mode, fns, work["f0"], work["dfdt"], jac, h, work["ynew"],
                                   work["err"], work["work"], lu, piv, nz,
                                   (lu_plan.factor, lu_plan.solve), np.ones(n), k, work["ytmp"],
                                   work["ftmp"])  # fmt: skip
            if first is None:
                dense_vectors(k, dense)
                dense_output(0.5, y, work["ynew"], dense, mid)
                first = (abs(work["err"][0]), abs(mid[0] - 1.0 / (1.0 + 0.5 * h)))
            y = work["ynew"].copy()
            t += h
        return abs(y[0] - 0.5), *first

    (e1, l1, d1), (e2, l2, d2), (e3, _, _) = integrate(0.1), integrate(0.05), integrate(0.025)
    for coarse, fine in ((e1, e2), (e2, e3)):
        assert 4.6 < math.log2(coarse / fine) < 5.4
    assert 4.5 < math.log2(l1 / l2) < 5.5
    assert 4.5 < math.log2(d1 / d2) < 5.5


def test_singular_iteration_matrix_halves_the_step() -> None:
    """y' = r y with r = 1 / (h_init * gamma): the first iteration matrix I/(h gamma) - J is
    exactly zero. The engine halves the step and goes on instead of failing the patient."""
    model = _model("singular", _linear)
    settings = SolverSettings(h_init=1e-3)
    rate = 1.0 / (settings.h_init * rodas5p.GAMMA)
    res = simulate(model, np.array([[rate]]), NO_EVENTS, np.array([0.0, 1e-3]), settings)
    assert res.status[0] == OK
    assert res.stats[0, 1] >= 1  # the singular attempt counts as a rejected step
    assert res.values[0, -1, 0] == pytest.approx(math.exp(rate * 1e-3), rel=1e-5)


def test_chattering_switch_is_reported_not_burned() -> None:
    model = _model("relay", _relay, _relay_switch, _relay_init, ("above_one",))
    res = simulate(model, np.array([[1.0]]), NO_EVENTS, np.arange(0.0, 3.0), SolverSettings())
    assert res.status[0] == CHATTERING
    assert res.stats[0, 0] + res.stats[0, 1] < 1000  # detected early, not at max_steps
    assert "switch 'above_one'" in res.status_message(0)
    assert res.stats[0, 3] == pytest.approx(0.5, abs=1e-6)  # y reaches 1 at t = 0.5


def _batch(values: np.ndarray) -> BatchResult:
    n, t = values.shape
    return BatchResult(np.arange(n), np.arange(float(t)), ("b_cells_blood",), values[:, :, None],
                       np.zeros(n, dtype=np.int64), np.zeros((n, 5)), np.zeros((n, 1)))  # fmt: skip


def _clip(values: np.ndarray, ok: np.ndarray, nonnegative: np.ndarray) -> np.ndarray:
    """Every patient of ``values[patients, times, outputs]`` checked as the integrators do at
    rtol = atol = 1e-6; the report."""
    report = np.empty((len(values), 4))
    for i in range(len(values)):
        clip_patient(values[i], ok[i], report[i], nonnegative, 1e-6, 1e-6)
    return report


def test_tiny_negative_outputs_become_zero_larger_ones_fail() -> None:
    """Tolerance: atol + rtol * max|value| of the patient's trajectory (here 1e-6 + 1e-6 * 100)."""
    values = np.array([[100.0, 1.0, -1e-5, 0.5], [100.0, 1.0, -5e-3, 0.5]])
    res = _batch(values)
    report_negative(res, _clip(res.values, res.status == OK, np.array([True])))
    assert res.status[0] == OK and res.values[0, 2, 0] == 0.0
    assert res.status[1] == NEGATIVE_OUTPUT
    assert np.isnan(res.values[1, 2:, 0]).all() and res.values[1, 1, 0] == 1.0
    assert "b_cells_blood = -0.005 cells/uL at day 2" in res.status_message(1)


@numba.njit
def _through_a_borrowed_view(a):  # type: ignore[no-untyped-def]
    view = borrowed(a)
    view[0, 0] = -1.0
    return view.shape, view.strides, view.sum()


def test_a_borrowed_view_is_the_same_array_without_its_reference() -> None:
    """The integrator's borrowed views (:func:`.native.borrowed`) see and change the data of the
    array they view, with its shape and strides (here a strided slice)."""
    base = np.arange(24.0).reshape(4, 6)
    part = base[1:, ::2]
    shape, strides, total = _through_a_borrowed_view(part)
    assert shape == part.shape and strides == part.strides
    assert base[1, 0] == -1.0 and total == part.sum()


def _reference_check(values: np.ndarray, nonnegative: np.ndarray, ok: np.ndarray, tol_of) -> list:  # type: ignore[no-untyped-def]
    """The rule of clip_patient in numpy, output by output (its first implementation)."""
    failures = []
    lowest = np.fmin.reduce(values, axis=1)
    for j in np.flatnonzero(nonnegative):
        for i in np.flatnonzero(lowest[:, j] < 0.0):
            v = values[i, :, j]
            tol = tol_of(np.max(np.abs(np.where(np.isfinite(v), v, 0.0))))
            negative = v < 0.0
            bad = negative & (v < -tol)
            v[negative & ~bad] = 0.0
            if bad.any() and ok[i]:
                first = int(np.argmax(bad))
                ok[i] = False
                failures.append((i, j, first, v[first], tol))
                values[i, first:, :] = np.nan
    return failures


def test_negative_outputs_are_clipped_as_the_rule_says_patient_by_patient() -> None:
    """The compiled check against the rule written in numpy, on outputs with tiny and large
    negatives, NaN, outputs that may be negative, failed patients and a patient whose first failing
    output turns later outputs to NaN (which then do not count)."""
    rng = np.random.default_rng(5)
    values = rng.uniform(0.0, 100.0, (40, 30, 4)) * rng.uniform(0, 1, (40, 1, 4)) ** 4
    values[rng.uniform(size=values.shape) < 0.2] *= -1e-9
    values[rng.uniform(size=values.shape) < 0.02] = -rng.uniform(0.0, 1.0)
    values[rng.uniform(size=values.shape) < 0.02] = np.nan
    nonnegative = np.array([True, True, False, True])
    ok = rng.uniform(size=40) < 0.9
    expected = values.copy()
    failures = _reference_check(expected, nonnegative, ok.copy(), lambda scale: 1e-6 + 1e-6 * scale)
    report = _clip(values, ok, nonnegative)
    assert np.array_equal(values, expected, equal_nan=True)
    got = [(i, int(r[0]), int(r[1]), r[2], r[3]) for i, r in enumerate(report) if r[0] >= 0]
    assert got == sorted(failures) and len(failures) >= 3
