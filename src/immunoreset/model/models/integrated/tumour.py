"""Malignant B-cell (or plasma-cell) burden, optional and off for autoimmune patients.

Tumour cells in lymphoid tissue and marrow grow at ``tumour_growth``; their antigens (CD19 for
leukaemia and lymphoma, BCMA for myeloma) drive CAR expansion like any target's. They die in two
ways, by where they are:

- in marrow (leukaemic and myeloma cells, reached like the B cells there) like any target, at a rate
  set by the antigens they carry that CAR cells have engaged (:func:`.car.kill_rate`, Park 2025);
- in lymphoid tissue (nodal disease) at a rate limited by the CAR cells present,
  ``kill_max C / (kill_c50 + C)`` with ``C`` the active CAR cells in the body of the products that
  recognise an antigen the tumour carries (Kimmel 2021 Proc R Soc B 288:20210229, fitted to
  large B-cell lymphoma treated with axicabtagene ciloleucel): a lymphoma mass is not eliminated
  within days by however few CAR cells reach it, as the per-target law would do.

Products whose kinetics were measured in oncology are calibrated in their own setting with the
burden of each source; the burden is an input, never a fitted parameter.
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
CELLS, MARROW_SHARE, GROWTH, CD19, CD20, BCMA, KILL_MAX, KILL_C50 = (
    BLOCK.p0 + i for i in range(len(BLOCK.parameters))
)


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    _, vl, vm = body.volumes(p)
    y0[TUM_LY] = p[CELLS] * (1.0 - p[MARROW_SHARE]) / (vl * car.CELLS_PER_UL_PER_L)
    y0[TUM_BM] = p[CELLS] * p[MARROW_SHARE] / (vm * car.CELLS_PER_UL_PER_L)


@kernel
def recognising_cells(y: np.ndarray, p: np.ndarray) -> float:
    """Active CAR cells in the body (cells) of the products with a receptor for an antigen the
    tumour carries."""
    volumes = body.volumes(p)
    cells = 0.0
    for s in range(len(car.SLOTS)):
        # One parameter per test: each is a structural decision the traced equations record.
        cd19 = car.slot_param(p, s, car.REC_CD19) > 0.0 and p[CD19] > 0.0
        cd20 = car.slot_param(p, s, car.REC_CD20) > 0.0 and p[CD20] > 0.0
        bcma = car.slot_param(p, s, car.REC_BCMA) > 0.0 and p[BCMA] > 0.0
        if cd19 or cd20 or bcma:
            for c in range(car.N_COMP):
                cells += car.active(y, s, c) * volumes[c] * car.CELLS_PER_UL_PER_L
    return cells


@kernel
def rhs(y: np.ndarray, p: np.ndarray, theta: np.ndarray, dydt: np.ndarray) -> float:
    """Returns the malignant cells killed by CAR cells (1e6 cells per day)."""
    _, vl, vm = body.volumes(p)
    c = recognising_cells(y, p)
    nodal = p[KILL_MAX] * c / (p[KILL_C50] + c)
    marrow = car.kill_rate(p, theta, body.MARROW, p[CD19], p[CD20], p[BCMA])
    dydt[TUM_LY] = (p[GROWTH] - nodal) * y[TUM_LY]
    dydt[TUM_BM] = (p[GROWTH] - marrow) * y[TUM_BM]
    return nodal * max(y[TUM_LY], 0.0) * vl + marrow * max(y[TUM_BM], 0.0) * vm


@kernel
def total(y: np.ndarray, p: np.ndarray) -> float:
    """Malignant cells in the body."""
    _, vl, vm = body.volumes(p)
    return (max(y[TUM_LY], 0.0) * vl + max(y[TUM_BM], 0.0) * vm) * car.CELLS_PER_UL_PER_L
