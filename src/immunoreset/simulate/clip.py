"""Negative outputs of quantities that cannot be negative, compiled (see
:func:`.engine.check_nonnegative`, which states the rule and reports the failures).

A population run checks every output of every patient after integration; written with numpy over
the patients whose outputs dip below zero (most do: a state decaying to zero ends a little below
it), the check took about a tenth of Park 2025's time per patient. Here it is one pass per patient
over its outputs, in the engine's threads.
"""

from __future__ import annotations

import math

import numba


@numba.njit(cache=True, nogil=True)
def clip_negative(values, ok, report, nonnegative, rtol, atol) -> None:  # type: ignore[no-untyped-def]
    """For each patient ``i`` and each output ``j`` with ``nonnegative[j]``, in order: a value
    below zero by at most ``atol + rtol * max|finite value|`` of that output over the patient's
    course becomes 0; the first value further below, in a patient still ``ok``, ends the patient:
    ``report[i] = (j, time index, value, tolerance)`` and NaN in every output from that time on.
    ``report[i, 0]`` is -1 for patients without such a value. ``values[patients, times, outputs]``
    is changed in place. The arguments up to ``report`` have a row per patient, so the engine
    checks slices of patients in its threads."""
    n, n_t, n_o = values.shape
    for i in range(n):
        report[i, 0] = -1.0
        failed = not ok[i]
        for j in range(n_o):
            if not nonnegative[j]:
                continue
            lowest = math.inf  # NaN is not below anything, as in np.fmin
            for t in range(n_t):
                if values[i, t, j] < lowest:
                    lowest = values[i, t, j]
            if not lowest < 0.0:
                continue
            scale = 0.0
            for t in range(n_t):
                v = values[i, t, j]
                if math.isfinite(v) and abs(v) > scale:
                    scale = abs(v)
            tol = atol + rtol * scale
            first = -1
            for t in range(n_t):
                v = values[i, t, j]
                if v < 0.0:
                    if v < -tol:
                        if first < 0:
                            first = t
                    else:
                        values[i, t, j] = 0.0
            if first >= 0 and not failed:
                failed = True
                report[i, 0] = j
                report[i, 1] = first
                report[i, 2] = values[i, first, j]
                report[i, 3] = tol
                for t in range(first, n_t):
                    for k in range(n_o):
                        values[i, t, k] = math.nan
