"""Per-subject fits with the population as prior (maximum a posteriori, "empirical Bayes").

Each subject's parameters are fitted to that subject's observations alone, penalised by the
population's between-subject distribution: with log-normal variability (``theta_i = theta *
exp(eta_i)``, ``eta_i ~ N(0, omega^2)``) the objective is the subject's negative log-likelihood plus
``sum(eta_i^2 / (2 omega^2))``. This is the conditional estimate NONMEM reports as individual
parameters (POSTHOC) given fixed population values (Beal & Sheiner, NONMEM Users Guide; Savic &
Karlsson 2009, AAPS J 11:558 for shrinkage). It is the minimum a user with a few patients needs:
individual curves, individual estimates with intervals, and the shrinkage that says how much the
data, rather than the prior, determined them. A full population (mixed-effects) fit, which also
estimates the typical values and omega^2, is not provided here.

Population values: the typical values and residual SDs come from a pooled fit (or the model), the
omega^2 from the model's parameter table unless given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from immunoreset.calibrate.fit import FitParameter, maximum_likelihood
from immunoreset.calibrate.objective import IndividualObjective
from immunoreset.scenario.schema import Scenario

PRIOR_SPAN = 5.0
"""Bounds of a subject's parameter: the typical value times exp(+/- 5 omega), far outside the
prior's mass (a bound that binds says the prior is inconsistent with the subject's data)."""


def fit_subjects(
    scenario: Scenario,
    typical: Mapping[str, float],
    observations: pd.DataFrame,
    errors: Mapping[str, str],
    sigmas: Sequence[float],
    omega2: Mapping[str, float] | None = None,
    starts: int = 2,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MAP estimates of ``typical``'s parameters for every subject of ``observations``.

    ``sigmas`` are the residual SDs in the order of the objective's error parameters (as a pooled
    fit estimates them). Returns ``(estimates, shrinkage)``: one row per subject and parameter
    (estimate, 95 % interval, eta), and one row per parameter (omega, SD of the etas, shrinkage
    = 1 - SD(eta) / omega).
    """
    names = list(typical)
    pooled = IndividualObjective(scenario, names, observations, errors)
    model = pooled.groups[0][0].inputs.model
    omega = {}
    for name in names:
        if model.parameter(name).omega2_scale != "log":
            raise ValueError(
                f"{name!r}: subject fits estimate log-scale parameters; this share varies on the "
                "logit scale"
            )
        value = (omega2 or {}).get(name, model.parameter(name).omega2)
        if not value > 0:
            raise ValueError(
                f"omega2 of {name!r}: got {value!r}; allowed: a between-subject variance > 0 (the "
                "model has none for this parameter: give omega2 in the calibration file)"
            )
        omega[name] = math.sqrt(value)
    rows, etas = [], {n: [] for n in names}
    sig = np.asarray(sigmas, dtype=float)
    log_typ = np.log([typical[n] for n in names])
    width = np.array([omega[n] for n in names])
    for subject, data in observations.groupby("subject", sort=True):
        single = IndividualObjective(scenario, names, data, errors)

        def posterior(v: np.ndarray, single: IndividualObjective = single) -> float:
            eta = (np.log(v) - log_typ) / width
            return single(np.concatenate([v, sig])) + 0.5 * float(eta @ eta)

        params = [
            FitParameter(
                n,
                typical[n] * math.exp(-PRIOR_SPAN * omega[n]),
                typical[n] * math.exp(PRIOR_SPAN * omega[n]),
                typical[n],
            )
            for n in names
        ]
        fit = maximum_likelihood(posterior, params, starts=starts, seed=seed)
        table = fit.table()
        for row in table.itertuples():
            eta = math.log(row.estimate / typical[row.parameter])
            etas[row.parameter].append(eta)
            rows.append(
                {
                    "subject": subject,
                    "parameter": row.parameter,
                    "estimate": row.estimate,
                    "lower_95": row.lower_95,
                    "upper_95": row.upper_95,
                    "eta": eta,
                    "samples": int((data["evid"] == 0).sum()),
                }
            )
    shrink = [
        {
            "parameter": n,
            "omega": omega[n],
            "sd_eta": float(np.std(etas[n], ddof=1)) if len(etas[n]) > 1 else float("nan"),
        }
        for n in names
    ]
    shrinkage = pd.DataFrame(shrink)
    shrinkage["shrinkage"] = 1.0 - shrinkage["sd_eta"] / shrinkage["omega"]
    return pd.DataFrame(rows), shrinkage
