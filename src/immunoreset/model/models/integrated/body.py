"""Body size: blood, lymphoid-tissue and marrow volumes shared by every module (no states).

Cell pools are counted per microlitre of their own compartment, so flows between compartments are
scaled by volume ratios; volumes scale linearly with body weight (Park 2025; Hosseini 2020).
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated.frame import block

BLOCK = block((), "body_parameters.csv")
WEIGHT, VB_REF, VL_REF, VBM_REF, BSA = (
    BLOCK.p(n) for n in ("weight_kg", "vb_ref", "vl_ref", "vbm_ref", "bsa_m2")
)
BLOOD, LYMPHOID, MARROW = 0, 1, 2
"""Compartment numbers used by every module."""


@kernel
def volumes(p: np.ndarray) -> tuple[float, float, float]:
    """Blood, lymphoid-tissue and marrow volumes (L) of this patient."""
    scale = p[WEIGHT] / 70.0
    return p[VB_REF] * scale, p[VL_REF] * scale, p[VBM_REF] * scale
