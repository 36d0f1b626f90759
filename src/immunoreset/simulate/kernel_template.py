"""The integrator of one model, written once and specialised per model (see :mod:`.kernels`).

This file is a template: the line that binds ``_dose`` and ``_initial_state`` is replaced by an
import of the model's own functions, and the result is compiled by numba as a module of its own.
The model functions are therefore plain globals of the compiled code, not arguments, which lets
numba cache the whole integrator on disk (numba cannot cache functions that take other functions
as arguments). The model's right-hand side, observables and switch functions, its largest
functions, are called through their machine-code addresses (``fns``: a tuple indexed by ``_RHS``,
``_OBSERVE`` and ``_SWITCHES``, see :mod:`.native`), so the integrator does not compile them: each
patient gets the traced functions compiled by LLVM, or the model's own compiled as C functions
(see :mod:`.kernels`).

One patient is integrated by :func:`solve_patient` from parts a reader can follow one by one:
:func:`jacobian` (coloured forward differences), :func:`rodas_step` (one RODAS5P step with the
tableau in :mod:`.rodas5p`), :func:`attempt_step` (error test and step-size control from
:mod:`.controller`, with halving on a singular iteration matrix), :func:`locate_switch` (the
earliest switch crossing inside a step) and :func:`record_outputs` (dense output from
:mod:`.interpolate`). :func:`solve_batch` runs a batch of patients; the engine runs slices of a
batch in parallel threads. Each patient has its own step sequence, so its result does not depend
on the batch, its position or the thread count.
"""

import math

import numba
import numpy as np

from immunoreset.simulate import controller as _ctl
from immunoreset.simulate import interpolate as _interp
from immunoreset.simulate import linalg, rodas5p
from immunoreset.simulate import status as _st
from immunoreset.simulate.clip import clip_patient
from immunoreset.simulate.native import borrowed, call_compiled, call_lu_factor, call_lu_solve

_dose = _initial_state = None  # @bind-model

_RHS, _OBSERVE, _SWITCHES = 0, 1, 2  # positions in a patient's ``fns``
_A = rodas5p.A
_C = rodas5p.C
_M = rodas5p.M
_E = rodas5p.E
_ALPHA = rodas5p.ALPHA
_GI = rodas5p.GAMMA_I
_GAMMA = rodas5p.GAMMA
_N_STAGES = rodas5p.N_STAGES
_ORDER_EST = rodas5p.ORDER_EST
_SQRT_EPS = math.sqrt(np.finfo(np.float64).eps)
_OK = _st.OK
_MAX_STEPS = _st.MAX_STEPS
_STEP_TOO_SMALL = _st.STEP_TOO_SMALL
_NOT_FINITE = _st.NOT_FINITE
_SINGULAR = _st.SINGULAR
_CHATTERING = _st.CHATTERING
_MAX_SINGULAR_RETRIES = _ctl.MAX_SINGULAR_RETRIES
_SINGULAR_SHRINK = _ctl.SINGULAR_SHRINK
# A switch that flips this many times in a row, each flip within CHATTER_WINDOW (day, scaled by
# max(1, |t|)) of the previous one, is chattering: the model has no consistent mode there.
CHATTER_FLIPS = 50
CHATTER_WINDOW = 1e-7

_pivoting_factor = numba.njit(linalg.pivoting_factor)
_pivoting_solve = numba.njit(linalg.pivoting_solve)
_error_norm = numba.njit(rodas5p.error_norm)
_step_factor = numba.njit(_ctl.step_factor)
_min_step = numba.njit(_ctl.min_step)
_dense_vectors = numba.njit(_interp.dense_vectors)
_dense_output = numba.njit(_interp.dense_output)


