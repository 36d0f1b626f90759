"""Management of CRS and ICANS: tocilizumab and corticosteroids, once started by the policy.

Each treatment has a clock (days since it started) that runs while its switch is on; the switches
are latched by :mod:`.policy`, so a treatment once started stays started. Tocilizumab (one dose,
``toci_dose_mg_kg``, at most ``toci_max_mg``) enters the central compartment of Frey 2010's
two-compartment model with linear and target-mediated elimination as a first-order input of mean
time one hour (the infusion):

    A1' = D k_inf exp(-k_inf clock) - CL C - Q (C - A2/V2) - Vmax C / (Km + C),  C = A1/V1
    A2' = Q (C - A2/V2)

It blocks IL-6 receptor signalling with occupancy ``C / (C + toci_ec50)`` (:mod:`.cytokines`);
fever follows the occupancy through an effect compartment (``toci_ke0_fever``), since fever
resolves over hours, not at once, after tocilizumab.
A corticosteroid course acts with effect ``exp(-clock / steroid_duration)`` from its start: it
suppresses cytokine production, antigen-driven CAR expansion and the neurotoxicity drive by the
``steroid_*_effect`` fractions.
"""

from __future__ import annotations

import math

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import body, sle
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("toci_central", "mg", "tocilizumab, central compartment"),
        State("toci_peripheral", "mg", "tocilizumab, peripheral compartment"),
        State("toci_antipyresis", "fraction", "fever blocked by tocilizumab (effect compartment)"),
        State("toci_clock", "day", "days since tocilizumab was started (0 before)"),
        State("steroid_clock", "day", "days since corticosteroids were started (0 before)"),
    ),
    "management_parameters.csv",
    after=sle.BLOCK,
)
TOCI_C, TOCI_P, ANTIPYRESIS, TOCI_CLOCK, STEROID_CLOCK = (BLOCK.s0 + i for i in range(5))
(DOSE_MG_KG, MAX_MG, K_INF, CL, V1, Q, V2, VMAX, KM, EC50, KE0_FEVER, STEROID_DURATION,
 STEROID_CYTOKINE, STEROID_CAR, STEROID_ICANS) = (
    BLOCK.p0 + i for i in range(len(BLOCK.parameters))
)  # fmt: skip
assert BLOCK.parameters[STEROID_ICANS - BLOCK.p0].name == "steroid_icans_effect"

TOCILIZUMAB, CORTICOSTEROIDS = 0, 1
"""Switch numbers (see :mod:`.policy`)."""
SWITCH_NAMES = ("tocilizumab", "corticosteroids")


@kernel
def dose_mg(p: np.ndarray) -> float:
    return min(p[DOSE_MG_KG] * p[body.WEIGHT], p[MAX_MG])


@kernel
def toci_concentration(y: np.ndarray, p: np.ndarray) -> float:
    """Serum tocilizumab (ug/mL = mg/L)."""
    return max(y[TOCI_C], 0.0) / p[V1]


@kernel
def occupancy(y: np.ndarray, p: np.ndarray) -> float:
    """Share of IL-6 receptor signalling blocked by tocilizumab."""
    c = toci_concentration(y, p)
    return c / (c + p[EC50])


@kernel
def steroid(y: np.ndarray, p: np.ndarray, mode: np.ndarray) -> float:
    """Corticosteroid effect, 1 at the start of a course and decaying after it."""
    return mode[CORTICOSTEROIDS] * math.exp(-max(y[STEROID_CLOCK], 0.0) / p[STEROID_DURATION])


@kernel
def rhs(y: np.ndarray, p: np.ndarray, mode: np.ndarray, dydt: np.ndarray) -> None:
    c = toci_concentration(y, p)
    c2 = max(y[TOCI_P], 0.0) / p[V2]
    infusion = mode[TOCILIZUMAB] * dose_mg(p) * p[K_INF] * math.exp(-p[K_INF] * y[TOCI_CLOCK])
    flow = p[Q] * (c - c2)
    dydt[TOCI_C] = infusion - p[CL] * c - flow - p[VMAX] * c / (p[KM] + c)
    dydt[TOCI_P] = flow
    dydt[ANTIPYRESIS] = p[KE0_FEVER] * (occupancy(y, p) - y[ANTIPYRESIS])
    dydt[TOCI_CLOCK] = mode[TOCILIZUMAB]
    dydt[STEROID_CLOCK] = mode[CORTICOSTEROIDS]
