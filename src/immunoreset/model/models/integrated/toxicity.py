"""Latent CRS and neurotoxicity severity and the clinical signs they produce.

CRS severity ``S`` follows IL-6 signalling and IFN-gamma above their pre-treatment levels, scaled by
a patient susceptibility, through endothelial activation ``E`` (Hay 2017: severe CRS is endothelial
activation with capillary leak), a two-stage lag that keeps the signs going for hours after their
drive falls (hypotension outlasts the first dose of tocilizumab). Neurotoxicity severity ``N``
follows serum IL-6 (blocked or not: tocilizumab does not protect the brain, and the IL-6 it
displaces from its receptor stays in serum) and IFN-gamma, more slowly and also through two stages
(central nervous system inflammation ``B``, as CSF cytokines and a leaky blood-brain barrier; Gust J
et al., Cancer Discov 2017;7:1404-1419), and corticosteroids damp it:

    E' = k_S (sus_S (x6 / il6_ref + xg / ifng_ref) - E)         x6 = (1 - o) IL6 - IL6_0
    S' = k_S (E - S)
    B' = k_N (sus_N ((IL6 - IL6_0) / il6_ref_N + xg / ifng_ref_N) (1 - e_n s) - B)
    N' = k_N (B - N)

The signs are read off these severities on one ladder each, a convention (there is no sourced
IL-6-to-grade threshold) calibrated to observed grade frequencies. Fever (the ASTCT CRS gate) is
reached at ``S = 1``: the temperature is ``temp_baseline + (38 - temp_baseline) S (1 - a)``, capped
at ``temp_max``, where ``a`` is the antipyretic effect of tocilizumab (its occupancy through an
effect compartment, :mod:`.management`), so tocilizumab masks fever within hours (IL-6 is the
pyrogen) while hypotension and hypoxia follow ``S`` through the thresholds ``crs_s_*``. The ICE
score is ``10 - N`` (one point per unit) and the level of consciousness falls at ``N`` = 2, 5, 9 and
12 (awakens spontaneously, to voice, only to touch, unarousable), so the ASTCT ICANS grade rises at
``N`` = 0.5, 3.5, 7.5 and 12. The other ICANS domains follow on the same scale beyond an ICE score
of 0 (``icans_n_*``): a rapidly resolving seizure at 10, focal cerebral oedema at 11, prolonged
seizures and deep focal motor weakness at 13, diffuse oedema at 14 (seizures accompany severe
encephalopathy and fulminant cerebral oedema is the rarest form; Gust 2017). Grades are never
computed here: the ASTCT instruments grade these
signs (:mod:`immunoreset.endpoints`).
"""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel, where
from immunoreset.model.models.integrated import cytokines, management
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("endothelial", "index", "endothelial activation, the drive of CRS severity"),
        State("crs_severity", "index", "latent CRS severity (1 = fever threshold)"),
        State("neuroinflammation", "index", "central nervous system inflammation, drive of ICANS"),
        State("icans_severity", "index", "latent neurotoxicity severity (ICE score lost)"),
    ),
    "toxicity_parameters.csv",
    after=cytokines.BLOCK,
)
ENDOTHELIAL, CRS, NEURO, ICANS = (BLOCK.s0 + i for i in range(4))
(K_CRS, CRS_IL6_REF, CRS_IFNG_REF, CRS_SUS, TEMP_BASE, TEMP_MAX, S_HYPOTENSION, S_O2_LOW,
 S_VASOPRESSOR, S_O2_HIGH, S_VASOPRESSORS2, S_PPV, K_ICANS, ICANS_IL6_REF, ICANS_IFNG_REF,
 ICANS_SUS, N_SEIZURE, N_EDEMA_FOCAL, N_SEIZURE_PROLONGED, N_MOTOR,
 N_EDEMA_DIFFUSE) = (BLOCK.p0 + i for i in range(len(BLOCK.parameters)))  # fmt: skip
assert BLOCK.parameters[N_EDEMA_DIFFUSE - BLOCK.p0].name == "icans_n_edema_diffuse"

FEVER_C = 38.0
"""ASTCT fever (deg C), reached at CRS severity 1."""
CONSCIOUSNESS_LADDER = (2.0, 5.0, 9.0, 12.0)
"""Neurotoxicity severities at which consciousness falls one level (ICE falls one point per unit)."""
ICANS_GRADE_LADDER = (0.5, 3.5, 7.5, 12.0)
"""Neurotoxicity severities at which the ICE score and consciousness take the ASTCT ICANS grade to
1-4: ICE (rounded) 9, 6, 2, and an unarousable patient. Seizures, motor weakness and cerebral oedema
(grades 3 and 4 only) can bring grades 3 and 4 earlier if their thresholds are set below these."""
NEVER = 1e9
"""Severity no patient reaches: the threshold of a grade a policy does not act on."""


