"""Lock-step integration: several patients at once, one per vector lane (specialised per model like
:mod:`.kernel_template`, whose binding line it shares).

Each patient keeps its own step sequence: its own time, step size, error test, rejections, switch
modes, dosing events and outputs, exactly as :func:`.kernel_template.solve_patient` integrates it
alone. What the lanes share is the arithmetic of a step attempt: the Jacobian, the factorisation
of the iteration matrix, the eight stages (right-hand side, solve), the new state and its error norm
are computed for all lanes by the lane forms of the generated functions (:mod:`.lanes_ir`,
:mod:`.rodas_lanes_ir`), one vector instruction doing the same operation for every patient; the
work arrays are lane-interleaved (entry ``i`` of lane ``l`` at ``i * LANES + l``). What each
patient decides (accepting or rejecting the step, the bracket of a switch crossing, events,
outputs) is done lane by lane with the scalar integrator's own functions. The trial steps that
locate a crossing are lane steps too, and a lane whose planned pivots are declined is factorised
and solved by the pivoting LU inside the lane step. Every operation is the scalar integrator's, in
the same order, so a patient's result is the same bits whichever lane and batch it runs in
(tested); a lane whose patient is done takes the next patient of the batch.

Used for autonomous models with the traced right-hand side and the analytic Jacobian (the engine
decides per patient, see :func:`.engine.simulate`); anything else runs through
:mod:`.kernel_template`.
"""

import math

import numba
import numpy as np

from immunoreset.simulate import kernel_template as _k
from immunoreset.simulate.clip import clip_patient
from immunoreset.simulate.interpolate import N_DENSE
from immunoreset.simulate.lanes_ir import LANES
from immunoreset.simulate.native import (
    call_compiled,
    call_lanes,
    call_lu_factor_lanes,
    call_lu_solve,
    call_pointers3,
    call_pointers4,
    call_pointers5,
    call_pointers6,
)

_dose = _initial_state = None  # @bind-model

_L = LANES
_EMPTY, _SEGMENT, _STEP, _ATTEMPT, _LOCATE, _FINISH = range(6)  # what a lane does next
# A lane locating a switch crossing (phase _LOCATE) tries a step of the regula falsi, of its
# bisection fallback, or the final step to the crossing (see kernel_template.locate_switch).
_FALSI, _BISECT, _FINAL = range(3)
# Per-lane scalars, columns of ``counters`` (int) and ``clocks`` (float).
_PATIENT, _PHASE, _I_OUT, _I_EV, _N_ACC, _N_REJ, _N_FLIP, _LAST, _N_CHATTER, _STATUS = range(10)
_ATT_REJ, _ATT_SING, _BUDGET, _WHICH, _SIDE, _TRIAL = range(10, 16)
_T, _H, _SEG_END, _T_FLIP, _EN, _LO, _HI, _F_LO, _F_HI, _WIDTH, _H_STEP = range(11)


# Positions in ``stage_fns`` (the order of rodas_lanes_ir.names()).
_INPUTS, _RHS0, _COMBINE, _ERROR = 0, _k._N_STAGES - 1, 2 * _k._N_STAGES - 1, 2 * _k._N_STAGES


