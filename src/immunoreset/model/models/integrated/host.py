"""Host T cells and neutrophils.

Host CD4+ and CD8+ T cells (blood counts standing for the body's pools) are killed by lymphodepletion
(:mod:`.conditioning`) and regrow by thymus-dependent output and logistic homeostatic expansion
toward their baseline, so recovery takes months, not weeks (Hakim 1997; Logue 2021; Strati 2021):

    dT/dt = k_thy (T0 - T) + r_hp T (1 - T/T0) - L_T u(t) T

Their deficit is the homeostatic space that amplifies CAR expansion (Kimmel 2021). Neutrophils
follow Park 2025's Friberg chain (proliferating, three transit compartments, circulating) with the
published lymphodepletion effect, so ICAHT can be read from the absolute neutrophil count. Two
additions act on proliferation: inflammation (myeloid activation, :mod:`.cytokines`) suppresses it,
as CRS severity predicts cytopenia (Juluri 2022), and a high CAR-HEMATOTOX score at baseline
(covariate ``hematotox_high``, Rejeski 2021) lowers the marrow reserve, which makes the same
chemotherapy act as a larger dose (``ec50_nt`` times the reserve): severe neutropenia lasts about
12 days instead of 5.5, the published medians of high and low scores.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import conditioning
from immunoreset.model.models.integrated.frame import block

TINY = 1e-12

BLOCK = block(
    (
        State("cd4t", "cells/uL", "host CD4+ T cells, blood"),
        State("cd8t", "cells/uL", "host CD8+ T cells, blood"),
        State("nt_prol", "cells/uL", "proliferating neutrophil precursors"),
        State("nt_tr1", "cells/uL", "maturing neutrophils, transit 1"),
        State("nt_tr2", "cells/uL", "maturing neutrophils, transit 2"),
        State("nt_tr3", "cells/uL", "maturing neutrophils, transit 3"),
        State("nt", "cells/uL", "circulating neutrophils"),
    ),
    "host_parameters.csv",
    after=conditioning.BLOCK,
)
CD4T, CD8T, NT_PROL, NT = BLOCK.x("cd4t"), BLOCK.x("cd8t"), BLOCK.x("nt_prol"), BLOCK.x("nt")
CD4_0, CD8_0, K_THY, R_HP_CD4, R_HP_CD8, NT0, MTT_NT, GAMMA_NT, EMAX_NT, EC50_NT = (
    BLOCK.p(n)
    for n in (
        "cd4_0", "cd8_0", "k_thy", "r_hp_cd4", "r_hp_cd8", "nt0", "mtt_nt", "gamma_nt",
        "emax_nt", "ec50_nt",
    )
)  # fmt: skip
RESERVE_HT_HIGH, HT_HIGH, INFLAMMATION_EMAX, INFLAMMATION_M50 = (
    BLOCK.p(n)
    for n in ("marrow_reserve_hematotox_high", "hematotox_high", "nt_inflammation_emax",
              "nt_inflammation_m50")
)  # fmt: skip


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    y0[CD4T] = p[CD4_0]
    y0[CD8T] = p[CD8_0]
    for i in range(NT_PROL, NT + 1):
        y0[i] = p[NT0]


@kernel
def _t_pool(t: float, t0: float, r_hp: float, k_thy: float, hazard: float) -> float:
    return k_thy * (t0 - t) + r_hp * t * (1.0 - t / t0) - hazard * t


@kernel
def marrow_reserve(p: np.ndarray) -> float:
    """Marrow reserve relative to a patient with a low CAR-HEMATOTOX score."""
    return p[RESERVE_HT_HIGH] if p[HT_HIGH] > 0.5 else 1.0


@kernel
def rhs(y: np.ndarray, p: np.ndarray, u_ld: float, inflammation: float, dydt: np.ndarray) -> None:
    """``u_ld``: lymphotoxic exposure rate from :func:`.conditioning.exposure_rate`;
    ``inflammation``: myeloid activation (:mod:`.cytokines`), which suppresses neutrophil
    proliferation."""
    dydt[CD4T] = _t_pool(
        y[CD4T], p[CD4_0], p[R_HP_CD4], p[K_THY], p[conditioning.LOGKILL_CD4] * u_ld
    )
    dydt[CD8T] = _t_pool(
        y[CD8T], p[CD8_0], p[R_HP_CD8], p[K_THY], p[conditioning.LOGKILL_CD8] * u_ld
    )
    c = conditioning.park_concentration(y, p)
    effect = p[EMAX_NT] * c / (p[EC50_NT] * marrow_reserve(p) + c)
    inflamed = p[INFLAMMATION_EMAX] * inflammation / (p[INFLAMMATION_M50] + inflammation)
    ktr = 4.0 / p[MTT_NT]
    feedback = (p[NT0] / max(y[NT], TINY)) ** p[GAMMA_NT]
    dydt[NT_PROL] = ktr * ((1.0 - effect) * (1.0 - inflamed) * feedback - 1.0) * y[NT_PROL]
    for i in range(NT_PROL + 1, NT + 1):
        dydt[i] = ktr * (y[i - 1] - y[i])


@kernel
def lymphopenia(y: np.ndarray, p: np.ndarray) -> float:
    """Host T-cell deficit, 0 at baseline and 1 when no host T cells are left (Kimmel 2021)."""
    return max(0.0, 1.0 - (y[CD4T] + y[CD8T]) / (p[CD4_0] + p[CD8_0]))
