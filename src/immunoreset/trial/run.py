"""Running a scenario: population -> dosing events -> engine -> result tables on disk.

The run directory holds:

``scenario.yaml``       the scenario exactly as given;
``run.json``            metadata: package versions, seed, solver settings, timings, failures;
``parameters.parquet``  one row per patient: id, status, reason, solver statistics, parameters;
``trajectories.parquet`` long table ``patient_id, time`` plus one column per output (own units);
``plots/*.png``         median and 5-95 % band of each plotted output.

Tables are written chunk by chunk, so memory is bounded by the chunk size, not the population.

Everything is written to a temporary sibling directory first and moved into place only when the run
finished, so a crash or a bad input never leaves a half-written run or damages an earlier one.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from immunoreset import __version__
from immunoreset.observables import unit_of
from immunoreset.population.sampling import sample_parameters
from immunoreset.scenario.load import (
    model_of,
    output_times,
    parameter_overrides,
    product_dose,
    regimen,
)
from immunoreset.scenario.schema import Scenario
from immunoreset.simulate.engine import BatchResult, SolverSettings, simulate_chunks
from immunoreset.therapy.regimen import dosing_events

_VERSIONED = ("numpy", "scipy", "numba", "pandas", "pyarrow", "pydantic", "matplotlib")
WEIGHT_PARAMETER = "weight_kg"
DEFAULT_WEIGHT_KG = 70.0


@dataclass
class RunSummary:
    out_dir: Path
    n_patients: int
    n_failed: int
    seconds: float


def _versions() -> dict[str, str]:
    out = {"immunoreset": __version__, "python": sys.version.split()[0]}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "not installed"
    return out


def _trajectory_table(batch: BatchResult, keep: list[int], names: list[str]) -> pa.Table:
    n, t = len(batch.patient_ids), len(batch.times)
    cols: dict[str, np.ndarray] = {
        "patient_id": np.repeat(batch.patient_ids.astype(np.int64), t),
        "time": np.tile(batch.times, n),
    }
    for j, name in zip(keep, names, strict=True):
        cols[name] = batch.values[:, :, j].reshape(-1)
    return pa.table(cols)


def _parameter_table(batch: BatchResult, param_names: tuple[str, ...]) -> pd.DataFrame:
    df = pd.DataFrame(batch.params, columns=list(param_names))
    df.insert(0, "patient_id", batch.patient_ids.astype(np.int64))
    df.insert(1, "status", batch.status.astype(np.int64))
    df.insert(2, "status_message", [batch.status_message(i) for i in range(len(batch.status))])
    df.insert(3, "steps_accepted", batch.stats[:, 0].astype(np.int64))
    df.insert(4, "steps_rejected", batch.stats[:, 1].astype(np.int64))
    df.insert(5, "switch_crossings", batch.stats[:, 2].astype(np.int64))
    return df


def run_scenario(
    scenario: Scenario,
    scenario_text: str,
    out_dir: Path,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    plots: bool = True,
) -> RunSummary:
    """Simulate ``scenario`` and write the run directory ``out_dir`` atomically.

    Raises ``FileExistsError`` if ``out_dir`` exists and ``overwrite`` is false.
    ``progress(n)`` is called after each chunk with the number of patients just finished.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"output directory {out_dir} exists; pass --overwrite to replace it")
    model = model_of(scenario)
    t_out = output_times(scenario)
    names = list(scenario.outputs or model.observables)
    keep = [model.observables.index(n) for n in names]
    overrides = parameter_overrides(scenario)
    pop = scenario.population
    dose = product_dose(scenario)
    reg = regimen(scenario)
    w_index = model.parameter_names.index(WEIGHT_PARAMETER) if WEIGHT_PARAMETER in (
        model.parameter_names) else None  # fmt: skip

    def make_params(ids: np.ndarray) -> np.ndarray:
        return sample_parameters(model, ids, pop.seed, pop.variability, overrides)

    def make_events(params: np.ndarray):
        weights = params[:, w_index] if w_index is not None else np.full(
            len(params), DEFAULT_WEIGHT_KG)  # fmt: skip
        return dosing_events(model, dose, reg, weights)

    settings = SolverSettings(
        method=scenario.solver.method,
        rtol=scenario.solver.rtol,
        atol=scenario.solver.atol,
        max_steps=scenario.solver.max_steps,
    )
    t_start = min(float(t_out[0]), reg.first_day)
    # Chunks small enough to report progress about 20 times, never above the memory bound.
    chunk = max(1, min(scenario.chunk_size, math.ceil(pop.size / 20)))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes the directory private; a run is an ordinary one
    started = time.perf_counter()
    try:
        (tmp / "scenario.yaml").write_text(scenario_text, encoding="utf-8")
        writer: pq.ParquetWriter | None = None
        param_writer: pq.ParquetWriter | None = None
        n_failed = 0
        for batch in simulate_chunks(model, pop.size, make_params, make_events, t_out, settings,
                                     chunk, t_start):  # fmt: skip
            table = _trajectory_table(batch, keep, names)
            if writer is None:
                writer = pq.ParquetWriter(tmp / "trajectories.parquet", table.schema)
            writer.write_table(table)
            params = pa.Table.from_pandas(
                _parameter_table(batch, model.parameter_names), preserve_index=False
            )
            if param_writer is None:
                param_writer = pq.ParquetWriter(tmp / "parameters.parquet", params.schema)
            param_writer.write_table(params)
            n_failed += int(np.count_nonzero(batch.status))
            if progress is not None:
                progress(len(batch.patient_ids))
        assert writer is not None and param_writer is not None
        writer.close()
        param_writer.close()
        seconds = time.perf_counter() - started
        meta = {
            "scenario": scenario.model_dump(mode="json"),
            "model": {"name": model.name, "title": model.title, "reference": model.reference},
            "versions": _versions(),
            "platform": platform.platform(),
            "seed": pop.seed,
            "n_patients": pop.size,
            "n_failed": n_failed,
            "solver": settings.as_dict() | {"h_max": str(settings.h_max)},
            "integration_start_day": t_start,
            "output_units": {n: unit_of(n) for n in names},
            "chunk_size": chunk,
            "seconds": round(seconds, 3),
        }
        (tmp / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if plots:
            from immunoreset.report.plots import plot_run

            plot_run(tmp, [n for n in model.default_plots if n in names])
        _commit(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunSummary(out_dir, pop.size, n_failed, seconds)


def _commit(tmp: Path, out_dir: Path) -> None:
    """Move the finished run into place; an existing run is replaced only after success."""
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out_dir)