@numba.njit
def jacobian(t, y, p, mode, fns, f0, atol, jac, ytmp, ftmp, colour_ptr, colour_cols,
             col_ptr, row_idx, jac_address):  # fmt: skip
    """The analytic Jacobian at ``jac_address`` (see :mod:`.analytic`) if not 0; else a
    forward-difference Jacobian of the right-hand side ``fns[_RHS]``, perturbing all columns
    of one colour per evaluation (see :mod:`.sparsity`). Either way entries outside the pattern
    stay zero."""
    if jac_address != 0:
        call_compiled(jac_address, y, p, mode, t, jac)
        return
    n = y.shape[0]
    for j in range(n):
        ytmp[j] = y[j]
    for c in range(colour_ptr.shape[0] - 1):
        for q in range(colour_ptr[c], colour_ptr[c + 1]):
            j = colour_cols[q]
            ytmp[j] = y[j] + _SQRT_EPS * max(abs(y[j]), atol[j])
        call_compiled(fns[_RHS], ytmp, p, mode, t, ftmp)
        for q in range(colour_ptr[c], colour_ptr[c + 1]):
            j = colour_cols[q]
            inv = 1.0 / (ytmp[j] - y[j])
            for k in range(col_ptr[j], col_ptr[j + 1]):
                i = row_idx[k]
                jac[i, j] = (ftmp[i] - f0[i]) * inv
            ytmp[j] = y[j]


@numba.njit
def time_derivative(t, y, p, mode, fns, f0, autonomous, dfdt, ftmp):
    """``df/dt`` by a forward difference; zero for autonomous models."""
    n = y.shape[0]
    if autonomous:
        for i in range(n):
            dfdt[i] = 0.0
        return
    dt = _SQRT_EPS * max(abs(t), 1.0)
    call_compiled(fns[_RHS], y, p, mode, t + dt, ftmp)
    for i in range(n):
        dfdt[i] = (ftmp[i] - f0[i]) / dt


@numba.njit
def rodas_step(
    t, y, p, mode, fns, f0, dfdt, jac, h, ynew, err, work, lu, piv, nz, plan, inv_scale, k,
    ytmp, ftmp,
):  # fmt: skip
    """One RODAS5P step of size ``h`` from ``(t, y)``; returns False if the matrix is singular.

    The iteration matrix is factorised by the planned sparse LU (``plan``: the addresses of its
    generated factorisation and solve, see :mod:`.lu_ir`; ``inv_scale`` holds the reciprocal of
    the error test's weight of each state); if a diagonal pivot is too small for it, by the pivoting
    LU (work lists in ``nz``)."""
    n = y.shape[0]
    inv_hg = 1.0 / (h * _GAMMA)
    factor_address, solve_address = plan
    static = call_lu_factor(factor_address, jac, inv_hg, inv_scale, lu)
    lptr, lidx, uptr, uidx = nz
    if not static:
        for i in range(n):
            for j in range(n):
                lu[i, j] = -jac[i, j]
            lu[i, i] += inv_hg
        if not _pivoting_factor(lu, piv, lptr, lidx, uptr, uidx):
            return False
    for s in range(_N_STAGES):
        if s == 0:
            for i in range(n):
                ftmp[i] = f0[i]
        else:
            for i in range(n):
                ytmp[i] = y[i]
            for j in range(s):
                a = _A[s, j]
                if a != 0.0:
                    for i in range(n):
                        ytmp[i] += a * k[j, i]
            call_compiled(fns[_RHS], ytmp, p, mode, t + _ALPHA[s] * h, ftmp)
        hg = h * _GI[s]
        for i in range(n):
            work[i] = ftmp[i] + hg * dfdt[i]
        for j in range(s):
            c = _C[s, j] / h
            for i in range(n):
                work[i] += c * k[j, i]
        if static:
            call_lu_solve(solve_address, lu, work)
        else:
            _pivoting_solve(lu, piv, lptr, lidx, uptr, uidx, work)
        for i in range(n):
            k[s, i] = work[i]
    for i in range(n):
        acc = y[i]
        e = 0.0
        for s in range(_N_STAGES):
            acc += _M[s] * k[s, i]
            e += _E[s] * k[s, i]
        ynew[i] = acc
        err[i] = e
    return True


@numba.njit
def all_finite(v) -> bool:
    for x in v:  # noqa: SIM110 - explicit loops compile to tight code in numba
        if not math.isfinite(x):
            return False
    return True


