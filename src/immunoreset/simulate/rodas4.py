"""RODAS4: a 6-stage, order-4(3), L-stable, stiffly accurate Rosenbrock method.

Hairer E, Wanner G. Solving Ordinary Differential Equations II: Stiff and Differential-Algebraic
Problems, 2nd ed. Springer 1996, section IV.7 (method RODAS, coefficients of the code ``rodas.f``).
Written here in the form used by Sandu et al. (Atmos Environ 1997;31:3459) for KPP::

    G = I/(h*gamma) - J
    G K_i = f(t + alpha_i h, y + sum_j A_ij K_j) + sum_j (C_ij / h) K_j + h gamma_i df/dt
    y_new = y + sum_i M_i K_i,   error estimate = sum_i E_i K_i

Being L-stable and stiffly accurate, it integrates the very stiff parts of the Park 2025 model (the
anti-dsDNA pool relaxes at about 5e6 per day) with steps set by accuracy, not stability.

The step works on one patient; the Jacobian is formed by forward differences and the linear systems
are solved by the sparse LU of :mod:`.linalg`, all in plain loops so numba can compile it.
"""

from __future__ import annotations

import math

import numpy as np

N_STAGES = 6
ORDER_EST = 4.0  # exponent for the step-size controller (embedded order 3, plus one)
GAMMA = 0.25
ALPHA = np.array([0.0, 0.386, 0.210, 0.630, 1.0, 1.0])
GAMMA_I = np.array([0.25, -0.1043, 0.1035, -0.3620000000000023e-01, 0.0, 0.0])
_A = (
    0.1544000000000000e01,
    0.9466785280815826,
    0.2557011698983284,
    0.3314825187068521e01,
    0.2896124015972201e01,
    0.9986419139977817,
    0.1221224509226641e01,
    0.6019134481288629e01,
    0.1253708332932087e02,
    -0.6878860361058950,
)
_C = (
    -0.5668800000000000e01,
    -0.2430093356833875e01,
    -0.2063599157091915,
    -0.1073529058151375,
    -0.9594562251023355e01,
    -0.2047028614809616e02,
    0.7496443313967647e01,
    -0.1024680431464352e02,
    -0.3399990352819905e02,
    0.1170890893206160e02,
    0.8083246795921522e01,
    -0.7981132988064893e01,
    -0.3152159432874371e02,
    0.1631930543123136e02,
    -0.6058818238834054e01,
)


def _lower(values: tuple[float, ...], last_row: tuple[float, ...]) -> np.ndarray:
    """Strictly lower-triangular 6x6 matrix from row-wise packed entries."""
    out = np.zeros((N_STAGES, N_STAGES))
    k = 0
    packed = values + last_row
    for i in range(1, N_STAGES):
        for j in range(i):
            out[i, j] = packed[k]
            k += 1
    return out


# Stage 6 reuses the solution weights of stage 5 plus K5 (stiff accuracy).
A = _lower(_A, (_A[6], _A[7], _A[8], _A[9], 1.0))
C = _lower(_C, ())
M = np.array([_A[6], _A[7], _A[8], _A[9], 1.0, 1.0])
E = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])


def error_norm(
    err: np.ndarray, y0: np.ndarray, y1: np.ndarray, rtol: float, atol: np.ndarray
) -> float:
    """Root-mean-square of the error scaled by ``atol[i] + rtol * max(|y0|, |y1|)``."""
    n = err.shape[0]
    s = 0.0
    for i in range(n):
        sc = atol[i] + rtol * max(abs(y0[i]), abs(y1[i]))
        r = err[i] / sc
        s += r * r
    return math.sqrt(s / n)