@numba.njit(error_model="numpy", _nrt=False)
def attempt_lanes(Y, F0, P, MODE, T, H, ST, SHIFT, INV, J, LU, K, YT, FT, YN, ERR, DENSE, atol,
                  rtol, RTOL, TEST, lanes, stage_fns, active, pivoting, saved):  # fmt: skip
    """One step attempt of size ``H[lane]`` from ``(T, Y)`` (``F0 = f(T, Y)``) in every lane.

    The iteration matrix of every lane is factorised by the planned LU; the ``active`` lanes (a
    bit each) whose pivots it declines are factorised by the pivoting LU, as the scalar step does,
    and their stages solved by it (``pivoting``: each lane's factors and work lists; ``saved``: a
    vector per lane). Each lane's error norm and whether its new state is finite go to ``TEST``
    (``RTOL`` holds ``rtol``), the dense output vectors to ``DENSE``. Returns the bits of the
    lanes whose pivoting LU found the matrix singular (their results are not used).
    ``stage_fns``: the stage arithmetic (:mod:`.rodas_lanes_ir`)."""
    rhs, jac, factor, solve = lanes
    lu, piv, lptr, lidx, uptr, uidx = pivoting
    n = Y.shape[0] // _L
    call_lanes(jac, Y, P, MODE, T, J)
    for i in range(n):
        for lane in range(_L):
            INV[i * _L + lane] = 1.0 / (atol[i] + rtol * abs(Y[i * _L + lane]))
    for lane in range(_L):
        SHIFT[lane] = 1.0 / (H[lane] * _k._GAMMA)
    declined = active & ~call_lu_factor_lanes(factor, J, SHIFT, INV, LU)
    singular = 0
    for lane in range(_L):
        if (declined >> lane) & 1:
            for r in range(n):
                for c in range(n):
                    lu[lane, r, c] = -J[(r * n + c) * _L + lane]
                lu[lane, r, r] += SHIFT[lane]
            if not _k._pivoting_factor(lu[lane], piv[lane], lptr[lane], lidx[lane], uptr[lane],
                                       uidx[lane]):  # fmt: skip
                singular |= 1 << lane
    pivoted = declined & ~singular
    for s in range(_k._N_STAGES):
        ks = K[s]  # the stage's right-hand side, solved in place
        if s == 0:
            call_pointers4(stage_fns[_RHS0], F0, K, H, ks)
        else:
            call_pointers3(stage_fns[_INPUTS + s - 1], Y, K, YT)
            for lane in range(_L):
                ST[lane] = T[lane] + _k._ALPHA[s] * H[lane]
            call_lanes(rhs, YT, P, MODE, ST, FT)
            call_pointers4(stage_fns[_RHS0 + s], FT, K, H, ks)
        if pivoted:  # the declined lanes' solutions, put in place after the planned solve
            for lane in range(_L):
                if (pivoted >> lane) & 1:
                    w = saved[lane]
                    for i in range(n):
                        w[i] = ks[i * _L + lane]
                    _k._pivoting_solve(lu[lane], piv[lane], lptr[lane], lidx[lane], uptr[lane],
                                       uidx[lane], w)  # fmt: skip
        call_lu_solve(solve, LU, ks)
        if pivoted:
            for lane in range(_L):
                if (pivoted >> lane) & 1:
                    for i in range(n):
                        ks[i * _L + lane] = saved[lane, i]
    call_pointers5(stage_fns[_COMBINE], Y, K, YN, ERR, DENSE)
    call_pointers6(stage_fns[_ERROR], Y, YN, ERR, atol, RTOL, TEST)
    return singular


@numba.njit(cache=True, nogil=True)
def solve_batch_lanes(
    params, ev_amounts, out, stats, status, report,
    n_states, n_switch, t_start, ev_t, ev_input, t_out, rtol, atol, h_init, h_max, max_steps,
    fns, lanes, stage_fns, nonnegative, atol_out,
) -> None:  # fmt: skip
    """Integrate every patient of ``params[N, P]`` from the model's pre-treatment state, as
    :func:`.kernel_template.solve_batch` does, ``LANES`` patients at a time. Every patient uses
    the traced functions ``fns`` (right-hand side, observables, switch functions) and the analytic
    Jacobian; ``lanes`` holds the addresses of the lane forms of the right-hand side, Jacobian,
    factorisation and solve, ``stage_fns`` those of the stage arithmetic (:mod:`.rodas_lanes_ir`).
    Every step is made in the lanes: the trial steps that locate a switch crossing, and those of a
    lane whose planned pivots are declined (factorised and solved by the pivoting LU). As each
    patient finishes, its outputs are checked for negative values (``report``, ``nonnegative``
    and ``atol_out`` as in :func:`.kernel_template.solve_batch`)."""
    n = n_states
    nl = n * _L
    inter = np.zeros((8, nl))
    stages = np.zeros((_k._N_STAGES, nl))
    mats = np.zeros((2, n * nl))
    inputs = np.zeros((2, max(params.shape[1], n_switch, 1) * _L))
    per_lane = np.ones((7, _L))  # a lane without a patient keeps a step of 1 (no 1 / 0)
    per_lane[6, 0] = rtol
    lane_vectors = np.zeros((5, _L, n))
    lane_switches = np.zeros((2, _L, max(n_switch, 1)))
    counters = np.zeros((_L, 16), dtype=np.int64)
    clocks = np.zeros((_L, 11))
    lane_lu = np.zeros((_L, n, n))  # each lane's pivoting LU (see attempt_lanes)
    lane_piv = np.empty((_L, n), dtype=np.int64)
    lane_short = np.empty((2, _L, n + 1), dtype=np.int64)
    lane_long = np.empty((2, _L, n * n), dtype=np.int64)
    lane_saved = np.zeros((_L, n))
    dense = np.zeros(N_DENSE * nl)  # the dense output vectors of every lane's last attempt
    lane_dense = np.zeros((_L, N_DENSE, n))
    _lane_loop(params, ev_amounts, out, stats, status, report, n, n_switch, t_start, ev_t,
               ev_input, t_out, rtol, atol, h_init, h_max, max_steps, fns, lanes, stage_fns,
               nonnegative, atol_out, inter, stages, mats, inputs, per_lane, lane_vectors,
               lane_switches, counters, clocks, lane_lu, lane_piv, lane_short, lane_long,
               lane_saved, dense, lane_dense)  # fmt: skip