@kernel
def rhs(y: np.ndarray, p: np.ndarray, steroid: float, occupancy: float,
        dydt: np.ndarray) -> None:  # fmt: skip
    # Differences from baseline, not clipped: a clip of quantities decaying to baseline would put a
    # kink under every later step (see cytokines.positive); they are never far below zero.
    xg = y[cytokines.IFNG] - p[cytokines.IFNG_0]
    x6 = cytokines.il6_signalling(y, p, occupancy) - p[cytokines.IL6_0]
    drive = p[CRS_SUS] * (x6 / p[CRS_IL6_REF] + xg / p[CRS_IFNG_REF])
    dydt[ENDOTHELIAL] = p[K_CRS] * (drive - y[ENDOTHELIAL])
    dydt[CRS] = p[K_CRS] * (y[ENDOTHELIAL] - y[CRS])
    serum = y[cytokines.IL6] - p[cytokines.IL6_0]
    neuro = p[ICANS_SUS] * (serum / p[ICANS_IL6_REF] + xg / p[ICANS_IFNG_REF])
    neuro *= 1.0 - p[management.STEROID_ICANS] * steroid
    dydt[NEURO] = p[K_ICANS] * (neuro - y[NEURO])
    dydt[ICANS] = p[K_ICANS] * (y[NEURO] - y[ICANS])


@kernel
def crs_threshold(p: np.ndarray, grade: float) -> float:
    """CRS severity at which the ASTCT grade reaches ``grade`` (1-4; anything else: never)."""
    g = round(grade)
    if g == 1:
        return 1.0
    if g == 2:
        return min(p[S_HYPOTENSION], p[S_O2_LOW])
    if g == 3:
        return min(p[S_VASOPRESSOR], p[S_O2_HIGH])
    if g == 4:
        return min(p[S_VASOPRESSORS2], p[S_PPV])
    return NEVER


@kernel
def escalation(p: np.ndarray) -> tuple[float, float]:
    """Severities at which seizures become prolonged and oedema diffuse: never before the first
    seizure or the focal oedema, whatever values a scenario sets (each level includes the one
    below it)."""
    return max(p[N_SEIZURE], p[N_SEIZURE_PROLONGED]), max(p[N_EDEMA_FOCAL], p[N_EDEMA_DIFFUSE])


@kernel
def icans_threshold(p: np.ndarray, grade: float) -> float:
    """Neurotoxicity severity at which the ASTCT ICANS grade reaches ``grade`` (1-4, else never):
    the first of the ICE and consciousness ladder and the signs of the other domains that give it."""
    g = round(grade)
    if g == 1 or g == 2:
        return ICANS_GRADE_LADDER[g - 1]
    if g == 3:
        return min(ICANS_GRADE_LADDER[2], p[N_SEIZURE], p[N_EDEMA_FOCAL])
    if g == 4:
        prolonged, diffuse = escalation(p)
        return min(ICANS_GRADE_LADDER[3], prolonged, p[N_MOTOR], diffuse)
    return NEVER


@kernel
def temperature(y: np.ndarray, p: np.ndarray) -> float:
    """Body temperature (deg C); tocilizumab masks fever."""
    s = max(y[CRS], 0.0) * (1.0 - min(max(y[management.ANTIPYRESIS], 0.0), 1.0))
    return min(p[TEMP_BASE] + (FEVER_C - p[TEMP_BASE]) * s, p[TEMP_MAX])


@kernel
def signs(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    """(hypotension 0/1, vasopressors other than vasopressin, oxygen level 0-3) at severity S."""
    s = y[CRS]
    hypotension = where(s >= p[S_HYPOTENSION], 1.0, 0.0)
    pressors = where(s >= p[S_VASOPRESSOR], 1.0, 0.0) + where(s >= p[S_VASOPRESSORS2], 1.0, 0.0)
    oxygen = 0.0
    for threshold in (p[S_O2_LOW], p[S_O2_HIGH], p[S_PPV]):
        oxygen += where(s >= threshold, 1.0, 0.0)
    return hypotension, pressors, oxygen


@kernel
def ice_score(y: np.ndarray) -> float:
    return min(10.0, max(0.0, 10.0 - y[ICANS]))


@kernel
def consciousness(y: np.ndarray) -> float:
    level = 0.0
    for threshold in CONSCIOUSNESS_LADDER:
        level += where(y[ICANS] >= threshold, 1.0, 0.0)
    return level


@kernel
def neurological_signs(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    """(seizure 0-2, deep focal motor weakness 0/1, cerebral oedema 0-2) at neurotoxicity ``N``:
    seizures rapidly resolving (1) or prolonged/repetitive (2); oedema focal (1) or diffuse (2)."""
    n = y[ICANS]
    prolonged, diffuse = escalation(p)
    seizure = where(n >= p[N_SEIZURE], 1.0, 0.0) + where(n >= prolonged, 1.0, 0.0)
    motor = where(n >= p[N_MOTOR], 1.0, 0.0)
    edema = where(n >= p[N_EDEMA_FOCAL], 1.0, 0.0) + where(n >= diffuse, 1.0, 0.0)
    return seizure, motor, edema