@numba.njit
def attempt_step(t, y, p, mode, fns, f0, dfdt, jac, h, rtol, atol, budget, ynew, err, work,
                 lu, piv, nz, plan, inv_scale, k, ytmp, ftmp):  # fmt: skip
    """Try steps from ``(t, y)`` until one passes the error test, shrinking ``h`` as needed.

    A singular iteration matrix halves the step (up to ``MAX_SINGULAR_RETRIES`` times in a row);
    a failed error test shrinks it by the controller. Returns ``(status, h, err_norm,
    n_rejected)``; ``ynew`` holds the accepted step when the status is OK. ``budget`` is the number
    of attempts left before the patient's step limit.
    """
    n_rej = 0
    n_singular = 0
    while True:
        if n_rej >= budget:
            return _MAX_STEPS, h, math.inf, n_rej
        if not rodas_step(t, y, p, mode, fns, f0, dfdt, jac, h, ynew, err, work, lu, piv,
                          nz, plan, inv_scale, k, ytmp, ftmp):  # fmt: skip
            n_singular += 1
            n_rej += 1
            if n_singular > _MAX_SINGULAR_RETRIES:
                return _SINGULAR, h, math.inf, n_rej
            h *= _SINGULAR_SHRINK
        else:
            en = _error_norm(err, y, ynew, rtol, atol)
            if en <= 1.0 and all_finite(ynew):
                return _OK, h, en, n_rej
            n_rej += 1
            h *= _step_factor(en if all_finite(ynew) else math.inf, _ORDER_EST, True)
        if h < _min_step(t):
            return _STEP_TOO_SMALL, h, math.inf, n_rej


@numba.njit
def crossing(t, y, p, mode, fns, g):
    """Largest switch function taken in the direction that leaves its current mode (<= 0 while
    every switch agrees with its mode, > 0 once any has crossed) and the index of that switch."""
    call_compiled(fns[_SWITCHES], y, p, mode, t, g)
    worst = -np.inf
    which = -1
    for k in range(g.shape[0]):
        v = -g[k] if mode[k] > 0.5 else g[k]
        if v > worst:
            worst = v
            which = k
    return worst, which


@numba.njit
def set_modes(t, y, p, mode, fns, g) -> None:
    """Modes consistent with the switch functions at ``(t, y)``."""
    if g.shape[0] == 0:
        return
    call_compiled(fns[_SWITCHES], y, p, mode, t, g)
    for k in range(g.shape[0]):
        mode[k] = 1.0 if g[k] > 0.0 else 0.0


@numba.njit
def locate_switch(
    t, y, p, mode, fns, f0, dfdt, jac, h, ynew, err, work, lu, piv, nz, plan, inv_scale, k,
    ytmp, ftmp, g,
):  # fmt: skip
    """Earliest switch crossing inside the accepted step ``[t, t + h]``.

    Safeguarded regula falsi (Illinois variant) on the step length, reusing the Jacobian at the
    step start; the step is then redone to end just past the crossing. Returns ``(ok, h_cross,
    switch_index)``; ``ok`` is False if a trial step met a singular matrix. On success ``ynew``
    holds the state at ``t + h_cross``.
    """
    tol = 1e-10 * max(1.0, abs(t))
    lo = 0.0
    f_lo, _ = crossing(t, y, p, mode, fns, g)
    hi = h
    f_hi, which = crossing(t + h, ynew, p, mode, fns, g)
    side = 0
    while hi - lo > tol:
        width = hi - lo
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo + 0.01 * width < mid < hi - 0.01 * width):
            mid = 0.5 * (lo + hi)
        if not rodas_step(t, y, p, mode, fns, f0, dfdt, jac, mid, ynew, err, work, lu, piv,
                          nz, plan, inv_scale, k, ytmp, ftmp):  # fmt: skip
            return False, hi, which
        f_mid, w_mid = crossing(t + mid, ynew, p, mode, fns, g)
        if f_mid > 0.0:
            hi, f_hi, which = mid, f_mid, w_mid
            if side == 1:
                f_lo *= 0.5
            side = 1
        else:
            lo, f_lo = mid, f_mid
            if side == -1:
                f_hi *= 0.5
            side = -1
        if hi - lo > 0.5 * width:  # slow progress: fall back to a bisection step
            mid = 0.5 * (lo + hi)
            if not rodas_step(t, y, p, mode, fns, f0, dfdt, jac, mid, ynew, err, work, lu,
                              piv, nz, plan, inv_scale, k, ytmp, ftmp):  # fmt: skip
                return False, hi, which
            f_mid, w_mid = crossing(t + mid, ynew, p, mode, fns, g)
            if f_mid > 0.0:
                hi, f_hi, which = mid, f_mid, w_mid
            else:
                lo, f_lo = mid, f_mid
    ok = rodas_step(t, y, p, mode, fns, f0, dfdt, jac, hi, ynew, err, work, lu, piv, nz,
                    plan, inv_scale, k, ytmp, ftmp)  # fmt: skip
    return ok, hi, which


