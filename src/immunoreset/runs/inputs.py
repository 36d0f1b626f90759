"""From a scenario to what the engine needs: model, patients' parameters, dosing, output grid.

Every patient's inputs depend on its id only (parameters are drawn from a stream keyed by the
patient, see :mod:`immunoreset.population.sampling`), so results do not depend on how a population
is split into chunks or on the number of threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from immunoreset.endpoints import store as endpoint_tables
from immunoreset.model.core import Model
from immunoreset.population.sampling import sample_parameters
from immunoreset.runs.directory import TRAJECTORIES
from immunoreset.scenario.load import (
    model_of,
    output_times,
    parameter_overrides,
    product_dose,
    regimen,
)
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import SolverSettings
from immunoreset.therapy.regimen import DosingEvents, ProductDose, Regimen, dosing_events

WEIGHT_PARAMETER = "weight_kg"
DEFAULT_WEIGHT_KG = 70.0
PROGRESS_REPORTS = 20
"""Chunks are small enough to report progress about this many times (never above chunk_size)."""


@dataclass(frozen=True)
class RunInputs:
    """Everything a run of ``scenario`` needs, derived once."""

    scenario: Scenario
    model: Model
    times: np.ndarray
    outputs: tuple[str, ...]
    settings: SolverSettings
    t_start: float
    chunk_size: int
    overrides: dict[str, float]
    dose: ProductDose
    regimen: Regimen

    @property
    def n_patients(self) -> int:
        return self.scenario.population.size

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_patients / self.chunk_size)

    def chunk_ids(self, index: int) -> np.ndarray:
        """Patient ids of chunk ``index``."""
        start = index * self.chunk_size
        return np.arange(start, min(start + self.chunk_size, self.n_patients))

    def parameters(self, ids: np.ndarray) -> np.ndarray:
        pop = self.scenario.population
        return sample_parameters(self.model, ids, pop.seed, pop.variability, self.overrides)

    def events(self, params: np.ndarray) -> DosingEvents:
        names = self.model.parameter_names
        weights = (
            params[:, names.index(WEIGHT_PARAMETER)]
            if WEIGHT_PARAMETER in names
            else np.full(len(params), DEFAULT_WEIGHT_KG)
        )
        return dosing_events(self.model, self.dose, self.regimen, weights)

    def output_index(self) -> list[int]:
        return [self.model.observables.index(name) for name in self.outputs]

    @property
    def keeps_endpoints(self) -> bool:
        """True if the run keeps endpoints instead of trajectories (``store: endpoints``)."""
        return self.scenario.store == "endpoints"

    @property
    def table_folders(self) -> tuple[str, ...]:
        """The run directory's folders of per-chunk result tables (besides the parameters)."""
        return endpoint_tables.TABLES if self.keeps_endpoints else (TRAJECTORIES,)


def prepare(scenario: Scenario) -> RunInputs:
    """The inputs of a run of a validated ``scenario``."""
    model = model_of(scenario)
    times = output_times(scenario)
    reg = regimen(scenario)
    settings = SolverSettings(
        method=scenario.solver.method,
        rtol=scenario.solver.rtol,
        atol=scenario.solver.atol,
        max_steps=scenario.solver.max_steps,
        jacobian=scenario.solver.jacobian,
        rhs=scenario.solver.rhs,
    )
    size = scenario.population.size
    chunk = max(1, min(scenario.chunk_size, math.ceil(size / PROGRESS_REPORTS)))
    return RunInputs(
        scenario=scenario,
        model=model,
        times=times,
        outputs=tuple(scenario.outputs or model.observables),
        settings=settings,
        t_start=min(float(times[0]), reg.first_day),
        chunk_size=chunk,
        overrides=parameter_overrides(scenario),
        dose=product_dose(scenario),
        regimen=reg,
    )
