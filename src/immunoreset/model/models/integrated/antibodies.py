"""Antibodies: each specificity an IgG pool fed by short- and long-lived plasma cells.

    Ab' = k_igg * (Ab0 * (w * SLPC/SLPC0 + (1 - w) * LLPC/LLPC0) - Ab)

with the IgG half-life (21 days), so no antibody can fall faster than IgG elimination allows. The
autoantibodies (anti-dsDNA mostly short-lived-fed, anti-Ro/SSA mostly long-lived-fed) are fed by the
autoreactive plasma cells, total IgG by all plasma cells (short-lived share from the IgG fall after
CD19 CAR T, Hill 2019) and the vaccine titre by the other plasma cells, almost only long-lived ones.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import blineage as bl
from immunoreset.model.models.integrated import tumour
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("anti_dsdna", "IU/mL", "anti-dsDNA IgG"),
        State("anti_ro", "U/mL", "anti-Ro/SSA IgG"),
        State("igg", "g/L", "total serum IgG"),
        State("vaccine", "IU/mL", "vaccine (tetanus antitoxin) IgG titre"),
    ),
    "antibodies_parameters.csv",
    after=tumour.BLOCK,
)
DSDNA, RO, IGG, VAX = (BLOCK.s0 + i for i in range(4))
K_IGG, DSDNA0, RO0, IGG0, VAX0, W_DSDNA, W_RO, W_IGG, W_VAX = (
    BLOCK.p0 + i for i in range(len(BLOCK.parameters))
)


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    y0[DSDNA] = p[DSDNA0]
    y0[RO] = p[RO0]
    y0[IGG] = p[IGG0]
    y0[VAX] = p[VAX0]


@kernel
def _pool(ab: float, ab0: float, w: float, short: float, long: float, k: float) -> float:
    return k * (ab0 * (w * short + (1.0 - w) * long) - ab)


@kernel
def rhs(y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    b = bl.baseline(p)
    pbs0, pbs_ar0, pcl0, pcl_ar0 = b[7], b[8], b[9], b[10]
    short_ar = max(y[bl.PBS_AR], 0.0) / pbs_ar0
    long_ar = max(y[bl.PCL_AR], 0.0) / pcl_ar0
    short = max(y[bl.PBS], 0.0) / pbs0
    long = max(y[bl.PCL], 0.0) / pcl0
    short_all = (max(y[bl.PBS], 0.0) + max(y[bl.PBS_AR], 0.0)) / (pbs0 + pbs_ar0)
    long_all = (max(y[bl.PCL], 0.0) + max(y[bl.PCL_AR], 0.0)) / (pcl0 + pcl_ar0)
    k = p[K_IGG]
    dydt[DSDNA] = _pool(y[DSDNA], p[DSDNA0], p[W_DSDNA], short_ar, long_ar, k)
    dydt[RO] = _pool(y[RO], p[RO0], p[W_RO], short_ar, long_ar, k)
    dydt[IGG] = _pool(y[IGG], p[IGG0], p[W_IGG], short_all, long_all, k)
    dydt[VAX] = _pool(y[VAX], p[VAX0], p[W_VAX], short, long, k)