@numba.njit(_nrt=False)
def _lane_loop(params, ev_amounts, out, stats, status, report, n, n_switch, t_start, ev_t,
               ev_input, t_out, rtol, atol, h_init, h_max, max_steps, fns, lanes, stage_fns,
               nonnegative, atol_out, inter, stages, mats, inputs, per_lane, lane_vectors,
               lane_switches, counters, clocks, lane_lu, lane_piv, lane_short, lane_long,
               lane_saved, DENSE, lane_dense) -> None:  # fmt: skip
    """The loop of :func:`solve_batch_lanes` over the work arrays it allocated. Compiled without
    numba's reference counting: the loop takes views of the work arrays for every lane in every
    step, and counting each (a call, about a tenth of Park 2025's time in lanes) buys nothing here,
    where every array outlives the loop."""
    n_pat = params.shape[0]
    n_obs = out.shape[2]
    n_ev = ev_t.shape[0]
    n_out = t_out.shape[0]
    t_end = t_out[-1]
    Y, F0, YT, FT, YN, ERR, INV, F1 = (inter[0], inter[1], inter[2], inter[3], inter[4],
                                       inter[5], inter[6], inter[7])  # fmt: skip
    K = stages
    J, LU = mats[0], mats[1]
    P, MODE = inputs[0], inputs[1]
    T, H, ST, SHIFT = per_lane[0], per_lane[1], per_lane[2], per_lane[3]
    TEST = per_lane[4:6].reshape(2 * _L)  # error norms, then whether the new states are finite
    RTOL = per_lane[6]
    ys, f0s, ynews = lane_vectors[0], lane_vectors[1], lane_vectors[2]
    f1s, yints = lane_vectors[3], lane_vectors[4]
    modes, gs = lane_switches[0], lane_switches[1]
    cn, ck = counters, clocks
    saved = lane_saved
    pivoting = (lane_lu, lane_piv, lane_short[0], lane_long[0], lane_short[1], lane_long[1])
    next_patient = 0
    while True:
        # Bring every lane to its next step attempt: a new patient, events, outputs, checks.
        active = 0  # a bit per lane with a step to attempt
        for lane in range(_L):
            while cn[lane, _PHASE] != _ATTEMPT and cn[lane, _PHASE] != _LOCATE:
                phase = cn[lane, _PHASE]
                if phase == _EMPTY:
                    if next_patient >= n_pat:
                        break
                    i = next_patient
                    next_patient += 1
                    p = params[i]
                    for q in range(p.shape[0]):
                        P[q * _L + lane] = p[q]
                    _initial_state(p, ys[lane])
                    for c in range(cn.shape[1]):
                        cn[lane, c] = 0
                    cn[lane, _PATIENT] = i
                    cn[lane, _LAST] = -1
                    ck[lane, _T] = t_start
                    ck[lane, _H] = h_init
                    ck[lane, _T_FLIP] = -np.inf
                    i_out = 0
                    while i_out < n_out and t_out[i_out] < t_start:
                        for j in range(n_obs):
                            out[i, i_out, j] = np.nan
                        i_out += 1
                    cn[lane, _I_OUT] = i_out
                    cn[lane, _PHASE] = _SEGMENT
                elif phase == _SEGMENT:
                    i = cn[lane, _PATIENT]
                    p, y, mode, t = params[i], ys[lane], modes[lane, :n_switch], ck[lane, _T]
                    i_ev = cn[lane, _I_EV]
                    while i_ev < n_ev and ev_t[i_ev] <= t:
                        _dose(ev_input[i_ev], ev_amounts[i, i_ev], p, y)
                        i_ev += 1
                    cn[lane, _I_EV] = i_ev
                    _k.set_modes(t, y, p, mode, fns, gs[lane, :n_switch])
                    call_compiled(fns[_k._RHS], y, p, mode, t, f0s[lane])
                    i_out = cn[lane, _I_OUT]
                    while i_out < n_out and t_out[i_out] <= t:
                        call_compiled(fns[_k._OBSERVE], y, p, mode, t_out[i_out], out[i, i_out])
                        i_out += 1
                    cn[lane, _I_OUT] = i_out
                    if t >= t_end:
                        cn[lane, _PHASE] = _FINISH
                        continue
                    seg_end = t_end
                    if i_ev < n_ev and ev_t[i_ev] < seg_end:
                        seg_end = ev_t[i_ev]
                    ck[lane, _SEG_END] = seg_end
                    cn[lane, _PHASE] = _STEP
                elif phase == _STEP:
                    t, seg_end = ck[lane, _T], ck[lane, _SEG_END]
                    if cn[lane, _N_ACC] + cn[lane, _N_REJ] >= max_steps:
                        cn[lane, _STATUS] = _k._MAX_STEPS
                        cn[lane, _PHASE] = _FINISH
                        continue
                    if not _k.all_finite(f0s[lane]):
                        cn[lane, _STATUS] = _k._NOT_FINITE
                        cn[lane, _PHASE] = _FINISH
                        continue
                    h = min(ck[lane, _H], h_max, seg_end - t)
                    if h < _k._min_step(t):
                        if seg_end - t <= _k._min_step(t):
                            h = seg_end - t
                        else:
                            cn[lane, _STATUS] = _k._STEP_TOO_SMALL
                            cn[lane, _PHASE] = _FINISH
                            continue
                    ck[lane, _H] = h
                    cn[lane, _ATT_REJ] = 0
                    cn[lane, _ATT_SING] = 0
                    cn[lane, _BUDGET] = max_steps - cn[lane, _N_ACC] - cn[lane, _N_REJ]
                    cn[lane, _PHASE] = _ATTEMPT
                else:  # _FINISH
                    i = cn[lane, _PATIENT]
                    for i_out in range(cn[lane, _I_OUT], n_out):
                        for j in range(n_obs):
                            out[i, i_out, j] = np.nan
                    stats[i, 0] = cn[lane, _N_ACC]
                    stats[i, 1] = cn[lane, _N_REJ]
                    stats[i, 2] = cn[lane, _N_FLIP]
                    stats[i, 3] = ck[lane, _T]
                    stats[i, 4] = cn[lane, _LAST]
                    status[i] = cn[lane, _STATUS]
                    clip_patient(out[i], status[i] == _k._OK, report[i], nonnegative, rtol,
                                 atol_out)  # fmt: skip
                    cn[lane, _PHASE] = _EMPTY
            if cn[lane, _PHASE] == _ATTEMPT or cn[lane, _PHASE] == _LOCATE:
                active |= 1 << lane
                for i in range(n):
                    Y[i * _L + lane] = ys[lane, i]
                    F0[i * _L + lane] = f0s[lane, i]
                for q in range(n_switch):
                    MODE[q * _L + lane] = modes[lane, q]
                T[lane] = ck[lane, _T]
                H[lane] = ck[lane, _H]
        if active == 0:
            break
        singular = attempt_lanes(Y, F0, P, MODE, T, H, ST, SHIFT, INV, J, LU, K, YT, FT, YN,
                                 ERR, DENSE, atol, rtol, RTOL, TEST, lanes, stage_fns,
                                 np.int64(active), pivoting, saved)  # fmt: skip
        # f at every lane's new state (an autonomous model: the time does not enter), for the
        # lanes whose step is accepted without a switch crossing.
        call_lanes(lanes[0], YN, P, MODE, T, F1)
        # Each lane's error test and what follows, as the scalar integrator does it.
        for lane in range(_L):
            if not (active >> lane) & 1:
                continue
            i = cn[lane, _PATIENT]
            p, y, mode = params[i], ys[lane], modes[lane, :n_switch]
            ynew, f0 = ynews[lane], f0s[lane]
            t, h = ck[lane, _T], ck[lane, _H]
            for q in range(n):
                ynew[q] = YN[q * _L + lane]
            if cn[lane, _PHASE] == _LOCATE:
                if (singular >> lane) & 1:
                    cn[lane, _STATUS] = _k._SINGULAR
                    cn[lane, _PHASE] = _FINISH
                elif _locate(lane, t, p, ynew, mode, fns, gs[lane, :n_switch], cn, ck):
                    crossed = cn[lane, _PHASE] == _LOCATE  # a variable: a literal True would
                    # compile _advance a second time
                    _advance(lane, t, t + ck[lane, _HI], crossed, p, y, mode, f0, ynew, F1, DENSE,
                             cn, ck, fns, f1s[lane], lane_dense[lane], yints[lane], ev_t,
                             t_out, out[i])  # fmt: skip
                continue
            if (singular >> lane) & 1:
                cn[lane, _ATT_SING] += 1
                cn[lane, _ATT_REJ] += 1
                if cn[lane, _ATT_SING] > _k._MAX_SINGULAR_RETRIES:
                    _fail(cn, lane, _k._SINGULAR)
                    continue
                h *= _k._SINGULAR_SHRINK
            else:
                en, finite = TEST[lane], TEST[_L + lane] != 0.0
                if en <= 1.0 and finite:
                    ck[lane, _EN] = en
                    _accept(lane, t, h, p, y, mode, f0, ynew, F1, DENSE, cn, ck, fns,
                            gs[lane, :n_switch], f1s[lane], lane_dense[lane], yints[lane],
                            ev_t, t_out, out[i])  # fmt: skip
                    continue
                cn[lane, _ATT_REJ] += 1
                h *= _k._step_factor(en if finite else math.inf, _k._ORDER_EST, True)
            ck[lane, _H] = h
            if h < _k._min_step(t):
                _fail(cn, lane, _k._STEP_TOO_SMALL)
            elif cn[lane, _ATT_REJ] >= cn[lane, _BUDGET]:
                _fail(cn, lane, _k._MAX_STEPS)


