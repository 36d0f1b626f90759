"""Diagnostics of a fit, as tables: target fit, predictions and residuals, visual predictive check,
sensitivity at the estimate, verification of the numerics, validation against external data.

Each is a plain function returning a DataFrame, so the credibility report
(:mod:`immunoreset.report.credibility`) and a notebook read the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from immunoreset.calibrate.cohort import Cohort
from immunoreset.calibrate.config import SensitivitySpec
from immunoreset.calibrate.data import MediansAtTimes, Target
from immunoreset.calibrate.fit import FitParameter
from immunoreset.calibrate.objective import IndividualObjective, SummaryObjective, target_quantity
from immunoreset.calibrate.quantities import QuantitySeries, per_patient
from immunoreset.observables import OBSERVABLES
from immunoreset.runs.inputs import prepare
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import SolverSettings, simulate
from immunoreset.simulate.reference import solve_reference

PERCENTILES = (5, 50, 95)
VERIFICATION_RTOL = 1e-10
REFERENCE_RTOL = 1e-12
VERIFICATION_TOLERANCE = 1e-4
"""Largest relative difference accepted between the engine (rtol = atol = 1e-10) and SciPy's LSODA
(1e-12) on outputs above the comparison floor: both errors are far below it. Both run this tight
because a pool that grows from nothing (CAR cells after infusion) is resolved only to the absolute
tolerance while it is tiny, and keeps that early relative error while it grows by orders of
magnitude: at 1e-8 the integrated model's exhausted CAR pool differs by 5e-4 on day 2, an effect
of the tolerance, not of the code this check verifies."""


def observed_text(target: Target) -> str:
    """The published statistic in a few words, e.g. ``mean 110, sd 32 (n = 5)``."""
    parts = []
    for name, grade, time, value in target.rows():
        label = name if grade is None else f"{name} {grade}"
        label += f" at day {time:g}" if time is not None else ""
        parts.append(f"{label} {value:g}")
    size = f"n = {target.n}" if target.n is not None else "n not given"
    return f"{target.statistic}: {', '.join(parts)} ({size})"


def target_table(summary: SummaryObjective, values: np.ndarray) -> pd.DataFrame:
    """Each summary target: the published statistic, the fitted cohort's summary, log-likelihood."""
    table = summary.contributions(values)
    by_id = {t.id: t for t, _ in summary.pairs}
    table["observed"] = [observed_text(by_id[i]) for i in table["target"]]
    table["study"] = [by_id[i].study for i in table["target"]]
    table["source"] = [by_id[i].source for i in table["target"]]
    return table


def prediction_table(individual: IndividualObjective, values: np.ndarray) -> pd.DataFrame:
    """Observations with the fitted typical prediction and the residual (log ratio for the
    log-normal error model, difference otherwise)."""
    pred = individual.predictions(values)
    kinds = {e.observable: e.kind for e in individual.errors}
    log = pred["name"].map(kinds) == "lognormal"
    ratio = np.log(pred["value"].to_numpy(float) / pred["pred"].to_numpy(float))
    diff = (pred["value"] - pred["pred"]).to_numpy(float)
    pred["residual"] = np.where(log.to_numpy(), ratio, diff)
    columns = ["subject", "time", "name", "value", "unit", "blq", "lloq", "pred", "residual"]
    return pred[columns].reset_index(drop=True)


