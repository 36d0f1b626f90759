"""Independent reference integration with SciPy, one patient at a time.

Used to verify the compiled engine: it shares the model's equations but nothing of the engine's
integrator. Dosing events split the horizon into segments; model switches are located by
:func:`scipy.integrate.solve_ivp` event detection (terminal events whose direction is the one that
would contradict the current mode), after which the mode is flipped and integration restarts.
Outputs are read from the solver's dense output.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from immunoreset.model.core import Model


def _switch_events(model: Model, p: np.ndarray, mode: np.ndarray) -> list:
    n = len(model.switch_names)
    g = np.zeros(n)
    events = []
    for k in range(n):

        def event(t: float, y: np.ndarray, k: int = k) -> float:
            model.switches(t, y, p, g)
            return float(g[k])

        event.terminal = True  # type: ignore[attr-defined]
        # Watch for the crossing that leaves the current mode: on (g > 0) -> falling, off -> rising.
        event.direction = -1.0 if mode[k] > 0.5 else 1.0  # type: ignore[attr-defined]
        events.append(event)
    return events


def _modes(model: Model, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    g = np.zeros(len(model.switch_names))
    if len(g):
        model.switches(t, y, p, g)
    return (g > 0).astype(float)


def solve_reference(
    model: Model,
    p: np.ndarray,
    t_start: float,
    events: list[tuple[float, int, float]],
    t_out: np.ndarray,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    method: str = "LSODA",
) -> np.ndarray:
    """Observables ``[len(t_out), n_obs]`` for one patient; raises ``RuntimeError`` on failure.

    ``events`` are ``(time, input_index, amount)`` dosing events, applied in time order.
    """
    t_out = np.asarray(t_out, dtype=float)
    n_obs = len(model.observables)
    out = np.full((len(t_out), n_obs), np.nan)
    row = np.zeros(n_obs)
    y = model.initial(p)
    t = float(t_start)
    t_end = float(t_out[-1])
    pending = sorted(events, key=lambda e: e[0])
    i_out = int(np.searchsorted(t_out, t_start, side="left"))
    dydt = np.zeros(model.n_states)

    def observe_into(i: int, tt: float, yy: np.ndarray) -> None:
        model.observe(tt, np.ascontiguousarray(yy), p, row)
        out[i] = row

    mode = _modes(model, t, y, p)
    while True:
        if pending and pending[0][0] <= t:
            while pending and pending[0][0] <= t:
                _, idx, amount = pending.pop(0)
                model.dose(idx, amount, p, y)
            mode = _modes(model, t, y, p)
        while i_out < len(t_out) and t_out[i_out] <= t:
            observe_into(i_out, t_out[i_out], y)
            i_out += 1
        if t >= t_end:
            return out
        seg_end = min(t_end, pending[0][0]) if pending else t_end

        def fun(tt: float, yy: np.ndarray, mode: np.ndarray = mode) -> np.ndarray:
            model.rhs(tt, np.ascontiguousarray(yy), p, mode, dydt)
            return dydt.copy()

        sol = solve_ivp(
            fun,
            (t, seg_end),
            y,
            method=method,
            rtol=rtol,
            atol=model.absolute_tolerances(atol),
            dense_output=True,
            events=_switch_events(model, p, mode),
        )
        if sol.status < 0:
            raise RuntimeError(f"reference solver failed at t={sol.t[-1]:.6g}: {sol.message}")
        t_new = float(sol.t[-1])
        at_event = bool(pending) and pending[0][0] <= t_new
        # An output at a dosing time is recorded after the dose (next pass of the loop).
        while i_out < len(t_out) and (
            t_out[i_out] < t_new or (t_out[i_out] == t_new and not at_event)
        ):
            observe_into(i_out, t_out[i_out], sol.sol(t_out[i_out]))
            i_out += 1
        y = sol.y[:, -1].copy()
        t = t_new
        if sol.status == 1:  # a switch fired: flip its mode and carry on from the crossing
            mode = mode.copy()
            for k, te in enumerate(sol.t_events):
                if len(te):
                    mode[k] = 1.0 - mode[k]
