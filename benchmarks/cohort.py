"""The benchmark cohort shared by the benchmarks: Park 2025 patients with the published
variability (seed 1), the Erlangen dose (1e6 CAR+ cells/kg) and lymphodepletion (1935 mg, day 0),
730 days with daily outputs."""

from __future__ import annotations

import numpy as np

from immunoreset.model.core import Model
from immunoreset.population.sampling import sample_parameters
from immunoreset.therapy.regimen import (
    DosingEvents,
    Infusion,
    LymphodepletionDose,
    ProductDose,
    Regimen,
    dosing_events,
)

SEED = 1
REGIMEN = Regimen((Infusion(0.0),), (LymphodepletionDose(0.0, 1935.0),))
DOSE = ProductDose(1e6, "cells/kg")
T_OUT = np.arange(0.0, 731.0)


def cohort(model: Model, ids: np.ndarray) -> tuple[np.ndarray, DosingEvents]:
    """Parameters and dosing events of patients ``ids``."""
    params = sample_parameters(model, ids, SEED, variability=True)
    weights = params[:, model.parameter_names.index("weight_kg")]
    return params, dosing_events(model, DOSE, REGIMEN, weights)
