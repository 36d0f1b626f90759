"""A scenario's virtual cohort as a function of the parameters being estimated.

Calibration evaluates the model hundreds of times at different typical values of a few parameters.
Each evaluation keeps every patient's random effects (``eta``) and covariates fixed and moves only
the typical values: a patient's value of an estimated parameter is ``theta * exp(eta_i)`` (its
sampled value scaled by ``theta / typical``), or ``expit(logit(theta) + eta_i)`` for a share with
logit-scale variability. These common random numbers make the objective a
smooth, deterministic function of ``theta``, which gradient-based optimisers and finite-difference
Hessians need (Kleinman et al. 1999, Management Science 45:1570).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from immunoreset.population.sampling import individual_values, logit, logit_parameters
from immunoreset.runs.inputs import RunInputs, prepare
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import simulate


@dataclass(frozen=True)
class Trajectories:
    """Simulated outputs of a cohort: ``values[patient, time, observable]``; failed patients are
    NaN from their failure on and have ``status != 0``."""

    times: np.ndarray
    observables: tuple[str, ...]
    values: np.ndarray
    status: np.ndarray

    def series(self, name: str) -> np.ndarray:
        """``[patient, time]`` values of observable ``name``."""
        if name not in self.observables:
            raise KeyError(
                f"observable {name!r} is not an output of this model; allowed: "
                f"{', '.join(self.observables)}"
            )
        return self.values[:, :, self.observables.index(name)]


class Cohort:
    """The cohort of ``scenario`` (its population size, seed and variability) with the parameters
    ``names`` settable: ``cohort(values)`` simulates it at those typical values."""

    def __init__(self, scenario: Scenario, names: Sequence[str]) -> None:
        self.inputs: RunInputs = prepare(scenario)
        model = self.inputs.model
        unknown = [n for n in names if n not in model.parameter_names]
        if unknown:
            raise ValueError(
                f"parameters {unknown} are not parameters of model {model.name!r}; see "
                f"`immunoreset params {model.name}`"
            )
        self.names = tuple(names)
        self.columns = [model.parameter_names.index(n) for n in names]
        ids = np.arange(self.inputs.n_patients)
        self.base = self.inputs.parameters(ids)
        typical = model.typical_parameters(self.inputs.overrides)
        self.typical = typical[self.columns]
        # The logit-scale shares keep each patient's random effect on that scale (their values
        # are not proportional to theta).
        self.logit = np.flatnonzero(logit_parameters(model)[self.columns])
        shares, typical_shares = self.base[:, self.columns][:, self.logit], self.typical[self.logit]
        self.eta = logit(shares) - logit(typical_shares)
        if np.any(self.typical == 0):
            zero = [n for n, v in zip(self.names, self.typical, strict=True) if v == 0]
            raise ValueError(
                f"parameters {zero} have a typical value of 0 in this scenario; allowed: parameters "
                "with a non-zero typical value (estimation scales the typical value)"
            )

    @property
    def size(self) -> int:
        return len(self.base)

    def parameters(self, values: np.ndarray) -> np.ndarray:
        """The cohort's parameter matrix with the estimated parameters at typical ``values``."""
        params = self.base.copy()
        values = np.asarray(values, dtype=np.float64)
        params[:, self.columns] *= values / self.typical
        if len(self.logit):
            shares = individual_values(values[self.logit], self.eta, True)
            params[:, np.asarray(self.columns)[self.logit]] = shares
        return params

    def __call__(self, values: np.ndarray) -> Trajectories:
        return self.many(np.asarray(values, dtype=np.float64)[None, :])[0]

    def many(self, rows: np.ndarray) -> list[Trajectories]:
        """The cohort at each row of typical values, all simulated in one engine batch (a
        finite-difference gradient or several candidate points cost one parallel call)."""
        inp = self.inputs
        params = np.vstack([self.parameters(v) for v in rows])
        res = simulate(
            inp.model, params, inp.events(params), inp.times, inp.settings, inp.t_start,
            pattern_parameters=inp.model.typical_parameters(inp.overrides),
        )  # fmt: skip
        n, names = self.size, tuple(inp.model.observables)
        return [
            Trajectories(
                res.times, names, res.values[k * n : (k + 1) * n], res.status[k * n : (k + 1) * n]
            )
            for k in range(len(rows))
        ]
