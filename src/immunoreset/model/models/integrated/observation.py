"""Observation: the model's observables in assay units.

``observe`` maps the state onto the shared observable vocabulary (:mod:`immunoreset.observables`).
Flow-cytometric B-cell and CAR counts are per uL of blood; tissue pools per uL of their tissue;
transgene copies from CAR cells with Singh 2021's conversion. SLEDAI-2K organ descriptors are present
while their inflammation index exceeds ``item_threshold`` (arthritis from the musculoskeletal index;
haematuria from the renal index; proteinuria, low complement and anti-dsDNA are left to the endpoint
cut-offs); PGA is ``pga_per_point`` times the continuous clinical activity, capped at 3; the steroid
dose follows the taper policy. Limits of quantification and measurement noise are applied after
simulation, to result tables, by :mod:`.assay`.
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.kernel import kernel, where
from immunoreset.model.models.integrated import (
    antibodies,
    car,
    cytokines,
    host,
    management,
    policy,
    sle,
    toxicity,
    tumour,
)
from immunoreset.model.models.integrated import blineage as bl
from immunoreset.model.models.integrated.frame import block

BLOCK = block((), "observation_parameters.csv", after=policy.BLOCK)
TRANSGENE = BLOCK.p("transgene_per_cell")

OBSERVABLES = (
    "car_t_blood", "car_transgene", "car_t_naive_blood", "car_t_cm_blood", "car_t_em_blood",
    "car_t_eff_blood", "car_t_exhausted_blood", "car_t_second_product_blood", "car_t_lymphoid",
    "car_t_marrow", "b_cells_blood", "b_cells_autoreactive_blood", "b_cells_lymphoid",
    "b_cells_marrow", "plasma_cells_short", "plasma_cells_long", "cd4_t_blood", "cd8_t_blood",
    "neutrophils", "anti_dsdna", "anti_ro", "igg_total", "vaccine_titre", "c3", "c4",
    "ifn_alpha", "proteinuria", "sle_activity", "sledai_item_arthritis", "sledai_item_hematuria",
    "pga", "prednisolone_mg_day", "tumour_cells", "il6", "ifn_gamma", "crp", "ferritin",
    "crs_severity", "temp_c", "hypotension", "n_vasopressors", "vasopressin", "oxygen_level",
    "icans_severity", "ice_score", "consciousness", "seizure", "motor_weakness", "cerebral_edema",
    "tocilizumab", "tocilizumab_given", "corticosteroids_given",
)  # fmt: skip
(O_CAR_BLOOD, O_TRANSGENE, O_SCM, O_CM, O_EM, O_EFF, O_EXH, O_SECOND, O_LY, O_BM, O_B, O_B_AR,
 O_B_LY, O_B_BM, O_PBS, O_PCL, O_CD4, O_CD8, O_NT, O_DSDNA, O_RO, O_IGG, O_VAX, O_C3, O_C4, O_IFN,
 O_PTU, O_ACTIVITY, O_ARTHRITIS, O_HEMATURIA, O_PGA, O_PRED, O_TUMOUR, O_IL6, O_IFNG, O_CRP, O_FER,
 O_CRS, O_TEMP, O_HYPOTENSION, O_PRESSORS, O_VASOPRESSIN, O_OXYGEN, O_ICANS, O_ICE, O_CONSCIOUS,
 O_SEIZURE, O_MOTOR, O_EDEMA, O_TOCI, O_TOCI_GIVEN, O_STEROID_GIVEN) = range(len(OBSERVABLES))  # fmt: skip
assert OBSERVABLES[O_EXH] == "car_t_exhausted_blood" and OBSERVABLES[O_TUMOUR] == "tumour_cells"
assert OBSERVABLES[O_STEROID_GIVEN] == "corticosteroids_given"


@kernel
def _car_sum(y: np.ndarray, slot: int, comp: int) -> float:
    total = 0.0
    for k in range(car.N_PHEN):
        total += max(y[car.idx(slot, comp, k)], 0.0)
    return total


@kernel
def observe(t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    blood = 0.0
    for k in range(car.N_PHEN):
        level = 0.0
        for s in range(len(car.SLOTS)):
            level += max(y[car.idx(s, 0, k)], 0.0)
        out[O_SCM + k] = level
        blood += level
    out[O_CAR_BLOOD] = blood
    out[O_TRANSGENE] = blood * 1e6 * p[TRANSGENE]
    out[O_SECOND] = _car_sum(y, 1, 0)
    out[O_LY] = _car_sum(y, 0, 1) + _car_sum(y, 1, 1)
    out[O_BM] = _car_sum(y, 0, 2) + _car_sum(y, 1, 2)
    out[O_B] = max(y[bl.NV_BL], 0.0) + max(y[bl.MEM_BL], 0.0) + max(y[bl.ARN_BL], 0.0)
    out[O_B_AR] = max(y[bl.ARN_BL], 0.0)
    out[O_B_LY] = (
        max(y[bl.NV_LY], 0.0) + max(y[bl.MEM_LY], 0.0) + max(y[bl.ARN_LY], 0.0)
        + max(y[bl.ARA], 0.0)
    )  # fmt: skip
    out[O_B_BM] = bl.precursors(y)
    out[O_PBS] = max(y[bl.PBS], 0.0) + max(y[bl.PBS_AR], 0.0)
    out[O_PCL] = max(y[bl.PCL], 0.0) + max(y[bl.PCL_AR], 0.0)
    out[O_CD4] = max(y[host.CD4T], 0.0)
    out[O_CD8] = max(y[host.CD8T], 0.0)
    out[O_NT] = max(y[host.NT], 0.0)
    out[O_DSDNA] = max(y[antibodies.DSDNA], 0.0)
    out[O_RO] = max(y[antibodies.RO], 0.0)
    out[O_IGG] = max(y[antibodies.IGG], 0.0)
    out[O_VAX] = max(y[antibodies.VAX], 0.0)
    out[O_C3] = max(y[sle.C3], 0.0)
    out[O_C4] = max(y[sle.C4], 0.0)
    out[O_IFN] = max(y[sle.IFNA], 0.0)
    out[O_PTU] = sle.proteinuria(y, p)
    clinical = sle.clinical_activity(y, p)
    out[O_ACTIVITY] = clinical / 12.0
    out[O_ARTHRITIS] = where(y[sle.MUSC] > p[sle.ITEM_THRESHOLD], 1.0, 0.0)
    out[O_HEMATURIA] = where(y[sle.RENAL] > p[sle.ITEM_THRESHOLD], 1.0, 0.0)
    out[O_PGA] = min(3.0, p[sle.PGA_PER_POINT] * clinical)
    out[O_PRED] = sle.prednisolone(t, p)
    out[O_TUMOUR] = tumour.total(y, p)
    out[O_IL6] = max(y[cytokines.IL6], 0.0)
    out[O_IFNG] = max(y[cytokines.IFNG], 0.0)
    out[O_CRP] = max(y[cytokines.CRP], 0.0)
    out[O_FER] = max(y[cytokines.FERRITIN], 0.0)
    out[O_CRS] = max(y[toxicity.CRS], 0.0)
    out[O_TEMP] = toxicity.temperature(y, p)
    out[O_HYPOTENSION], out[O_PRESSORS], out[O_OXYGEN] = toxicity.signs(y, p)
    out[O_VASOPRESSIN] = 0.0
    out[O_ICANS] = max(y[toxicity.ICANS], 0.0)
    out[O_ICE] = toxicity.ice_score(y)
    out[O_CONSCIOUS] = toxicity.consciousness(y)
    out[O_SEIZURE], out[O_MOTOR], out[O_EDEMA] = toxicity.neurological_signs(y, p)
    out[O_TOCI] = management.toci_concentration(y, p)
    out[O_TOCI_GIVEN] = where(y[management.TOCI_CLOCK] > 0.0, 1.0, 0.0)
    out[O_STEROID_GIVEN] = where(y[management.STEROID_CLOCK] > 0.0, 1.0, 0.0)