@numba.njit
def mismatch(t, y, p, mode, fns, g) -> bool:
    """True if any switch function has changed sign relative to its current mode."""
    if g.shape[0] == 0:
        return False
    call_compiled(fns[_SWITCHES], y, p, mode, t, g)
    for k in range(g.shape[0]):  # noqa: SIM110 - explicit loops compile to tight code in numba
        if (g[k] > 0.0) != (mode[k] > 0.5):
            return True
    return False


@numba.njit
def output_due(t1, t_out, i_out, t1_included) -> bool:
    """True if output ``i_out`` falls before ``t1`` (or at it, if ``t1_included``)."""
    return i_out < t_out.shape[0] and (t_out[i_out] < t1 or (t1_included and t_out[i_out] == t1))


@numba.njit
def record_outputs(t0, y0, t1, y1, dense, p, mode, fns, t_out, i_out, out, yint,
                   t1_included):  # fmt: skip
    """Record outputs with ``t0 < t_out < t1`` (``<= t1`` if ``t1_included``) by the method's
    dense output (``dense``: the step's vectors, see :mod:`.interpolate`); returns the next output
    index. An output at a dosing time is left to be recorded after the dose, so outputs at event
    times always show the post-dose state."""
    h = t1 - t0
    while output_due(t1, t_out, i_out, t1_included):
        if h > 0.0:
            _dense_output((t_out[i_out] - t0) / h, y0, y1, dense, yint)
        else:
            for i in range(y1.shape[0]):
                yint[i] = y1[i]
        call_compiled(fns[_OBSERVE], yint, p, mode, t_out[i_out], out[i_out])
        i_out += 1
    return i_out