def vpc_table(
    scenario: Scenario, names: Sequence[str], values: np.ndarray, observables: Sequence[str]
) -> pd.DataFrame:
    """5th, 50th and 95th percentiles of the fitted cohort over the output grid, per observable."""
    traj = Cohort(scenario, names)(values)
    ok = traj.status == 0
    frames = []
    for name in dict.fromkeys(observables):
        series = traj.series(name)[ok]
        if not len(series):
            continue
        p = np.percentile(series, PERCENTILES, axis=0)
        frames.append(
            pd.DataFrame({"name": name, "time": traj.times, "p05": p[0], "p50": p[1], "p95": p[2]})
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _at(scenario: Scenario, estimates: Mapping[str, float]) -> Scenario:
    """``scenario`` with the estimates as its typical values."""
    pop = scenario.population
    merged = dict(pop.parameters) | {k: float(v) for k, v in estimates.items()}
    return scenario.model_copy(update={"population": pop.model_copy(update={"parameters": merged})})


def sensitivity_tables(
    scenario: Scenario, estimates: Mapping[str, float], spec: SensitivitySpec,
    parameters: Sequence[FitParameter],
) -> tuple[pd.DataFrame | None, pd.DataFrame]:  # fmt: skip
    """Global (Morris or Sobol over the fit's bounds) and local sensitivities at the estimate."""
    from immunoreset.calibrate import sensitivity as sa

    at = _at(scenario, estimates)
    typical = at.population.model_copy(update={"size": 1, "variability": False})
    at = at.model_copy(update={"population": typical})
    names = [p.name for p in parameters]
    local = sa.local_sensitivity(at, names, list(spec.outputs))
    if spec.method == "local":
        return None, local
    bounds = {p.name: (p.lower, p.upper) for p in parameters}
    log = {p.name: p.log for p in parameters}
    n = spec.trajectories if spec.method == "morris" else spec.n
    table = sa.global_sensitivity(
        at, names, list(spec.outputs), method=spec.method, n=n, seed=spec.seed, bounds=bounds,
        log=log,
    )  # fmt: skip
    table.insert(0, "method", spec.method)
    return table, local


def verification_table(scenario: Scenario, estimates: Mapping[str, float]) -> pd.DataFrame:
    """Code verification at the calibrated typical patient: the engine (rtol 1e-10) against SciPy's
    LSODA (rtol 1e-12) on every output, and units declared for every output and parameter."""
    at = _at(scenario, estimates)
    inputs = prepare(at.model_copy(update={"population": at.population.model_copy(
        update={"size": 1, "variability": False})}))  # fmt: skip
    model = inputs.model
    params = inputs.parameters(np.arange(1))
    events = inputs.events(params)
    settings = SolverSettings(rtol=VERIFICATION_RTOL, atol=VERIFICATION_RTOL)
    res = simulate(model, params, events, inputs.times, settings, inputs.t_start)
    ref = solve_reference(
        model, params[0], inputs.t_start, events.for_patient(0), inputs.times,
        REFERENCE_RTOL, REFERENCE_RTOL,
    )  # fmt: skip
    floor = 1e-3
    engine = res.values[0]
    scale = np.maximum(np.abs(ref), floor)
    rel = np.nanmax(np.abs(engine - ref) / scale, axis=0)
    worst = int(np.nanargmax(rel))
    rows = [
        {
            "check": "engine vs independent solver",
            "quantity": "max relative difference over all outputs and times",
            "value": float(rel[worst]),
            "tolerance": VERIFICATION_TOLERANCE,
            "passed": bool(rel[worst] <= VERIFICATION_TOLERANCE),
            "detail": (
                f"Rosenbrock engine rtol {VERIFICATION_RTOL:g} vs SciPy LSODA rtol "
                f"{REFERENCE_RTOL:g}, typical patient, {len(inputs.times)} output times; worst "
                f"output {model.observables[worst]} (values below {floor:g} compared absolutely)"
            ),
        }
    ]
    missing = [o for o in model.observables if not OBSERVABLES[o].unit]
    no_unit = [p.name for p in model.parameters if not p.unit]
    rows.append(
        {
            "check": "units declared",
            "quantity": "outputs and parameters without a unit",
            "value": float(len(missing) + len(no_unit)),
            "tolerance": 0.0,
            "passed": not missing and not no_unit,
            "detail": ", ".join(missing + no_unit) or "every output and parameter has a unit",
        }
    )
    status = int(res.status[0])
    rows.append(
        {
            "check": "integration status",
            "quantity": "engine status of the typical patient (0 = ok)",
            "value": float(status),
            "tolerance": 0.0,
            "passed": status == 0,
            "detail": res.status_message(0),
        }
    )
    return pd.DataFrame(rows)


def validation_table(
    scenario: Scenario, names: Sequence[str], values: np.ndarray, targets: Sequence[Target],
    use: Mapping[str, str],
) -> pd.DataFrame:  # fmt: skip
    """External targets the fit did not use: the fitted cohort's prediction (median and 5-95 %
    range of the per-patient quantity) against the published central value."""
    by_id = {t.id: t for t in targets}
    unknown = sorted(set(use) - set(by_id))
    if unknown:
        raise ValueError(
            f"validation: targets {unknown} are not in the file; allowed: {sorted(by_id)}"
        )
    traj = Cohort(scenario, names)(values)
    first_dose = prepare(scenario).regimen.first_day
    rows = []
    for target_id, text in use.items():
        target = by_id[target_id]
        q = target_quantity(target, text)
        sim = per_patient(traj, q, first_dose) / target.model_factor
        if isinstance(q, QuantitySeries) and isinstance(target, MediansAtTimes):
            for j, (part, median) in enumerate(zip(q.parts, target.medians, strict=True)):
                rows.append(_validation_row(target, str(part), median, sim[:, j]))
        else:
            rows.append(_validation_row(target, text, _central(target), sim))
    return pd.DataFrame(rows)


def _validation_row(target: Target, quantity: str, centre: float, sim: np.ndarray) -> dict:
    sim = sim[np.isfinite(sim)]
    p05, p50, p95 = np.percentile(sim, PERCENTILES) if len(sim) else (np.nan,) * 3
    return {
        "dataset": f"{target.id} ({target.study})",
        "quantity": quantity,
        "observed": centre,
        "observed_text": observed_text(target),
        "predicted": float(p50),
        "predicted_p05": float(p05),
        "predicted_p95": float(p95),
        "within_interval": bool(p05 <= centre <= p95) if np.isfinite(centre) else False,
    }


def _central(target: Target) -> float:
    """The statistic's central number (mean, median, value), or NaN when it has none."""
    for name in ("mean", "median", "value"):
        if hasattr(target, name):
            return float(getattr(target, name))
    return float("nan")
