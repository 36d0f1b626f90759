"""CAR-antigen binding, taken as quasi-steady (no states, no parameters of its own).

Binding relaxes at ``koff + kon * free partner`` (FMC63: at least 5.9/day), faster than the cell
dynamics it couples, so the complexes are taken at equilibrium instead of integrated (Park 2025
integrates them with kon/koff, which makes the system stiff). For each product slot ``s``,
compartment ``c`` and antigen ``g`` (CD19, CD20, BCMA), with ``R`` receptors and ``A`` antigens per
uL and the binder's ``Kd`` in molecules per uL, the complexes solve ``C = (R - C)(A - C) / Kd``:

    C = 2 R A / (R + A + Kd + sqrt((R - A)^2 + Kd (Kd + 2 R + 2 A)))

written so that neither ``C/R`` (engaged receptors per CAR cell, which drives expansion) nor ``C/A``
(the bound share of an antigen, which sets killing of every population that carries it) divides by
a vanishing pool. Slots are solved independently: the bound share of any antigen stays far below
one, so competition between two products for it is negligible. ``tests/model/integrated`` checks
the approximation against the explicit kon/koff kinetics. The antigen a slot recognises in a
compartment (summed over its targets) is passed on as well: the slot's CAR cells share it, which
limits their expansion (:mod:`.car`).
"""

from __future__ import annotations

import math

import numpy as np

from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import blineage as bl
from immunoreset.model.models.integrated import car, tumour

AVOGADRO = 6.02214076e23
MOLAR_TO_PER_UL = AVOGADRO * 1e-6
N_ANTIGENS = 3
SMALLEST = 5e-324
"""The smallest positive float: ``max(x, SMALLEST)`` is ``x`` for every positive ``x``."""
RECEPTORS = (car.REC_CD19, car.REC_CD20, car.REC_BCMA)
AFFINITIES = (car.KD_CD19, car.KD_CD20, car.KD_BCMA)


@kernel
def fractions(r: float, a: float, kd: float) -> tuple[float, float]:
    """Equilibrium ``(C/R, C/A)`` of one receptor-ligand pair (molecules per uL, none negative).

    The denominator is at least ``r + a + kd``, so it vanishes only with no receptor, no antigen
    and no ``Kd``, where both fractions are 0. Dividing by ``max(root, SMALLEST)`` gives that 0
    (``0 / SMALLEST``) and leaves every other value as it is, without a branch on the state that
    the exported equations would have to carry as a ``piecewise``.
    """
    root = r + a + kd + math.sqrt((r - a) ** 2 + kd * (kd + 2.0 * r + 2.0 * a))
    safe = max(root, SMALLEST)
    return 2.0 * a / safe, 2.0 * r / safe


@kernel
def antigens(y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Antigen molecules per uL, ``out[comp, antigen]`` (CD19, CD20, BCMA)."""
    naive = max(y[bl.NV_BL], 0.0) + max(y[bl.ARN_BL], 0.0)
    memory = max(y[bl.MEM_BL], 0.0)
    out[0, 0] = (naive + memory) * p[bl.CD19_B]
    out[0, 1] = (naive + memory) * p[bl.CD20_B]
    out[0, 2] = memory * p[bl.BCMA_MEM]
    naive = max(y[bl.NV_LY], 0.0) + max(y[bl.ARN_LY], 0.0)
    memory = max(y[bl.MEM_LY], 0.0) + max(y[bl.ARA], 0.0)
    short = max(y[bl.PBS], 0.0) + max(y[bl.PBS_AR], 0.0)
    tum = max(y[tumour.TUM_LY], 0.0)
    out[1, 0] = (naive + memory) * p[bl.CD19_B] + short * p[bl.CD19_PB] + tum * p[tumour.CD19]
    out[1, 1] = (naive + memory) * p[bl.CD20_B] + tum * p[tumour.CD20]
    out[1, 2] = memory * p[bl.BCMA_MEM] + short * p[bl.BCMA_PB] + tum * p[tumour.BCMA]
    tum = max(y[tumour.TUM_BM], 0.0)
    out[2, 0] = bl.precursors(y) * p[bl.CD19_PRE] + tum * p[tumour.CD19]
    out[2, 1] = tum * p[tumour.CD20]
    out[2, 2] = (max(y[bl.PCL], 0.0) + max(y[bl.PCL_AR], 0.0)) * p[bl.BCMA_PC] + tum * p[
        tumour.BCMA
    ]


@kernel
def engage(y: np.ndarray, p: np.ndarray, engaged: np.ndarray, theta: np.ndarray,
           available: np.ndarray) -> None:  # fmt: skip
    """Fill ``engaged[slot, comp]`` (engaged receptors per active CAR cell),
    ``theta[slot, comp, antigen]`` (bound share of each antigen) and ``available[slot, comp]``
    (molecules per uL of the antigens the slot's binders recognise, the antigen its cells share)."""
    ag = np.empty((car.N_COMP, N_ANTIGENS))
    antigens(y, p, ag)
    for s in range(len(car.SLOTS)):
        if car.slot_empty(y, s):  # nothing bound; its engagement is unused while it is empty
            for c in range(car.N_COMP):
                engaged[s, c] = 0.0
                available[s, c] = 0.0
                for g in range(N_ANTIGENS):
                    theta[s, c, g] = 0.0
            continue
        for c in range(car.N_COMP):
            cells = car.active(y, s, c)
            e = 0.0
            total = 0.0
            for g in range(N_ANTIGENS):
                rec = car.slot_param(p, s, RECEPTORS[g])
                kd = car.slot_param(p, s, AFFINITIES[g]) * MOLAR_TO_PER_UL
                if rec <= 0.0:
                    theta[s, c, g] = 0.0
                    continue
                per_receptor, bound = fractions(cells * rec, ag[c, g], kd)
                e += rec * per_receptor
                theta[s, c, g] = bound
                total += ag[c, g]
            engaged[s, c] = e
            available[s, c] = total