@numba.njit
def solve_patient(
    p, y0, n_switch, t_start, ev_t, ev_input, ev_amount, t_out,
    rtol, atol, h_init, h_max, max_steps, autonomous, colour_ptr, colour_cols, col_ptr, row_idx,
    plan, fns, jac_address, out, stats,
) -> int:  # fmt: skip
    """Integrate one patient from ``t_start`` through ``t_out[-1]``; fill ``out[n_out, n_obs]``.

    ``atol`` is a per-state vector of absolute tolerances (state units). ``autonomous`` skips the
    time derivative of the right-hand side (zero for models whose equations do not contain ``t``).
    ``colour_*``, ``col_ptr`` and ``row_idx`` describe the Jacobian sparsity (see :mod:`.sparsity`);
    ``plan`` holds the addresses of the generated factorisation and solve of that pattern's
    sparse LU plan (:mod:`.lu_ir`);
    ``fns`` holds the addresses of the patient's right-hand side, observables and switch functions
    and ``jac_address`` that of its analytic Jacobian (see :mod:`.analytic`), 0 for finite
    differences.

    ``stats`` receives (accepted steps, rejected steps, switch flips, time reached, index of the
    last switch that flipped or -1). Returns a status code (see :mod:`.status`).
    """
    n = y0.shape[0]
    n_obs = out.shape[1]
    # Work arrays are rows of a few owners; the loop sees them, and the arguments, as borrowed
    # views (see :func:`.native.borrowed`), so passing them to the helpers counts no references.
    # The owners stay alive to the end of this function (``keep_alive``).
    vectors = np.empty((11, n))
    matrices = np.zeros((2, n, n))
    short_indices = np.empty((3, n + 1), dtype=np.int64)
    long_indices = np.empty((2, n * n), dtype=np.int64)
    stages = np.empty((_N_STAGES, n))
    dense_rows = np.empty((_interp.N_DENSE, n))
    switches = np.zeros((2, n_switch))
    y, ynew, err = borrowed(vectors[0]), borrowed(vectors[1]), borrowed(vectors[2])
    work, f0, f1 = borrowed(vectors[3]), borrowed(vectors[4]), borrowed(vectors[5])
    dfdt, ytmp, ftmp = borrowed(vectors[6]), borrowed(vectors[7]), borrowed(vectors[8])
    yint, inv_scale = borrowed(vectors[9]), borrowed(vectors[10])
    jac, lu = borrowed(matrices[0]), borrowed(matrices[1])
    piv = borrowed(short_indices[0, :n])
    nz = (
        borrowed(short_indices[1]),
        borrowed(long_indices[0]),
        borrowed(short_indices[2]),
        borrowed(long_indices[1]),
    )
    k, dense = borrowed(stages), borrowed(dense_rows)
    mode, g = borrowed(switches[0]), borrowed(switches[1])
    p, atol, ev_t, ev_input = borrowed(p), borrowed(atol), borrowed(ev_t), borrowed(ev_input)
    ev_amount, t_out, out, stats = (
        borrowed(ev_amount),
        borrowed(t_out),
        borrowed(out),
        borrowed(stats),
    )
    colour_ptr, colour_cols = borrowed(colour_ptr), borrowed(colour_cols)
    col_ptr, row_idx = borrowed(col_ptr), borrowed(row_idx)
    for i in range(n):
        y[i] = y0[i]
    t_end = t_out[-1]
    t = t_start
    i_out = 0
    i_ev = 0
    n_acc = 0
    n_rej = 0
    n_flip = 0
    last_switch = -1
    n_chatter = 0
    t_last_flip = -np.inf
    h = h_init
    status = _OK
    n_ev = ev_t.shape[0]
    # Outputs requested before the first integration time are not simulated (NaN).
    while i_out < t_out.shape[0] and t_out[i_out] < t_start:
        for j in range(n_obs):
            out[i_out, j] = np.nan
        i_out += 1
    while True:
        # Apply every dosing event due now, then refresh the switch modes.
        while i_ev < n_ev and ev_t[i_ev] <= t:
            _dose(ev_input[i_ev], ev_amount[i_ev], p, y)
            i_ev += 1
        set_modes(t, y, p, mode, fns, g)
        call_compiled(fns[_RHS], y, p, mode, t, f0)
        # Outputs at exactly the current time (after any dose given at this time).
        while i_out < t_out.shape[0] and t_out[i_out] <= t:
            call_compiled(fns[_OBSERVE], y, p, mode, t_out[i_out], out[i_out])
            i_out += 1
        if t >= t_end:
            break
        seg_end = t_end
        if i_ev < n_ev and ev_t[i_ev] < seg_end:
            seg_end = ev_t[i_ev]
        # Integrate the segment [t, seg_end] with the current modes.
        new_segment = False
        while t < seg_end and status == _OK:
            if n_acc + n_rej >= max_steps:
                status = _MAX_STEPS
                break
            if not all_finite(f0):
                status = _NOT_FINITE
                break
            h = min(h, h_max, seg_end - t)
            if h < _min_step(t):
                if seg_end - t <= _min_step(t):  # finishing a sliver of the segment is exact enough
                    h = seg_end - t
                else:
                    status = _STEP_TOO_SMALL
                    break
            jacobian(t, y, p, mode, fns, f0, atol, jac, ytmp, ftmp, colour_ptr, colour_cols, col_ptr,
                     row_idx, jac_address)  # fmt: skip
            time_derivative(t, y, p, mode, fns, f0, autonomous, dfdt, ftmp)
            for i in range(n):
                inv_scale[i] = 1.0 / (atol[i] + rtol * abs(y[i]))
            status, h, en, rej = attempt_step(
                t, y, p, mode, fns, f0, dfdt, jac, h, rtol, atol, max_steps - n_acc - n_rej,
                ynew, err, work, lu, piv, nz, plan, inv_scale, k, ytmp, ftmp,
            )  # fmt: skip
            n_rej += rej
            if status != _OK:
                break
            t_new = t + h
            if seg_end - t_new <= _min_step(t):
                t_new = seg_end  # land exactly on an event or the end, never a rounding short
            if mismatch(t_new, ynew, p, mode, fns, g):
                ok, h_cross, which = locate_switch(t, y, p, mode, fns, f0, dfdt, jac, h, ynew,
                                                   err, work, lu, piv, nz, plan, inv_scale, k, ytmp, ftmp,
                                                   g)  # fmt: skip
                if not ok:
                    status = _SINGULAR
                    break
                t_new = t + h_cross
                n_flip += 1
                last_switch = which
                if t_new - t_last_flip <= CHATTER_WINDOW * max(1.0, abs(t_new)):
                    n_chatter += 1
                    if n_chatter >= CHATTER_FLIPS:
                        status = _CHATTERING
                        break
                else:
                    n_chatter = 0
                t_last_flip = t_new
                new_segment = True
            call_compiled(fns[_RHS], ynew, p, mode, t_new, f1)
            at_event = t_new == seg_end and i_ev < n_ev and ev_t[i_ev] == seg_end
            if output_due(t_new, t_out, i_out, not at_event):
                _dense_vectors(k, dense)
                i_out = record_outputs(t, y, t_new, ynew, dense, p, mode, fns, t_out, i_out, out,
                                       yint, not at_event)  # fmt: skip
            n_acc += 1
            fac = _step_factor(en, _ORDER_EST, rej > 0)
            for i in range(n):
                y[i] = ynew[i]
                f0[i] = f1[i]
            t = t_new
            if new_segment:
                break
            h = h * fac
        if status != _OK:
            break
        if not new_segment and t < seg_end:
            break
    # Outputs after a failure are NaN (each output is written once, in time order).
    for i in range(i_out, out.shape[0]):
        for j in range(n_obs):
            out[i, j] = np.nan
    stats[0] = n_acc
    stats[1] = n_rej
    stats[2] = n_flip
    stats[3] = t
    stats[4] = last_switch
    keep_alive(vectors, matrices, short_indices, long_indices, stages, dense_rows, switches)
    return status


