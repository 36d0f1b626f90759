"""The integrated model, assembled from its modules.

Modules are stacked in a fixed order, each owning a slice of the state and parameter vectors
(:mod:`.frame`): body, conditioning (lymphodepletion), host (T cells, neutrophils), car (CAR cells),
blineage (B lineage and plasma cells), tumour (malignant burden), antibodies, sle, management
(tocilizumab and corticosteroids), cytokines, toxicity (latent CRS and neurotoxicity), policy (when
treatments start), observation. The assembled functions below only pass coupling signals between
modules: lymphotoxic exposure, host lymphopenia, CAR engagement and bound antigen (:mod:`.binding`),
disease activity, CAR cells in antigen-driven expansion and killed target cells (the sources of
inflammation), and the effects of the treatments.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from immunoreset.model.core import DoseInput
from immunoreset.model.kernel import kernel
from immunoreset.model.models.integrated import (
    antibodies,
    binding,
    blineage,
    body,
    car,
    conditioning,
    cytokines,
    host,
    management,
    observation,
    policy,
    sle,
    toxicity,
    tumour,
)

MODULES = (
    body, conditioning, host, car, blineage, tumour, antibodies, sle, management, cytokines,
    toxicity, policy, observation,
)  # fmt: skip
BLOCKS = tuple(m.BLOCK for m in MODULES)
STATES = tuple(s for b in BLOCKS for s in b.states)
PARAMETERS = tuple(q for b in BLOCKS for q in b.parameters)
for _before, _after in pairwise(BLOCKS):
    assert _after.s0 == _before.s_end and _after.p0 == _before.p_end, "modules out of order"

INPUTS = (
    DoseInput("car_t_cells", "cells", "CAR+ cells of the product (slot a) into blood"),
    DoseInput("car_t_cells_b", "cells", "CAR+ cells of a co-infused second product (slot b)"),
    DoseInput("fludarabine", "mg/m2", "fludarabine dose"),
    DoseInput("cyclophosphamide", "mg/m2", "cyclophosphamide dose"),
)
CAR_A, CAR_B, FLUDARABINE, CYCLOPHOSPHAMIDE = range(len(INPUTS))


@kernel
def initial_state(p: np.ndarray, y0: np.ndarray) -> None:
    """Pre-treatment steady state: no CAR cells or chemotherapy, every other module at baseline."""
    for i in range(y0.shape[0]):
        y0[i] = 0.0
    host.initial_state(p, y0)
    blineage.initial_state(p, y0)
    tumour.initial_state(p, y0)
    antibodies.initial_state(p, y0)
    sle.initial_state(p, y0)
    cytokines.initial_state(p, y0)


@kernel
def rhs(t: float, y: np.ndarray, p: np.ndarray, mode: np.ndarray, dydt: np.ndarray) -> None:
    engaged = np.empty((len(car.SLOTS), car.N_COMP))
    theta = np.empty((len(car.SLOTS), car.N_COMP, binding.N_ANTIGENS))
    available = np.empty((len(car.SLOTS), car.N_COMP))
    binding.engage(y, p, engaged, theta, available)
    conditioning.rhs(y, p, dydt)
    u_ld = conditioning.exposure_rate(y, p)
    host.rhs(y, p, u_ld, max(y[cytokines.MYELOID], 0.0), dydt)
    steroid = management.steroid(y, p, mode)
    occupancy = management.occupancy(y, p)
    suppression = p[management.STEROID_CAR] * steroid
    driven = car.rhs(y, p, engaged, available, host.lymphopenia(y, p), suppression, dydt)
    killed = blineage.rhs(y, p, theta, sle.activity_factor(y, p), u_ld, dydt)
    killed += tumour.rhs(y, p, theta, dydt)
    antibodies.rhs(y, p, dydt)
    sle.rhs(y, p, dydt)
    management.rhs(y, p, mode, dydt)
    cytokines.rhs(y, p, driven, killed, steroid, occupancy, dydt)
    toxicity.rhs(y, p, steroid, occupancy, dydt)


@kernel
def switches(t: float, y: np.ndarray, p: np.ndarray, g: np.ndarray) -> None:
    """Only the management policy (:mod:`.policy`): B-cell return and relapse emerge from the
    dynamics."""
    policy.switches(t, y, p, g)


@kernel
def dose(input_index: int, amount: float, p: np.ndarray, y: np.ndarray) -> None:
    """CAR+ cells (slot a or b) into blood by phenotype mix; chemotherapy (mg/m2) into exposure."""
    if input_index == CAR_A:
        car.infuse(p, y, 0, amount)
    elif input_index == CAR_B:
        car.infuse(p, y, 1, amount)
    elif input_index == FLUDARABINE:
        y[conditioning.FLU] += amount
    else:
        y[conditioning.CY] += amount


observe = observation.observe
