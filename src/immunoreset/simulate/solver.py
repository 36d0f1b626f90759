"""Compiled adaptive integrator for batches of virtual patients.

One patient is integrated by :func:`solve_patient`: RODAS4 steps with error control, dosing events
applied at their times, discrete switches of the model located by bisection and flipped exactly at
their crossing, and observables recorded at the requested output times by cubic Hermite
interpolation of each accepted step (the step-end derivative is needed for the next step anyway, so
output is free of extra right-hand-side evaluations and does not restrict the step size).

:func:`solve_batch` runs patients in parallel threads (numba ``prange``). Each patient is integrated
independently with its own step sequence, so a patient's result does not depend on the batch it is
in, its position, or the number of threads.

Status codes per patient are listed in :data:`STATUS_MESSAGES`; a failed patient keeps the outputs
recorded before the failure, NaN after it, and the rest of the batch completes.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from immunoreset.simulate import rodas4

OK, MAX_STEPS, STEP_TOO_SMALL, NOT_FINITE, SINGULAR = 0, 1, 2, 3, 4
STATUS_MESSAGES = {
    OK: "ok",
    MAX_STEPS: "maximum number of steps reached before the end of the horizon",
    STEP_TOO_SMALL: "step size fell below the minimum (the problem may be ill-posed here)",
    NOT_FINITE: "the right-hand side or state became NaN or infinite",
    SINGULAR: "the Rosenbrock iteration matrix is singular",
}

_A = rodas4.A
_C = rodas4.C
_M = rodas4.M
_E = rodas4.E
_ALPHA = rodas4.ALPHA
_GI = rodas4.GAMMA_I
_GAMMA = rodas4.GAMMA
_SQRT_EPS = math.sqrt(np.finfo(np.float64).eps)

_lu_factor = numba.njit(rodas4.lu_factor)
_lu_solve = numba.njit(rodas4.lu_solve)
_error_norm = numba.njit(rodas4.error_norm)


@numba.njit
def _jacobian(rhs, t, y, p, mode, f0, atol, jac, ytmp, ftmp, colour_ptr, colour_cols, col_ptr,
              row_idx):  # fmt: skip
    """Forward-difference Jacobian, perturbing all columns of one colour per evaluation (see
    :mod:`.sparsity`); entries outside the pattern stay zero."""
    n = y.shape[0]
    for j in range(n):
        ytmp[j] = y[j]
    for c in range(colour_ptr.shape[0] - 1):
        for q in range(colour_ptr[c], colour_ptr[c + 1]):
            j = colour_cols[q]
            ytmp[j] = y[j] + _SQRT_EPS * max(abs(y[j]), atol[j])
        rhs(t, ytmp, p, mode, ftmp)
        for q in range(colour_ptr[c], colour_ptr[c + 1]):
            j = colour_cols[q]
            inv = 1.0 / (ytmp[j] - y[j])
            for k in range(col_ptr[j], col_ptr[j + 1]):
                i = row_idx[k]
                jac[i, j] = (ftmp[i] - f0[i]) * inv
            ytmp[j] = y[j]


@numba.njit
def _rodas_step(rhs, t, y, p, mode, f0, dfdt, jac, h, ynew, err, work, lu, piv, nz, k, ytmp, ftmp):
    """One RODAS4 step of size ``h`` from ``(t, y)``; returns False if the matrix is singular."""
    n = y.shape[0]
    inv_hg = 1.0 / (h * _GAMMA)
    for i in range(n):
        for j in range(n):
            lu[i, j] = -jac[i, j]
        lu[i, i] += inv_hg
    lptr, lidx, uptr, uidx = nz
    if not _lu_factor(lu, piv, lptr, lidx, uptr, uidx):
        return False
    for s in range(rodas4.N_STAGES):
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
            rhs(t + _ALPHA[s] * h, ytmp, p, mode, ftmp)
        hg = h * _GI[s]
        for i in range(n):
            work[i] = ftmp[i] + hg * dfdt[i]
        for j in range(s):
            c = _C[s, j] / h
            for i in range(n):
                work[i] += c * k[j, i]
        _lu_solve(lu, piv, lptr, lidx, uptr, uidx, work)
        for i in range(n):
            k[s, i] = work[i]
    for i in range(n):
        acc = y[i]
        e = 0.0
        for s in range(rodas4.N_STAGES):
            acc += _M[s] * k[s, i]
            e += _E[s] * k[s, i]
        ynew[i] = acc
        err[i] = e
    return True


@numba.njit
def _all_finite(v) -> bool:
    for x in v:  # noqa: SIM110 - explicit loops compile to tight code in numba
        if not math.isfinite(x):
            return False
    return True


@numba.njit
def _mismatch(switches, t, y, p, mode, g) -> bool:
    """True if any switch function has changed sign relative to its current mode."""
    if g.shape[0] == 0:
        return False
    switches(t, y, p, g)
    for k in range(g.shape[0]):  # noqa: SIM110 - explicit loops compile to tight code in numba
        if (g[k] > 0.0) != (mode[k] > 0.5):
            return True
    return False


@numba.njit
def _crossing(switches, t, y, p, mode, g) -> float:
    """Largest switch function taken in the direction that leaves its current mode: <= 0 while
    every switch is consistent with its mode, > 0 once any has crossed."""
    switches(t, y, p, g)
    worst = -np.inf
    for k in range(g.shape[0]):
        v = -g[k] if mode[k] > 0.5 else g[k]
        worst = max(worst, v)
    return worst


@numba.njit
def _set_modes(switches, t, y, p, mode, g) -> None:
    if g.shape[0] == 0:
        return
    switches(t, y, p, g)
    for k in range(g.shape[0]):
        mode[k] = 1.0 if g[k] > 0.0 else 0.0


@numba.njit
def _record(observe, t0, y0, f0, t1, y1, f1, p, t_out, i_out, out, yint, obs_row, t1_included):
    """Record outputs with ``t0 < t_out < t1`` (``<= t1`` if ``t1_included``) by cubic Hermite
    interpolation; returns the next output index. An output at a dosing time is left to be
    recorded after the dose, so outputs at event times always show the post-dose state."""
    h = t1 - t0
    n_out = t_out.shape[0]
    while i_out < n_out and (t_out[i_out] < t1 or (t1_included and t_out[i_out] == t1)):
        if h > 0.0:
            th = (t_out[i_out] - t0) / h
            h00 = (1.0 + 2.0 * th) * (1.0 - th) ** 2
            h10 = th * (1.0 - th) ** 2
            h01 = th * th * (3.0 - 2.0 * th)
            h11 = th * th * (th - 1.0)
            for i in range(y1.shape[0]):
                yint[i] = h00 * y0[i] + h10 * h * f0[i] + h01 * y1[i] + h11 * h * f1[i]
        else:
            for i in range(y1.shape[0]):
                yint[i] = y1[i]
        observe(t_out[i_out], yint, p, obs_row)
        for j in range(obs_row.shape[0]):
            out[i_out, j] = obs_row[j]
        i_out += 1
    return i_out


@numba.njit
def solve_patient(
    rhs, switches, dose, observe,
    p, y0, n_switch, t_start, ev_t, ev_input, ev_amount, t_out,
    rtol, atol, h_init, h_max, max_steps, autonomous, colour_ptr, colour_cols, col_ptr, row_idx,
    out, stats,
) -> int:  # fmt: skip
    """Integrate one patient from ``t_start`` through ``t_out[-1]``; fill ``out[n_out, n_obs]``.

    ``atol`` is a per-state vector of absolute tolerances (state units). ``autonomous`` skips the
    time derivative of the right-hand side (zero for models whose equations do not contain ``t``).
    ``colour_*``, ``col_ptr`` and ``row_idx`` describe the Jacobian sparsity (see :mod:`.sparsity`).

    ``stats`` receives (accepted steps, rejected steps, switch flips, time reached).
    Returns a status code (see :data:`STATUS_MESSAGES`).
    """
    n = y0.shape[0]
    n_obs = out.shape[1]
    y = y0.copy()
    ynew = np.empty(n)
    err = np.empty(n)
    work = np.empty(n)
    f0 = np.empty(n)
    f1 = np.empty(n)
    dfdt = np.empty(n)
    ytmp = np.empty(n)
    ftmp = np.empty(n)
    yint = np.empty(n)
    jac = np.zeros((n, n))
    lu = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    nz = (
        np.empty(n + 1, dtype=np.int64),
        np.empty(n * n, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n * n, dtype=np.int64),
    )
    k = np.empty((rodas4.N_STAGES, n))
    mode = np.zeros(n_switch)
    g = np.zeros(n_switch)
    obs_row = np.empty(n_obs)
    for i in range(out.shape[0]):
        for j in range(n_obs):
            out[i, j] = np.nan
    t_end = t_out[-1]
    t = t_start
    i_out = 0
    i_ev = 0
    n_acc = 0
    n_rej = 0
    n_flip = 0
    h = h_init
    status = OK
    n_ev = ev_t.shape[0]
    # Outputs requested before the first integration time see the initial state.
    while i_out < t_out.shape[0] and t_out[i_out] < t_start:
        i_out += 1
    while True:
        # Apply every dosing event due now, then refresh the switch modes.
        while i_ev < n_ev and ev_t[i_ev] <= t:
            dose(ev_input[i_ev], ev_amount[i_ev], p, y)
            i_ev += 1
        _set_modes(switches, t, y, p, mode, g)
        rhs(t, y, p, mode, f0)
        # Outputs at exactly the current time (after any dose given at this time).
        while i_out < t_out.shape[0] and t_out[i_out] <= t:
            observe(t_out[i_out], y, p, obs_row)
            for j in range(n_obs):
                out[i_out, j] = obs_row[j]
            i_out += 1
        if t >= t_end:
            break
        seg_end = t_end
        if i_ev < n_ev and ev_t[i_ev] < seg_end:
            seg_end = ev_t[i_ev]
        # Integrate the segment [t, seg_end] with the current modes.
        new_segment = False
        while t < seg_end and status == OK:
            if n_acc + n_rej >= max_steps:
                status = MAX_STEPS
                break
            if not _all_finite(f0):
                status = NOT_FINITE
                break
            h = min(h, h_max, seg_end - t)
            h_min = 1e-13 * max(1.0, abs(t))
            if h < h_min:
                if seg_end - t <= h_min:  # finishing a sliver of the segment is exact enough
                    h = seg_end - t
                else:
                    status = STEP_TOO_SMALL
                    break
            _jacobian(rhs, t, y, p, mode, f0, atol, jac, ytmp, ftmp, colour_ptr, colour_cols,
                      col_ptr, row_idx)  # fmt: skip
            if autonomous:
                for i in range(n):
                    dfdt[i] = 0.0
            else:
                dt = _SQRT_EPS * max(abs(t), 1.0)
                rhs(t + dt, y, p, mode, ftmp)
                for i in range(n):
                    dfdt[i] = (ftmp[i] - f0[i]) / dt
            while True:  # attempt, reject and retry with the same Jacobian
                if not _rodas_step(rhs, t, y, p, mode, f0, dfdt, jac, h, ynew, err, work, lu,
                                   piv, nz, k, ytmp, ftmp):  # fmt: skip
                    status = SINGULAR
                    break
                en = _error_norm(err, y, ynew, rtol, atol)
                if en <= 1.0 and _all_finite(ynew):
                    break
                n_rej += 1
                if not math.isfinite(en):
                    h *= 0.1
                else:
                    h *= max(0.2, 0.9 * en ** (-1.0 / rodas4.ORDER_EST))
                if h < 1e-13 * max(1.0, abs(t)) or n_acc + n_rej >= max_steps:
                    status = STEP_TOO_SMALL if n_acc + n_rej < max_steps else MAX_STEPS
                    break
            if status != OK:
                break
            t_new = t + h
            if seg_end - t_new <= 1e-13 * max(1.0, abs(t)):
                t_new = seg_end  # land exactly on an event or the end, never a rounding short
            if _mismatch(switches, t_new, ynew, p, mode, g):
                # A switch crossed inside the step: find the earliest crossing by safeguarded
                # regula falsi (Illinois variant) on the step length, reusing the Jacobian at the
                # step start, and end the step just past the crossing.
                tol = 1e-10 * max(1.0, abs(t))
                lo = 0.0
                f_lo = _crossing(switches, t, y, p, mode, g)
                hi = h
                f_hi = _crossing(switches, t_new, ynew, p, mode, g)
                side = 0
                while hi - lo > tol:
                    width = hi - lo
                    mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
                    if not (lo + 0.01 * width < mid < hi - 0.01 * width):
                        mid = 0.5 * (lo + hi)
                    _rodas_step(rhs, t, y, p, mode, f0, dfdt, jac, mid, ynew, err, work, lu,
                                piv, nz, k, ytmp, ftmp)  # fmt: skip
                    f_mid = _crossing(switches, t + mid, ynew, p, mode, g)
                    if f_mid > 0.0:
                        hi, f_hi = mid, f_mid
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
                        _rodas_step(rhs, t, y, p, mode, f0, dfdt, jac, mid, ynew, err, work, lu,
                                    piv, nz, k, ytmp, ftmp)  # fmt: skip
                        f_mid = _crossing(switches, t + mid, ynew, p, mode, g)
                        if f_mid > 0.0:
                            hi, f_hi = mid, f_mid
                        else:
                            lo, f_lo = mid, f_mid
                _rodas_step(rhs, t, y, p, mode, f0, dfdt, jac, hi, ynew, err, work, lu, piv, nz,
                            k, ytmp, ftmp)  # fmt: skip
                t_new = t + hi
                n_flip += 1
                new_segment = True
            rhs(t_new, ynew, p, mode, f1)
            at_event = t_new == seg_end and i_ev < n_ev and ev_t[i_ev] == seg_end
            i_out = _record(observe, t, y, f0, t_new, ynew, f1, p, t_out, i_out, out, yint,
                            obs_row, not at_event)  # fmt: skip
            n_acc += 1
            fac = 6.0 if en == 0.0 else min(6.0, max(0.2, 0.9 * en ** (-1.0 / rodas4.ORDER_EST)))
            for i in range(n):
                y[i] = ynew[i]
                f0[i] = f1[i]
            t = t_new
            if new_segment:
                break
            h = h * fac
        if status != OK:
            break
        if not new_segment and t < seg_end:
            break
    stats[0] = n_acc
    stats[1] = n_rej
    stats[2] = n_flip
    stats[3] = t
    return status


@numba.njit(parallel=True)
def solve_batch(
    rhs, switches, dose, observe,
    params, y0s, n_switch, t_start, ev_t, ev_input, ev_amounts, t_out,
    rtol, atol, h_init, h_max, max_steps, autonomous, colour_ptr, colour_cols, col_ptr, row_idx,
    out, stats, status,
) -> None:  # fmt: skip
    """Integrate every patient of ``params[N, P]`` in parallel; outputs in ``out[N, T, O]``."""
    for i in numba.prange(params.shape[0]):
        status[i] = solve_patient(
            rhs, switches, dose, observe, params[i], y0s[i], n_switch, t_start, ev_t, ev_input,
            ev_amounts[i], t_out, rtol, atol, h_init, h_max, max_steps, autonomous, colour_ptr,
            colour_cols, col_ptr, row_idx, out[i], stats[i],
        )  # fmt: skip
