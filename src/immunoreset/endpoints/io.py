"""Reading a run's trajectories and writing its endpoint tables.

A run folder holds ``trajectories.parquet`` (the result table written by ``immunoreset simulate``)
and ``parameters.parquet`` (each patient's status: failed patients are not evaluable).
The endpoints are written next to it, or to another folder, as CSV files that open anywhere:
``endpoints_patient.csv``, ``endpoints_visits.csv``, ``endpoints_columns.csv`` (units and meaning
of every column) and ``endpoints_notes.txt`` (what was skipped and why). Each file is written
atomically, so an interrupted run never leaves a half-written table behind.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from immunoreset.clinical.csvio import write_text_atomic
from immunoreset.endpoints.compute import Endpoints

TRAJECTORIES = "trajectories.parquet"
PATIENT_FILE = "endpoints_patient.csv"
VISITS_FILE = "endpoints_visits.csv"
COLUMNS_FILE = "endpoints_columns.csv"
NOTES_FILE = "endpoints_notes.txt"


STATUS = "parameters.parquet"
STATUS_COLUMNS = ["patient_id", "status", "status_message"]


def read_trajectories(run_dir: str | Path) -> pd.DataFrame:
    """The result table of the run in ``run_dir`` (``run_dir/trajectories.parquet``)."""
    return pd.read_parquet(Path(run_dir) / TRAJECTORIES)


def read_status(run_dir: str | Path) -> pd.DataFrame | None:
    """Each patient's simulation status (``run_dir/parameters.parquet``), or None if absent."""
    path = Path(run_dir) / STATUS
    if not path.exists():
        return None
    return pd.read_parquet(path, columns=STATUS_COLUMNS)


def write_endpoints(endpoints: Endpoints, out_dir: str | Path) -> list[Path]:
    """Write the endpoint tables, data dictionary and notes to ``out_dir``; return the paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        PATIENT_FILE: endpoints.patient.to_csv(index=False, lineterminator="\n"),
        VISITS_FILE: endpoints.visits.to_csv(index=False, lineterminator="\n"),
        COLUMNS_FILE: endpoints.columns.to_csv(index=False, lineterminator="\n"),
        NOTES_FILE: "".join(f"{note}\n" for note in endpoints.notes),
    }
    for name, text in texts.items():
        write_text_atomic(folder / name, text)
    return [folder / name for name in texts]