@numba.njit(_nrt=False)
def _fail(cn, lane, code) -> None:
    """End lane ``lane``'s patient with ``code``, counting the rejections of its last attempt."""
    cn[lane, _N_REJ] += cn[lane, _ATT_REJ]
    cn[lane, _STATUS] = code
    cn[lane, _PHASE] = _FINISH


@numba.njit(_nrt=False)
def _accept(lane, t, h, p, y, mode, f0, ynew, F1, DENSE, cn, ck, fns, g, f1, dense, yint, ev_t,
            t_out, out) -> None:  # fmt: skip
    """Lane ``lane``'s step from ``t`` to ``t + h`` passed the error test (the scalar integrator's
    code that follows): if a switch changed sign in it, the lane goes on to locate the crossing
    (phase ``_LOCATE``, :func:`_locate`), else the step is taken."""
    rej = cn[lane, _ATT_REJ]
    cn[lane, _N_REJ] += rej
    seg_end = ck[lane, _SEG_END]
    t_new = t + h
    if seg_end - t_new <= _k._min_step(t):
        t_new = seg_end
    if _k.mismatch(t_new, ynew, p, mode, fns, g):
        # kernel_template.locate_switch's start, its trial steps then made in the lanes.
        ck[lane, _H_STEP] = h
        ck[lane, _LO] = 0.0
        ck[lane, _F_LO] = _k.crossing(t, y, p, mode, fns, g)[0]
        ck[lane, _HI] = h
        ck[lane, _F_HI], cn[lane, _WHICH] = _k.crossing(t + h, ynew, p, mode, fns, g)
        cn[lane, _SIDE] = 0
        cn[lane, _PHASE] = _LOCATE
        _next_trial(lane, t, cn, ck)
        return
    crossed = cn[lane, _PHASE] == _LOCATE  # False here (see _lane_loop)
    _advance(lane, t, t_new, crossed, p, y, mode, f0, ynew, F1, DENSE, cn, ck, fns, f1, dense, yint,
             ev_t, t_out, out)  # fmt: skip


