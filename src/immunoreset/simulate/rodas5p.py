"""RODAS5P: an 8-stage, order-5(4), L-stable, stiffly accurate Rosenbrock method.

Steinebach G. Construction of Rosenbrock-Wanner method Rodas5P and numerical benchmarks within the
Julia Differential Equations package. BIT Numer Math 2023;63:27 (coefficients as published with
the Julia package OrdinaryDiffEq, ``Rodas5PTableau``). Written in the form used by Hairer and Wanner
(Solving Ordinary Differential Equations II, 1996, section IV.7) and Sandu et al. (Atmos Environ
1997;31:3459)::

    G = I/(h*gamma) - J
    G K_i = f(t + alpha_i h, y + sum_j A_ij K_j) + sum_j (C_ij / h) K_j + h gamma_i df/dt
    y_new = y + sum_i M_i K_i,   error estimate = sum_i E_i K_i

Being L-stable and stiffly accurate, it integrates the very stiff parts of the models (Park 2025's
anti-dsDNA pool relaxes at about 5e6 per day) with steps set by accuracy, not stability. Of order
five, it takes about half the steps of the order-4 RODAS4 (Hairer and Wanner) at the default
tolerances on Park 2025 (295 instead of 585 accepted steps per patient over two years) for a third
more work per step, and comes with a dense output of order four (:data:`H`, :mod:`.interpolate`).
"""

from __future__ import annotations

import math

import numpy as np

N_STAGES = 8
ORDER_EST = 5.0  # exponent for the step-size controller (embedded order 4, plus one)
GAMMA = 0.21193756319429014
ALPHA = np.array(
    [0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664,
     1.0, 1.0, 1.0]
)  # fmt: skip
GAMMA_I = np.array(
    [0.21193756319429014, -0.42387512638858027, -0.3384627126235924, 1.8046452872882734,
     2.325825639765069, 0.0, 0.0, 0.0]
)  # fmt: skip
_A = (
    (3.0,),
    (2.849394379747939, 0.45842242204463923),
    (-6.954028509809101, 2.489845061869568, -10.358996098473584),
    (2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641),
    (-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256,
     0.030198172008377946),
)  # fmt: skip
_C = (
    (-14.155112264123755,),
    (-17.97296035885952, -2.859693295451294),
    (147.12150275711716, -1.41221402718213, 71.68940251302358),
    (165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306),
    (24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125,
     -0.6610691825249471),
    (30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783,
     -19.097331116725623, -28.087943162872662),
    (37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047,
     -40.06618937091002, -54.66780262877968, -9.48861652309627),
)  # fmt: skip
_H = (
    (25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204,
     0.524948541321073, 1.1241088310450404, 0.4272876194431874, -0.17202221070155493),
    (-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796,
     20.176138334709044, 15.98066361424651, -6.789040303419874, -6.710236069923372),
    (11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643,
     -52.072871366152654, -59.78993625266729, -0.15582684282751913, 4.883087185713722),
)  # fmt: skip


def _lower(rows: tuple[tuple[float, ...], ...]) -> np.ndarray:
    """Strictly lower-triangular stage matrix whose row ``i + 1`` is ``rows[i]``."""
    out = np.zeros((N_STAGES, N_STAGES))
    for i, row in enumerate(rows):
        out[i + 1, : len(row)] = row
    return out


# Stiff accuracy: stages 7 and 8 start from the state of stage 6 plus K6 (and K7), and the new
# state is that of stage 8 plus K8; the embedded solution is stage 8's state, so the error is K8.
_STAGE6 = _A[4]
A = _lower((*_A, (*_STAGE6, 1.0), (*_STAGE6, 1.0, 1.0)))
C = _lower(_C)
M = np.array([*_STAGE6, 1.0, 1.0, 1.0])
E = np.array([0.0] * (N_STAGES - 1) + [1.0])
H = np.array(_H)
"""Dense output: ``D_r = sum_s H[r, s] K_s`` (r = 1..3) give the state inside a step,
``y(t + theta h) = (1 - theta) y + theta (y_new + (1 - theta) (D_1 + theta (D_2 + theta D_3)))``."""


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
