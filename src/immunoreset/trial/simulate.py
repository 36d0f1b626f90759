"""Simulating the arms of a trial, chunk by chunk, on the run-directory design.

Each arm is its scenario run for the patients allocated to it: the engine receives, per chunk, the
parameters of those patients (between-patient variability from the patient's own stream, then the
covariate relations) and their dosing (per-kg doses use the patient's weight). With an output
folder, every arm is written as a run directory (``arms/<code>/``: ``run.json``, ``scenario.yaml``,
``trajectories.parquet/``, ``parameters.parquet/``) that ``immunoreset.read_run`` and
``immunoreset endpoints`` read. Only per-patient summaries stay in memory: endpoints, visit values
and the trajectories of the first ``band_patients`` patients of each arm (for kinetics bands), so
memory is bounded by the chunk size whatever the number of patients.

Follow-up ends at the patient's last day (dropout or end of study): the endpoint library sees only
the output times up to it, so visits after a dropout are missed and events after it censored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from immunoreset.endpoints import compute_endpoints
from immunoreset.population.sampling import sample_parameters
from immunoreset.runs import directory as rd
from immunoreset.runs.ahead import one_ahead
from immunoreset.runs.execute import run_description
from immunoreset.runs.inputs import RunInputs, prepare
from immunoreset.runs.interrupt import raise_if_requested
from immunoreset.runs.tables import patient_table, trajectory_table
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import simulate
from immunoreset.trial.datasets import LABS
from immunoreset.trial.load import Trial
from immunoreset.trial.outcomes import patient_outcomes
from immunoreset.trial.relations import apply_relations
from immunoreset.trial.streams import Purpose, derived_seed

BAND_PATIENTS = 500
"""Patients per arm whose whole trajectories are kept for the kinetics bands of the report."""

Progress = Callable[[int], None]
VISIT_KEYS = ("patient_id", "visit_day", "time")


@dataclass
class ArmOutput:
    """What one arm leaves in memory (every table has ``patient_id``)."""

    code: str
    outcomes: list[pd.DataFrame] = field(default_factory=list)
    patients: list[pd.DataFrame] = field(default_factory=list)
    visits: list[pd.DataFrame] = field(default_factory=list)
    bands: list[pd.DataFrame] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    n_failed: int = 0

    def table(self, name: str) -> pd.DataFrame:
        parts = getattr(self, name)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def arm_scenario(trial: Trial, code: str, size: int, overrides: dict[str, float]) -> Scenario:
    """The arm's scenario for ``size`` patients, with prior-drawn typical values if any."""
    scenario = trial.arms[code]
    params = {**overrides, **scenario.population.parameters}
    population = scenario.population.model_copy(update={"size": size, "parameters": params})
    return scenario.model_copy(update={"population": population})


def _visit_values(frame: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """The visit rows kept for the datasets: keys, then the laboratory values and scores of
    ADLB read at the visit's output time (the rest of the endpoint row is summarised already)."""
    keep = [c for c in LABS if c in visits.columns]
    rows = visits[[*VISIT_KEYS, *keep]]
    labs = [c for c in LABS if c in frame.columns and c not in keep]
    outputs = frame[["patient_id", "time", *labs]].drop_duplicates(["patient_id", "time"])
    return rows.merge(outputs, on=["patient_id", "time"], how="left")


def _chunk(
    trial: Trial,
    inputs: RunInputs,
    covariates: pd.DataFrame,
    replicate: int,
    stop: threading.Event | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Trajectories and patient table of the patients (rows) of ``covariates``: variability draws
    keyed by the patient, then the covariate relations, then the engine (per-kg doses use each
    patient's weight; ``stop``: see :func:`~immunoreset.simulate.simulate`)."""
    model = inputs.model
    ids = covariates["patient_id"].to_numpy(dtype=np.int64)
    seed = derived_seed(trial.design.seed, replicate, Purpose.PARAMETERS)
    params = sample_parameters(
        model, ids, seed, inputs.scenario.population.variability, inputs.overrides
    )
    params = apply_relations(params, covariates, trial.relations, model)
    batch = simulate(
        model,
        params,
        inputs.events(params),
        inputs.times,
        inputs.settings,
        inputs.t_start,
        ids,
        model.typical_parameters(inputs.overrides),
        stop,
    )
    return (
        trajectory_table(batch, inputs.outputs, inputs.output_index()),
        patient_table(batch, model.parameter_names),
    )


def simulate_arm(
    trial: Trial,
    code: str,
    subjects: pd.DataFrame,
    replicate: int = 0,
    overrides: dict[str, float] | None = None,
    chunk_size: int | None = None,
    run_dir: Path | None = None,
    progress: Progress | None = None,
    keep_bands: bool = True,
) -> ArmOutput:
    """Simulate the patients of arm ``code`` (rows of ``subjects``, sorted by ``patient_id``)."""
    arm = subjects[subjects["arm"] == code].sort_values("patient_id")
    scenario = arm_scenario(trial, code, max(1, len(arm)), overrides or {})
    inputs = prepare(scenario)
    size = chunk_size or trial.design.chunk_size
    last_day = arm.set_index("patient_id")["last_day"]
    out = ArmOutput(code)
    if run_dir is not None:
        run_dir.mkdir(parents=True)
        rd.prepare_tables(run_dir)
        text = yaml_text(scenario)
        rd.write_bytes_atomic(run_dir / rd.SCENARIO_FILE, text.encode("utf-8"))
    band_ids = set(arm["patient_id"].iloc[:BAND_PATIENTS]) if keep_bands else set()
    chunks = [arm.iloc[start : start + size] for start in range(0, len(arm), size)]

    def compute(rows: pd.DataFrame, stop: threading.Event | None) -> tuple[pa.Table, pa.Table]:
        return _chunk(trial, inputs, rows, replicate, stop)

    with closing(one_ahead(compute, chunks)) as simulated:
        for index, (rows, (traj, pat)) in enumerate(simulated):
            raise_if_requested()
            if run_dir is not None:
                rd.write_chunk(run_dir, index, {rd.TRAJECTORIES: traj}, pat)
            frame = traj.to_pandas()
            frame = frame[frame["time"] <= frame["patient_id"].map(last_day) + 1e-9]
            status = pat.select(["patient_id", "status", "status_message"]).to_pandas()
            with np.errstate(all="ignore"):
                ends = compute_endpoints(frame, trial.endpoint_config, status=status)
            out.notes.update(n for n in ends.notes if not n.startswith("visit day"))
            out.outcomes.append(patient_outcomes(ends, trial.design, last_day))
            out.patients.append(ends.patient.merge(status, on="patient_id"))
            out.visits.append(_visit_values(frame, ends.visits))
            if band_ids:
                out.bands.append(frame[frame["patient_id"].isin(band_ids)])
            out.n_failed += int((status["status"] != 0).sum())
            if progress is not None:
                progress(len(rows))
    if run_dir is not None:
        meta = run_description(inputs, "complete", -(-len(arm) // size), out.n_failed, 0.0)
        meta["derived"].update(chunk_size=size, n_chunks=-(-len(arm) // size))
        rd.write_json_atomic(run_dir / rd.RUN_FILE, meta)
    return out


def yaml_text(scenario: Scenario) -> str:
    """The scenario as YAML, as a run directory keeps it."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