@numba.njit(_nrt=False)
def _next_trial(lane, t, cn, ck) -> None:
    """The next trial step of a lane locating a crossing in ``[t + lo, t + hi]``: regula falsi
    (Illinois) while the bracket is wider than the tolerance, then the step to its upper end."""
    lo, hi, f_lo, f_hi = ck[lane, _LO], ck[lane, _HI], ck[lane, _F_LO], ck[lane, _F_HI]
    if hi - lo > 1e-10 * max(1.0, abs(t)):
        width = hi - lo
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo + 0.01 * width < mid < hi - 0.01 * width):
            mid = 0.5 * (lo + hi)
        ck[lane, _WIDTH] = width
        ck[lane, _H] = mid
        cn[lane, _TRIAL] = _FALSI
    else:
        ck[lane, _H] = hi
        cn[lane, _TRIAL] = _FINAL


@numba.njit(_nrt=False)
def _locate(lane, t, p, ynew, mode, fns, g, cn, ck) -> bool:
    """Lane ``lane``'s trial step of size ``ck[lane, _H]`` is done (state ``ynew``): update the
    bracket of the crossing as :func:`.kernel_template.locate_switch` does and set the next trial;
    True once the final step to the crossing is done."""
    if cn[lane, _TRIAL] == _FINAL:
        return True
    mid = ck[lane, _H]
    f_mid, w_mid = _k.crossing(t + mid, ynew, p, mode, fns, g)
    if cn[lane, _TRIAL] == _FALSI:
        if f_mid > 0.0:
            ck[lane, _HI], ck[lane, _F_HI], cn[lane, _WHICH] = mid, f_mid, w_mid
            if cn[lane, _SIDE] == 1:
                ck[lane, _F_LO] *= 0.5
            cn[lane, _SIDE] = 1
        else:
            ck[lane, _LO], ck[lane, _F_LO] = mid, f_mid
            if cn[lane, _SIDE] == -1:
                ck[lane, _F_HI] *= 0.5
            cn[lane, _SIDE] = -1
        if ck[lane, _HI] - ck[lane, _LO] > 0.5 * ck[lane, _WIDTH]:  # slow: a bisection step
            ck[lane, _H] = 0.5 * (ck[lane, _LO] + ck[lane, _HI])
            cn[lane, _TRIAL] = _BISECT
            return False
    elif f_mid > 0.0:  # _BISECT
        ck[lane, _HI], ck[lane, _F_HI], cn[lane, _WHICH] = mid, f_mid, w_mid
    else:
        ck[lane, _LO], ck[lane, _F_LO] = mid, f_mid
    _next_trial(lane, t, cn, ck)
    return False


