"""Step-size control of the Rosenbrock integrator: how the next step follows from the error.

The classic controller for an embedded pair (Hairer & Wanner 1996, section IV.8, eq. 8.21): the
next step is ``h * fac`` with ``fac = SAFETY * err ** (-1 / q)`` where ``q`` is the order of the
embedded estimate plus one, kept between :data:`FAC_MIN` and :data:`FAC_MAX`. Right after a
rejected step the step may not grow (Hairer & Wanner, IV.8: "after a rejection, fac_max = 1"), which
avoids alternating accept/reject cycles at a stiff transient. A non-finite error (overflow in a
trial step) cuts the step tenfold.

Plain functions over floats, compiled by numba where the engine calls them and testable from Python.
"""

from __future__ import annotations

import math

SAFETY = 0.9
FAC_MIN = 0.2
FAC_MAX = 6.0
FAC_NOT_FINITE = 0.1
SINGULAR_SHRINK = 0.5
MAX_SINGULAR_RETRIES = 20


def step_factor(err_norm: float, order_est: float, after_reject: bool) -> float:
    """Factor by which to multiply the current step, given the scaled error norm of the step."""
    if not math.isfinite(err_norm):
        return FAC_NOT_FINITE
    fac = FAC_MAX
    if err_norm > 0.0:
        fac = min(FAC_MAX, max(FAC_MIN, SAFETY * err_norm ** (-1.0 / order_est)))
    if after_reject:
        fac = min(fac, 1.0)
    return fac


def min_step(t: float) -> float:
    """Smallest step (day) allowed at time ``t``: a few units of rounding of ``t`` itself."""
    return 1e-13 * max(1.0, abs(t))
