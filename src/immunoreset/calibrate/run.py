"""One calibration, end to end: read the file and the data, fit, diagnose, write the folder.

:func:`run_calibration` returns a :class:`Calibration` (tables as pandas DataFrames, for a notebook);
:func:`write_calibration` writes it as a folder that the credibility report
(:mod:`immunoreset.report.credibility`) reads:

| file | content |
|---|---|
| ``calibration.json`` | title, scenario, model, method, starts, seed, objective, notes, versions |
| ``estimates.csv`` | estimate and 95 % interval of each parameter (:meth:`FitResult.table`) |
| ``convergence.csv`` / ``correlation.csv`` | every start; correlation of the estimates |
| ``targets.csv`` | each summary target: observed statistic, the fitted cohort's summary, log-likelihood |
| ``predictions.csv`` | individual observations with the fitted prediction and residual |
| ``vpc.csv`` | 5th/50th/95th percentiles of the fitted cohort over time for each observed output |
| ``profiles.csv`` | profile likelihood of each parameter (``profiles: true``) |
| ``subjects.csv`` / ``shrinkage.csv`` | per-subject MAP estimates; eta shrinkage (``per_subject``) |
| ``sensitivity.csv`` / ``local_sensitivity.csv`` | sensitivity of chosen outputs at the estimate |
| ``verification.csv`` | engine against an independent solver; units declared |
| ``validation.csv`` | external targets not used in the fit: predicted against observed |
| ``calibrated.csv`` | the estimates as a parameter table (name, value, unit, source = this fit) |
| ``calibration.yaml`` | the calibration file as given; ``report.html`` the credibility report |
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from immunoreset.calibrate import diagnostics
from immunoreset.calibrate.config import CalibrationConfig, bounds_of, load_config, resolve
from immunoreset.calibrate.data import load_shipped_targets, read_observations, read_targets
from immunoreset.calibrate.fit import (
    FitParameter,
    FitResult,
    maximum_likelihood,
    profile_likelihood,
)
from immunoreset.calibrate.objective import IndividualObjective, SummaryObjective
from immunoreset.calibrate.subjects import fit_subjects
from immunoreset.files import abandon_folder, begin_folder, finish_folder
from immunoreset.model.core import Model
from immunoreset.runs.execute import package_versions
from immunoreset.scenario.load import load_scenario, model_of
from immunoreset.scenario.schema import Scenario

CALIBRATION_FILE = "calibration.json"
Progress = Callable[[str], None]


@dataclass
class Calibration:
    """Everything one calibration produced, as tables."""

    config: CalibrationConfig
    scenario: Scenario
    model: Model
    fit: FitResult
    targets: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    vpc: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
    subjects: pd.DataFrame | None = None
    shrinkage: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    local_sensitivity: pd.DataFrame | None = None
    verification: pd.DataFrame | None = None
    validation: pd.DataFrame | None = None
    data: dict[str, str | None] = field(default_factory=dict)
    text: str = ""
    objective: Callable[[np.ndarray], float] | None = None
    """The fit's -log L at other values of the fitted parameters (in ``fit.names`` order), e.g.
    to ask whether given values lie in the likelihood-ratio confidence region of the estimate."""

    @property
    def estimates(self) -> pd.DataFrame:
        return self.fit.table()

    def calibrated_parameters(self) -> pd.DataFrame:
        """The estimates as rows of a parameter table, with this fit as their source."""
        table = self.fit.table().set_index("parameter")
        rows = []
        for name in self.fit.names:
            if ":" in name:  # residual error SDs are not model parameters
                continue
            p = self.model.parameter(name)
            lo, hi = table.loc[name, ["lower_95", "upper_95"]]
            rows.append(
                {
                    "name": name,
                    "value": float(table.loc[name, "estimate"]),
                    "unit": p.unit,
                    "previous_value": p.value,
                    "lower_95": float(lo),
                    "upper_95": float(hi),
                    "source": f"calibrated: {self.config.title}",
                }
            )
        return pd.DataFrame(rows)


def _parameters(
    config: CalibrationConfig, model: Model, sigma_names: list[str]
) -> list[FitParameter]:
    out = []
    for spec in config.parameters:
        p = model.parameter(spec.name)
        lower, upper = bounds_of(spec, (p.prior_low, p.prior_high), p.value)
        initial = spec.initial if spec.initial is not None else min(max(p.value, lower), upper)
        out.append(FitParameter(p.name, lower, upper, initial, spec.log))
    if config.observations is not None:
        lo, hi = config.observations.sigma_bounds
        out += [FitParameter(name, lo, hi, None, True) for name in sigma_names]
    return out


def _targets(file: str, base: Path) -> list:
    if file.startswith("shipped:"):
        return load_shipped_targets(file.removeprefix("shipped:"))
    return read_targets(resolve(base, file))


def run_calibration(
    config: CalibrationConfig | str | Path, base: Path | None = None,
    progress: Progress | None = None,
) -> Calibration:  # fmt: skip
    """Run the calibration described by ``config`` (a file, or a parsed config with the folder its
    paths are relative to) and return its tables."""
    text = ""
    if not isinstance(config, CalibrationConfig):
        text = Path(config).read_text(encoding="utf-8")
        config, base = load_config(config)
    base = base or Path.cwd()
    say = progress or (lambda _msg: None)
    scenario = load_scenario(resolve(base, config.scenario))
    cohort_scenario = _with_cohort(scenario, config)
    model = model_of(scenario)
    names = [p.name for p in config.parameters]
    for name in names:
        model.parameter(name)  # an unknown name raises with the list of parameters
    parts: list[Callable[[np.ndarray], float]] = []
    summary = individual = None
    observations = None
    data: dict[str, str | None] = {"observations": None, "targets": None}
    if config.targets is not None:
        targets = _targets(config.targets.file, base)
        summary = SummaryObjective(cohort_scenario, names, targets, config.targets.use)
        data["targets"] = config.targets.file
    sigma_names: list[str] = []
    if config.observations is not None:
        observations = read_observations(resolve(base, config.observations.file))
        individual = IndividualObjective(scenario, names, observations, config.observations.error)
        sigma_names = list(individual.error_parameter_names)
        data["observations"] = config.observations.file
    k = len(names)
    if summary is not None:
        parts.append(lambda v: summary(v[:k]))
    if individual is not None:
        parts.append(individual)

    def nll(values: np.ndarray) -> float:
        return float(sum(part(values) for part in parts))

    def batch(rows: np.ndarray) -> np.ndarray:
        """The objective at several points; the summary part from one engine batch (used for
        the finite-difference gradients of L-BFGS-B or TNC)."""
        out = np.zeros(len(rows))
        if summary is not None:
            out += summary.batch(rows[:, :k])
        if individual is not None:
            out += np.array([individual(r) for r in rows])
        return out

    parameters = _parameters(config, model, sigma_names)
    say(f"fitting {len(parameters)} parameters from {config.fit.starts} starts")
    fit = maximum_likelihood(
        nll, parameters, starts=config.fit.starts, seed=config.fit.seed,
        method=config.fit.method, max_evaluations=config.fit.max_evaluations, batch=batch,
        progress=lambda i, s: say(f"start {i + 1}/{config.fit.starts}: -log L = {s.nll:.4g}"),
    )  # fmt: skip
    result = Calibration(config, scenario, model, fit, data=data, text=text, objective=nll)
    model_values = fit.estimate[:k]
    if summary is not None:
        result.targets = diagnostics.target_table(summary, model_values)
    if individual is not None:
        result.predictions = diagnostics.prediction_table(individual, fit.estimate)
    obs_spec = config.observations
    if obs_spec is not None and obs_spec.per_subject:
        say("per-subject fits")
        result.subjects, result.shrinkage = fit_subjects(
            scenario, dict(zip(names, model_values, strict=True)), observations,
            obs_spec.error, fit.estimate[k:], obs_spec.omega2, seed=config.fit.seed,
        )  # fmt: skip
    observed = sorted(observations["name"].unique()) if observations is not None else []
    quantities = sorted({q.observable for _, q in summary.pairs}) if summary else []
    say("visual predictive check")
    result.vpc = diagnostics.vpc_table(cohort_scenario, names, model_values, observed + quantities)
    if config.profiles:
        say("profile likelihoods")
        result.profiles = pd.concat(
            [profile_likelihood(nll, fit, p.name) for p in parameters], ignore_index=True
        )
    if config.sensitivity is not None:
        say(f"sensitivity ({config.sensitivity.method})")
        result.sensitivity, result.local_sensitivity = diagnostics.sensitivity_tables(
            scenario,
            dict(zip(names, model_values, strict=True)),
            config.sensitivity,
            parameters[:k],
        )
    say("verification")
    result.verification = diagnostics.verification_table(
        scenario, dict(zip(names, model_values, strict=True))
    )
    if config.validation is not None:
        external = _targets(config.validation.file, base)
        result.validation = diagnostics.validation_table(
            cohort_scenario, names, model_values, external, config.validation.use
        )
    return result


def _with_cohort(scenario: Scenario, config: CalibrationConfig) -> Scenario:
    """The scenario whose population is the calibration's virtual cohort (variability on)."""
    population = scenario.population.model_copy(
        update={"size": config.cohort.size, "seed": config.cohort.seed, "variability": True}
    )
    return scenario.model_copy(update={"population": population})


