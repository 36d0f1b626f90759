"""Cytokines and the markers clinics measure: IL-6, IFN-gamma, myeloid activation, CRP, ferritin.

Engaged CAR cells make IFN-gamma; dying target cells (their danger signals, Liu 2020) and IFN-gamma
activate myeloid cells, which make most of the IL-6 (Giavridis 2018; Norelli 2018). Killing scales
with the antigen burden, so inflammation does too. Myeloid cells become tolerant to a steady
danger signal (as to endotoxin, within about a day; Biswas and Lopez-Collazo 2009): only killing
above its recent level ``T`` activates them, so the steady killing of new marrow precursors during
B-cell aplasia does not keep CRS going, while the first wave of killing of a large burden does.
With ``K`` target cells killed per day, ``A`` CAR cells in antigen-driven expansion (1e9), ``s``
the corticosteroid effect and ``o`` the tocilizumab occupancy (:mod:`.management`):

    IFNg' = k_g (IFNg0 + ifng_car A (1 - e_s s) - IFNg)
    T'    = k_t (K - T)
    M'    = k_m ((pos(K - T) / kill_ref + (IFNg - IFNg0) / ifng_ref) (1 - e_s s) - M)
    IL6'  = k_6 (IL6_0 + il6_myeloid M - (1 - f_r o) IL6)       f_r: receptor-mediated clearance
    CRP'  = k_c (CRP0 + (CRP_max - CRP0) x^2 / (x^2 + x50^2) - CRP),  x = pos(S - IL6_0)
    Fer'  = k_f (Fer0 + fer_myeloid M - Fer)

where ``S = (1 - o) IL6`` is the IL-6 signalling. Serum IL-6 rises after tocilizumab while its
signalling (and CRP) falls. Only the excess over the pre-treatment levels drives activation and
CRP, so an untreated patient stays at baseline; ``pos`` is a smooth positive part (:func:`positive`).
IFN-gamma never falls below its baseline and myeloid activation hardly below zero, so they need none.
Half-lives: IL-6 20 min (Hosseini 2020), CRP 19 h (Pepys and Hirschfield 2003).
"""

from __future__ import annotations

import math

import numpy as np

from immunoreset.model.core import State
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import management
from immunoreset.model.models.integrated.frame import block

BLOCK = block(
    (
        State("il6", "pg/mL", "serum IL-6"),
        State("ifng", "pg/mL", "serum IFN-gamma"),
        State("myeloid", "index", "myeloid (macrophage, monocyte) activation, 0 at rest"),
        State("danger_tolerance", "1e6 cells/day", "killing rate myeloid cells are tolerant to"),
        State("crp", "mg/dL", "serum C-reactive protein"),
        State("ferritin", "ng/mL", "serum ferritin"),
    ),
    "cytokines_parameters.csv",
    after=management.BLOCK,
)
IL6, IFNG, MYELOID, TOLERANCE, CRP, FERRITIN = (BLOCK.s0 + i for i in range(6))
(IL6_HALF_MIN, IL6_0, IL6_MYELOID, IL6_RECEPTOR, IFNG_HALF_H, IFNG_0, IFNG_CAR, K_MYELOID,
 K_TOLERANCE, KILL_REF, IFNG_REF, CRP_HALF_H, CRP_0, CRP_MAX, CRP_IL6_50, FER_HALF_H, FER_0,
 FER_MYELOID) = (BLOCK.p0 + i for i in range(len(BLOCK.parameters)))  # fmt: skip
assert BLOCK.parameters[FER_MYELOID - BLOCK.p0].name == "ferritin_myeloid"
MIN_PER_DAY = 1440.0
H_PER_DAY = 24.0


@kernel
def rate(half_life: float, per_day: float) -> float:
    """Elimination rate (1/day) of a half-life given in units of which ``per_day`` make a day."""
    return math.log(2.0) * per_day / half_life


SMOOTHING = 1e-3
"""Width of the smooth positive part relative to the scale of its argument (see :func:`positive`)."""


@kernel
def positive(x: float, scale: float) -> float:
    """Smooth positive part of ``x``: 0 at 0, ``x`` far above ``SMOOTHING * scale``, never below
    ``-SMOOTHING * scale / 2``. A plain ``max(x, 0)`` of a quantity that decays to zero puts a kink
    under every later step, and the step-size controller then creeps through the months after
    CRS (ten times the steps)."""
    d = SMOOTHING * scale
    return 0.5 * (x + math.sqrt(x * x + d * d) - d)


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    y0[IL6] = p[IL6_0]
    y0[IFNG] = p[IFNG_0]
    y0[CRP] = p[CRP_0]
    y0[FERRITIN] = p[FER_0]


@kernel
def il6_signalling(y: np.ndarray, p: np.ndarray, occupancy: float) -> float:
    """Serum IL-6 whose receptor signalling is not blocked by tocilizumab (pg/mL)."""
    return y[IL6] * (1.0 - occupancy)


@kernel
def rhs(y: np.ndarray, p: np.ndarray, driven: float, killed: float, steroid: float,
        occupancy: float, dydt: np.ndarray) -> None:  # fmt: skip
    """``driven``: CAR cells in antigen-driven expansion (1e6); ``killed``: target cells killed
    (1e6 per day)."""
    damp = 1.0 - p[management.STEROID_CYTOKINE] * steroid
    dydt[IFNG] = rate(p[IFNG_HALF_H], H_PER_DAY) * (
        p[IFNG_0] + p[IFNG_CAR] * driven * 1e-3 * damp - y[IFNG]
    )
    dydt[TOLERANCE] = p[K_TOLERANCE] * (killed - y[TOLERANCE])
    danger = positive((killed - y[TOLERANCE]) * 1e6 / p[KILL_REF], 1.0)
    drive = (danger + (y[IFNG] - p[IFNG_0]) / p[IFNG_REF]) * damp
    dydt[MYELOID] = p[K_MYELOID] * (drive - y[MYELOID])
    clearance = 1.0 - p[IL6_RECEPTOR] * occupancy
    dydt[IL6] = rate(p[IL6_HALF_MIN], MIN_PER_DAY) * (
        p[IL6_0] + p[IL6_MYELOID] * y[MYELOID] - clearance * y[IL6]
    )
    x2 = positive(il6_signalling(y, p, occupancy) - p[IL6_0], p[CRP_IL6_50]) ** 2
    synthesis = (p[CRP_MAX] - p[CRP_0]) * x2 / (x2 + p[CRP_IL6_50] ** 2)
    dydt[CRP] = rate(p[CRP_HALF_H], H_PER_DAY) * (p[CRP_0] + synthesis - y[CRP])
    dydt[FERRITIN] = rate(p[FER_HALF_H], H_PER_DAY) * (
        p[FER_0] + p[FER_MYELOID] * y[MYELOID] - y[FERRITIN]
    )
