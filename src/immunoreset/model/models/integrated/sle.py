"""SLE: immune complexes consume complement and drive interferon-alpha and organ inflammation.

Immune complexes are taken as proportional to the autoantibodies (``ic`` = 1 at baseline, a
``w_ic_dsdna`` share from anti-dsDNA, the rest from anti-Ro/SSA). Then, with every quantity
normalised to its baseline:

    IFN'   = kdeg_ifna (IFN0 (f_basal + (1 - f_basal) ic) - IFN)               (Park 2025 form)
    C3'    = k_c3 (C3_normal - C3 (1 + kappa3 ic)),  kappa3 = C3_normal/C3_0 - 1 (Park 2025 synthesis)
    C4'    = k_c4 (C4_normal - C4 (1 + kappa4 ic))
    renal' = k_renal (ds (IFN/IFN0)^0.8 - renal)                               (Park 2025 exponent)
    musc'  = k_musc (IFN/IFN0 - musc)

where ``ds`` is anti-dsDNA relative to baseline: renal inflammation follows the nephritogenic
anti-dsDNA complexes (the reason ``w_ic_dsdna`` is large), not the anti-Ro/SSA complexes that
long-lived plasma cells keep making after a CD19-directed reset. Proteinuria is
``ptu_normal + (ptu0 - ptu_normal) renal``. Disease activity ``phi = IFN/IFN0``
feeds back on autoreactive B cells (:mod:`.blineage`). The SLEDAI-2K organ descriptors, the
physician global assessment and the steroid dose are read out in :mod:`.observation`.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel, where
from immunoreset.model.models.integrated import antibodies, body
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("ifna", "pg/mL", "interferon-alpha"),
        State("c3", "mg/dL", "complement C3"),
        State("c4", "mg/dL", "complement C4"),
        State("renal", "index", "renal inflammation (1 = baseline)"),
        State("musc", "index", "musculoskeletal and mucocutaneous inflammation (1 = baseline)"),
    ),
    "sle_parameters.csv",
    after=antibodies.BLOCK,
)
IFNA, C3, C4, RENAL, MUSC = (BLOCK.s0 + i for i in range(5))
(IFN0, KDEG_IFNA, F_IFN_BASAL, W_IC_DSDNA, C3_0, C3_NORMAL, KSYN_C3, C4_0, C4_NORMAL, K_C4,
 GAMMA_IFNA_PTU, K_RENAL, PTU0, PTU_NORMAL, K_MUSC, ITEM_THRESHOLD, PGA_PER_POINT, PRED_START,
 PRED_TAPER_DAYS, PRED_END) = (BLOCK.p0 + i for i in range(len(BLOCK.parameters)))  # fmt: skip


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    y0[IFNA] = p[IFN0]
    y0[C3] = p[C3_0]
    y0[C4] = p[C4_0]
    y0[RENAL] = 1.0
    y0[MUSC] = 1.0


@kernel
def immune_complexes(y: np.ndarray, p: np.ndarray) -> float:
    w = p[W_IC_DSDNA]
    ds = max(y[antibodies.DSDNA], 0.0) / p[antibodies.DSDNA0]
    ro = max(y[antibodies.RO], 0.0) / p[antibodies.RO0]
    return w * ds + (1.0 - w) * ro


@kernel
def activity_factor(y: np.ndarray, p: np.ndarray) -> float:
    """Disease activity felt by autoreactive B cells: interferon-alpha relative to baseline."""
    return max(y[IFNA], 0.0) / p[IFN0]


@kernel
def rhs(y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    vb, _, _ = body.volumes(p)
    ic = immune_complexes(y, p)
    phi = activity_factor(y, p)
    basal = p[F_IFN_BASAL]
    dydt[IFNA] = p[KDEG_IFNA] * (p[IFN0] * (basal + (1.0 - basal) * ic) - y[IFNA])
    ksyn_c3 = p[KSYN_C3] * 24.0 * p[body.WEIGHT] / (vb * 10.0)  # mg/kg/h -> mg/dL/day
    k_c3 = ksyn_c3 / p[C3_NORMAL]
    kappa3 = p[C3_NORMAL] / p[C3_0] - 1.0
    dydt[C3] = k_c3 * (p[C3_NORMAL] - y[C3] * (1.0 + kappa3 * ic))
    kappa4 = p[C4_NORMAL] / p[C4_0] - 1.0
    dydt[C4] = p[K_C4] * (p[C4_NORMAL] - y[C4] * (1.0 + kappa4 * ic))
    ds = max(y[antibodies.DSDNA], 0.0) / p[antibodies.DSDNA0]
    dydt[RENAL] = p[K_RENAL] * (ds * phi ** p[GAMMA_IFNA_PTU] - y[RENAL])
    dydt[MUSC] = p[K_MUSC] * (phi - y[MUSC])


@kernel
def proteinuria(y: np.ndarray, p: np.ndarray) -> float:
    return p[PTU_NORMAL] + (p[PTU0] - p[PTU_NORMAL]) * max(y[RENAL], 0.0)


@kernel
def clinical_activity(y: np.ndarray, p: np.ndarray) -> float:
    """Continuous clinical activity in SLEDAI-2K points: renal descriptors (proteinuria and
    haematuria, 4 each) and arthritis (4) weighted by their inflammation index (12 at baseline)."""
    return 8.0 * max(y[RENAL], 0.0) + 4.0 * max(y[MUSC], 0.0)


@kernel
def prednisolone(t: float, p: np.ndarray) -> float:
    """Taper policy: linear from ``pred_start_mg`` at day 0 to ``pred_end_mg`` at
    ``pred_taper_days``, constant after (``pred_start_mg`` before day 0)."""
    if p[PRED_TAPER_DAYS] <= 0.0:  # no taper: a step at day 0
        return where(t <= 0.0, p[PRED_START], p[PRED_END])
    f = min(t / p[PRED_TAPER_DAYS], 1.0)
    return where(t <= 0.0, p[PRED_START], p[PRED_START] + (p[PRED_END] - p[PRED_START]) * f)