@numba.njit(_nrt=False)
def _advance(lane, t, t_new, crossed, p, y, mode, f0, ynew, F1, DENSE, cn, ck, fns, f1, dense, yint,
             ev_t, t_out, out) -> None:  # fmt: skip
    """Take lane ``lane``'s accepted step to ``t_new`` (state ``ynew``), ``crossed`` if it ends at
    a located switch crossing: outputs (from the lanes' dense output vectors ``DENSE``, copied to
    the lane's ``dense`` when an output falls in the step), counts, next step (``f`` at the new
    state is the lanes' ``F1`` unless the step ends at a crossing)."""
    seg_end = ck[lane, _SEG_END]
    if crossed:
        cn[lane, _N_FLIP] += 1
        cn[lane, _LAST] = cn[lane, _WHICH]
        if t_new - ck[lane, _T_FLIP] <= _k.CHATTER_WINDOW * max(1.0, abs(t_new)):
            cn[lane, _N_CHATTER] += 1
            if cn[lane, _N_CHATTER] >= _k.CHATTER_FLIPS:
                cn[lane, _STATUS] = _k._CHATTERING
                cn[lane, _PHASE] = _FINISH
                return
        else:
            cn[lane, _N_CHATTER] = 0
        ck[lane, _T_FLIP] = t_new
        ck[lane, _H] = ck[lane, _H_STEP]  # the step that passed the error test
        call_compiled(fns[_k._RHS], ynew, p, mode, t_new, f1)
    else:
        for q in range(f1.shape[0]):
            f1[q] = F1[q * _L + lane]
    i_ev = cn[lane, _I_EV]
    at_event = t_new == seg_end and i_ev < ev_t.shape[0] and ev_t[i_ev] == seg_end
    if _k.output_due(t_new, t_out, cn[lane, _I_OUT], not at_event):
        n = y.shape[0]
        for r in range(N_DENSE):
            for q in range(n):
                dense[r, q] = DENSE[(r * n + q) * _L + lane]
        cn[lane, _I_OUT] = _k.record_outputs(t, y, t_new, ynew, dense, p, mode, fns, t_out,
                                             cn[lane, _I_OUT], out, yint, not at_event)  # fmt: skip
    cn[lane, _N_ACC] += 1
    for q in range(y.shape[0]):
        y[q] = ynew[q]
        f0[q] = f1[q]
    ck[lane, _T] = t_new
    if crossed:
        cn[lane, _PHASE] = _SEGMENT
        return
    ck[lane, _H] *= _k._step_factor(ck[lane, _EN], _k._ORDER_EST, cn[lane, _ATT_REJ] > 0)
    cn[lane, _PHASE] = _STEP if t_new < seg_end else _SEGMENT
