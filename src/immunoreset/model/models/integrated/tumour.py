"""Malignant B-cell (or plasma-cell) burden, optional and off for autoimmune patients.

Tumour cells in lymphoid tissue and marrow grow at ``tumour_growth`` and are killed like any target
with their antigen densities (CD19 for leukaemia and lymphoma, BCMA for myeloma). Products whose
kinetics were measured in oncology are calibrated in their own setting with the burden of each
source; the burden is an input, never a fitted parameter.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import blineage, body, car
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("tumour_ly", "cells/uL", "malignant cells, lymphoid tissue"),
        State("tumour_bm", "cells/uL", "malignant cells, marrow"),
    ),
    "tumour_parameters.csv",
    after=blineage.BLOCK,
)
TUM_LY, TUM_BM = BLOCK.x("tumour_ly"), BLOCK.x("tumour_bm")
CELLS, MARROW_SHARE, GROWTH, CD19, CD20, BCMA = (BLOCK.p0 + i for i in range(len(BLOCK.parameters)))


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    _, vl, vm = body.volumes(p)
    y0[TUM_LY] = p[CELLS] * (1.0 - p[MARROW_SHARE]) / (vl * 1e6)
    y0[TUM_BM] = p[CELLS] * p[MARROW_SHARE] / (vm * 1e6)


@kernel
def rhs(y: np.ndarray, p: np.ndarray, theta: np.ndarray, dydt: np.ndarray) -> float:
    """Returns the malignant cells killed by CAR cells (1e6 cells per day)."""
    _, vl, vm = body.volumes(p)
    killed = 0.0
    for state, comp, volume in ((TUM_LY, body.LYMPHOID, vl), (TUM_BM, body.MARROW, vm)):
        kill = car.kill_rate(p, theta, comp, p[CD19], p[CD20], p[BCMA])
        dydt[state] = (p[GROWTH] - kill) * y[state]
        killed += kill * max(y[state], 0.0) * volume
    return killed


@kernel
def total(y: np.ndarray, p: np.ndarray) -> float:
    """Malignant cells in the body."""
    _, vl, vm = body.volumes(p)
    return (max(y[TUM_LY], 0.0) * vl + max(y[TUM_BM], 0.0) * vm) * 1e6
