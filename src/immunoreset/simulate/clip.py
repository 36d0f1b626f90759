"""Negative outputs of quantities that cannot be negative, checked as each patient finishes.

The rule (:func:`clip_patient`): a value below zero by at most ``atol + rtol * max|value|`` of that
output over the patient's course is zero (an integrator may end a little below zero where a state
decays towards zero, within the accuracy asked of it); anything further below is a failed
integration. The integrators call it at the end of every patient, while its outputs are still in
the cache and in the engine's threads: as a pass over a whole batch afterwards it took 0.023 ms per
Park 2025 patient with daily outputs on one thread, about 4 % of the patient's time and all of it
outside the threads (written with numpy, a tenth of the patient's time).
:func:`.engine.report_negative` turns what it finds into statuses and messages.
"""

from __future__ import annotations

import math

import numba


@numba.njit(cache=True, nogil=True)
def clip_patient(values, ok, report, nonnegative, rtol, atol) -> None:  # type: ignore[no-untyped-def]
    """For each output ``j`` with ``nonnegative[j]`` of one patient (``values[times, outputs]``,
    changed in place), in order: a value below zero by at most ``atol + rtol * max|finite value|``
    of that output over the course becomes 0; the first value further below, in a patient still
    ``ok``, ends the patient: ``report = (j, time index, value, tolerance)`` and NaN in every
    output from that time on. ``report[0]`` is -1 if there is no such value."""
    n_t, n_o = values.shape
    report[0] = -1.0
    failed = not ok
    for j in range(n_o):
        if not nonnegative[j]:
            continue
        lowest = math.inf  # NaN is not below anything, as in np.fmin
        for t in range(n_t):
            if values[t, j] < lowest:
                lowest = values[t, j]
        if not lowest < 0.0:
            continue
        scale = 0.0
        for t in range(n_t):
            v = values[t, j]
            if math.isfinite(v) and abs(v) > scale:
                scale = abs(v)
        tol = atol + rtol * scale
        first = -1
        for t in range(n_t):
            v = values[t, j]
            if v < 0.0:
                if v < -tol:
                    if first < 0:
                        first = t
                else:
                    values[t, j] = 0.0
        if first >= 0 and not failed:
            failed = True
            report[0] = j
            report[1] = first
            report[2] = values[first, j]
            report[3] = tol
            for t in range(first, n_t):
                for k in range(n_o):
                    values[t, k] = math.nan