def _meta(result: Calibration) -> dict:
    fit, config = result.fit, result.config
    rows = []
    for p in fit.parameters:
        row = {"name": p.name, "lower": p.lower, "upper": p.upper, "log": p.log,
               "initial": p.initial, "unit": "", "meaning": "residual error SD", "source": ""}  # fmt: skip
        if ":" not in p.name:
            mp = result.model.parameter(p.name)
            row |= {"unit": mp.unit, "meaning": mp.meaning, "source": mp.source}
        rows.append(row)
    return {
        "schema": 1,
        "title": config.title,
        "question": config.question,
        "context_of_use": config.context_of_use,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": result.scenario.name,
        "model": result.model.name,
        "method": config.fit.method,
        "starts": config.fit.starts,
        "seed": config.fit.seed,
        "nll": fit.nll,
        "n_converged": fit.n_converged,
        "notes": list(fit.notes),
        "versions": package_versions(),
        "data": result.data,
        "parameters": rows,
    }


def write_calibration(
    result: Calibration, out: str | Path, overwrite: bool = False, report: bool = True
) -> Path:
    """Write ``result`` as a calibration folder (built aside, then moved into place; ``overwrite``
    replaces only an earlier calibration folder)."""
    out = Path(out)
    work = begin_folder(out, CALIBRATION_FILE, "calibration", overwrite)
    try:
        tables = {
            "estimates": result.fit.table(),
            "convergence": result.fit.convergence(),
            "targets": result.targets,
            "predictions": result.predictions,
            "vpc": result.vpc,
            "profiles": result.profiles,
            "subjects": result.subjects,
            "shrinkage": result.shrinkage,
            "sensitivity": result.sensitivity,
            "local_sensitivity": result.local_sensitivity,
            "verification": result.verification,
            "validation": result.validation,
            "calibrated": result.calibrated_parameters(),
        }
        for name, table in tables.items():
            if table is not None:
                table.to_csv(work / f"{name}.csv", index=False)
        result.fit.correlation().to_csv(work / "correlation.csv")
        if result.text:
            (work / "calibration.yaml").write_text(result.text, encoding="utf-8")
        meta = json.dumps(_meta(result), indent=2, default=str)
        (work / CALIBRATION_FILE).write_text(meta, encoding="utf-8")
        if report:
            from immunoreset.report.credibility import write_credibility_report

            write_credibility_report(work)
        finish_folder(work, out, CALIBRATION_FILE)
    except BaseException:
        abandon_folder(work)
        raise
    return out
