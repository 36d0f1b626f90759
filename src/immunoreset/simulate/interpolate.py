"""Dense output: cubic Hermite interpolation inside an accepted step.

Each accepted step knows the state and its derivative at both ends (the end derivative is needed
for the next step anyway), so outputs at any requested time inside the step cost no extra
right-hand-side evaluations and do not restrict the step size. The cubic Hermite interpolant is
third-order accurate (local error O(h^4)), which matches the accuracy asked of the step.
"""

from __future__ import annotations

import numpy as np


def hermite(
    theta: float,
    h: float,
    y0: np.ndarray,
    f0: np.ndarray,
    y1: np.ndarray,
    f1: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write into ``out`` the cubic through ``(y0, f0)`` and ``(y1, f1)`` at ``t0 + theta * h``."""
    h00 = (1.0 + 2.0 * theta) * (1.0 - theta) ** 2
    h10 = theta * (1.0 - theta) ** 2
    h01 = theta * theta * (3.0 - 2.0 * theta)
    h11 = theta * theta * (theta - 1.0)
    for i in range(y1.shape[0]):
        out[i] = h00 * y0[i] + h10 * h * f0[i] + h01 * y1[i] + h11 * h * f1[i]
