"""Stein et al. 2019: multiphasic cellular kinetics of tisagenlecleucel.

Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular kinetic analysis of
chimeric antigen receptor-T cells. CPT Pharmacometrics Syst Pharmacol 2019;8:285-295,
doi:10.1002/psp4.12388.

Two pools of transgene-bearing cells, in copies/ug genomic DNA:

* E, effector-like cells, grow first-order at ``rho = ln(foldx)/tmax`` until ``tmax``; afterwards they
  decline at ``alpha`` and feed the memory-like pool at ``k = fb * (alpha - beta)``;
* M, memory-like cells, decline at ``beta``.

The infusion seeds ``E = cmax/foldx`` so that the peak equals ``cmax`` at ``tmax``; as in the paper,
the infused dose does not enter the kinetics (no dose effect was identified). The switch from
expansion to contraction is a time switch (``t - tmax``) that the solver locates exactly. The closed
form used to verify the engine is::

    C(t) = cmax * exp(rho * (t - tmax))                                   t <= tmax
    C(t) = cmax * ((1 - fb) exp(-alpha (t - tmax)) + fb exp(-beta (t - tmax)))   t > tmax
"""

from __future__ import annotations

import math

import numpy as np

from immunoreset.model.core import (
    DoseInput,
    Model,
    RegimenLimits,
    State,
    index_map,
    load_parameters,
)
from immunoreset.model.kernel import kernel

PARAMETERS = load_parameters(__package__, "stein2019_parameters.csv")
_P = index_map(PARAMETERS)
FOLDX, TMAX, CMAX, ALPHA, FB, BETA = (
    _P[n] for n in ("foldx", "tmax", "cmax", "alpha", "fb", "beta")
)

STATES = (
    State("effector", "copies/ug DNA", "expanding, then rapidly declining effector-like CAR cells"),
    State("memory", "copies/ug DNA", "persisting memory-like CAR cells"),
)
E, M = 0, 1


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    """No CAR cells before the infusion."""
    y0[E] = 0.0
    y0[M] = 0.0


@kernel
def switches(t: float, y: np.ndarray, p: np.ndarray, g: np.ndarray) -> None:
    """Switch 0 turns on at the peak time (expansion -> contraction)."""
    g[0] = t - p[TMAX]


@kernel
def rhs(t: float, y: np.ndarray, p: np.ndarray, mode: np.ndarray, dydt: np.ndarray) -> None:
    if mode[0] < 0.5:
        dydt[E] = math.log(p[FOLDX]) / p[TMAX] * y[E]
        dydt[M] = 0.0
    else:
        alpha = p[ALPHA]
        dydt[E] = -alpha * y[E]
        dydt[M] = p[FB] * (alpha - p[BETA]) * y[E] - p[BETA] * y[M]


@kernel
def dose(input_index: int, amount: float, p: np.ndarray, y: np.ndarray) -> None:
    """An infusion seeds the effector pool at cmax/foldx (the dose itself has no effect)."""
    y[E] += p[CMAX] / p[FOLDX]


@kernel
def observe(t: float, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    out[0] = y[E] + y[M]


MODEL = Model(
    name="stein2019",
    title="Stein 2019 tisagenlecleucel multiphasic cellular kinetics",
    reference="Stein AM et al. CPT Pharmacometrics Syst Pharmacol 2019;8:285. doi:10.1002/psp4.12388",
    description=__doc__ or "",
    states=STATES,
    parameters=PARAMETERS,
    inputs=(DoseInput("car_t_cells", "cells", "CAR-T infusion (seeds expansion; no dose effect)"),),
    observables=("car_transgene",),
    switch_names=("after_peak",),
    initial_state=initial_state,
    rhs=rhs,
    switches=switches,
    dose=dose,
    observe=observe,
    default_plots=("car_transgene",),
    regimen_limits=RegimenLimits(
        max_infusions=1,
        infusion_days=(0.0,),
        whole_dose_only=True,
        reason="Stein 2019 is a published single-dose model: expansion switches to contraction at"
        " absolute day Tmax, and an infusion seeds the full starting level whatever its size",
    ),
    notes=(
        "Residual error (log scale, variance 0.56) and the non-significant tocilizumab factor on"
        " the expansion rate (1.2) are reported by Stein 2019 but not part of the structural model.",
    ),
)


def closed_form(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Published closed-form solution (transgene copies/ug DNA) for infusion at day 0."""
    t = np.asarray(t, dtype=float)
    rho = math.log(p[FOLDX]) / p[TMAX]
    tau = t - p[TMAX]
    before = p[CMAX] * np.exp(rho * np.minimum(tau, 0.0))
    after = p[CMAX] * (
        (1 - p[FB]) * np.exp(-p[ALPHA] * np.maximum(tau, 0.0))
        + p[FB] * np.exp(-p[BETA] * np.maximum(tau, 0.0))
    )
    return np.where(tau <= 0, before, after)