@numba.njit
def keep_alive(*owners) -> None:
    """A last use of the owners of borrowed views, so that they are freed only after it."""


@numba.njit(cache=True, nogil=True)
def solve_batch(
    params, ev_amounts, addresses, out, stats, status, report,
    n_states, n_switch, t_start, ev_t, ev_input, t_out, rtol, atol, h_init, h_max, max_steps,
    autonomous, colour_ptr, colour_cols, col_ptr, row_idx, plan, nonnegative, atol_out,
) -> None:  # fmt: skip
    """Integrate every patient of ``params[N, P]`` from the model's pre-treatment state; outputs in
    ``out[N, T, O]``; ``addresses[N, 4]``: each patient's right-hand side, observables, switch
    functions and analytic Jacobian (0 for finite differences). Each patient's outputs are then
    checked for negative values of the ``nonnegative`` outputs (:func:`.clip.clip_patient` at
    ``rtol`` and ``atol_out``, findings in ``report[N, 4]``). The arguments up to ``report``
    have a row per patient, so a slice of patients is a batch of its own; the GIL is released, so
    threads run slices side by side (see :func:`.engine.simulate`)."""
    for i in range(params.shape[0]):
        y0 = np.empty(n_states)
        _initial_state(params[i], y0)
        status[i] = solve_patient(
            params[i], y0, n_switch, t_start, ev_t, ev_input, ev_amounts[i], t_out, rtol,
            atol, h_init, h_max, max_steps, autonomous, colour_ptr, colour_cols, col_ptr, row_idx,
            plan, (addresses[i, 0], addresses[i, 1], addresses[i, 2]), addresses[i, 3], out[i],
            stats[i],
        )  # fmt: skip
        clip_patient(out[i], status[i] == _OK, report[i], nonnegative, rtol, atol_out)


@numba.njit(cache=True)
def pretreatment(params, p, n_states, n_inputs):
    """The pre-treatment state of every patient of ``params[N, P]`` (``[N, n_states]``) and, for
    each model input, the states a unit dose of it changes from the pre-treatment state at
    parameters ``p`` (boolean ``[n_inputs, n_states]``).

    Compiled and cached with the integrator, so that a later process needs no compilation of the
    model's own functions to group its patients (see :func:`.engine.simulate`); one function, not
    two, because each compiled function costs a first run the compile of the model's functions it
    calls (about a second for the integrated model)."""
    initial = np.zeros((params.shape[0], n_states))
    for i in range(params.shape[0]):
        _initial_state(params[i], initial[i])
    dosed = np.zeros((n_inputs, n_states), dtype=np.bool_)
    y0 = np.zeros(n_states)
    _initial_state(p, y0)
    for k in range(n_inputs):
        y = y0.copy()
        _dose(k, 1.0, p, y)
        for j in range(n_states):
            dosed[k, j] = y[j] != y0[j]
    return initial, dosed
