"""Product and dosing, part 1: lymphodepleting chemotherapy as two agents.

Fludarabine and cyclophosphamide are dosed in mg/m2 on their own days (clinically days -5 to -3)
into exposure compartments that decay with each agent's half-life (fludarabine 2F-ara-A terminal
half-life about 20 h, Fludara SmPC; phosphoramide mustard 8.3 h, Juma 1981). Their effect on
lymphocytes is a kill hazard proportional to exposure; it is normalised so that the standard
regimen (Flu 3 x 25 mg/m2 + Cy 1000 mg/m2) removes ``ld_logkill_*`` natural-log units of each
lymphocyte pool (for host T cells the depth of the nadir published by Park 2025), shared between the
agents by ``ld_flu_share``. Reduced regimens therefore deplete proportionally less in log terms,
and no regimen depletes nothing. The neutrophil effect keeps Park 2025's Emax model on the summed
amount (mg) of both agents per litre of blood, the K-PD scale of that paper.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import body
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("flu", "mg/m2", "fludarabine exposure (K-PD amount)"),
        State("cy", "mg/m2", "cyclophosphamide exposure (K-PD amount)"),
    ),
    "conditioning_parameters.csv",
    after=body.BLOCK,
)
FLU, CY = BLOCK.x("flu"), BLOCK.x("cy")
KEL_FLU, KEL_CY, FLU_STD, CY_STD, FLU_SHARE, LOGKILL_CD4, LOGKILL_CD8, LOGKILL_B = (
    BLOCK.p(n)
    for n in (
        "kel_flu", "kel_cy", "flu_std_mg_m2", "cy_std_mg_m2", "ld_flu_share",
        "ld_logkill_cd4", "ld_logkill_cd8", "ld_logkill_b",
    )
)  # fmt: skip


@kernel
def rhs(y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    dydt[FLU] = -p[KEL_FLU] * y[FLU]
    dydt[CY] = -p[KEL_CY] * y[CY]


@kernel
def exposure_rate(y: np.ndarray, p: np.ndarray) -> float:
    """Lymphotoxic exposure rate (1/day): its integral over the standard regimen is 1, so a pool
    with log-kill ``L`` is removed at hazard ``L * exposure_rate``."""
    flu = p[FLU_SHARE] * p[KEL_FLU] * max(y[FLU], 0.0) / p[FLU_STD]
    cy = (1.0 - p[FLU_SHARE]) * p[KEL_CY] * max(y[CY], 0.0) / p[CY_STD]
    return flu + cy


@kernel
def park_concentration(y: np.ndarray, p: np.ndarray) -> float:
    """Both agents as Park 2025's K-PD concentration (mg per litre of blood)."""
    vb, _, _ = body.volumes(p)
    return (max(y[FLU], 0.0) + max(y[CY], 0.0)) * p[body.BSA] / vb
