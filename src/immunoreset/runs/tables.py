"""Result tables of a run, built chunk by chunk from the engine's batches.

* trajectories: long in time, wide in outputs: ``patient_id``, ``time`` (day) and one column per
  output in its own unit. Units travel with the data: each Parquet field carries ``unit`` and
  ``description`` metadata, and a pandas frame carries them in ``frame.attrs["units"]``.
* patients: one row per patient: ``patient_id``, ``status`` (0 = ok), ``status_message``, solver
  statistics, then every model parameter by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from immunoreset.observables import OBSERVABLES
from immunoreset.runs.directory import TRAJECTORIES
from immunoreset.simulate.engine import BatchResult

if TYPE_CHECKING:
    import pandas as pd

    from immunoreset.runs.inputs import RunInputs

PATIENT = "patient_id"
TIME = "time"
STATUS_COLUMNS = (
    "status",
    "status_message",
    "steps_accepted",
    "steps_rejected",
    "switch_crossings",
)
TIME_UNIT = "day"


def output_units(outputs: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {name: OBSERVABLES[name].unit for name in outputs}


def trajectory_schema(outputs: tuple[str, ...]) -> pa.Schema:
    """Arrow schema of the trajectories, with unit metadata on every field."""
    fields = [
        pa.field(PATIENT, pa.int64(), metadata={"unit": "id", "description": "patient id"}),
        pa.field(
            TIME, pa.float64(), metadata={"unit": TIME_UNIT, "description": "day 0 = infusion"}
        ),
    ]
    for name in outputs:
        obs = OBSERVABLES[name]
        fields.append(
            pa.field(
                name, pa.float64(), metadata={"unit": obs.unit, "description": obs.description}
            )
        )
    return pa.schema(fields)


def numeric_array(values: np.ndarray) -> pa.Array:
    """An Arrow array over a 1-D int64 or float64 numpy array, without nulls.

    Built from the buffer directly: ``pa.array`` would import pandas (about 0.3 s) on its first
    call just to ask whether the input is a pandas object, and a run writes no pandas.
    """
    values = np.ascontiguousarray(values)
    kind = {np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def string_array(texts: list[str]) -> pa.Array:
    """An Arrow UTF-8 array of ``texts`` (no nulls), built from buffers for the same reason."""
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), data])


def trajectory_table(batch: BatchResult, outputs: tuple[str, ...], keep: list[int]) -> pa.Table:
    n, t = len(batch.patient_ids), len(batch.times)
    columns = [
        numeric_array(np.repeat(batch.patient_ids.astype(np.int64), t)),
        numeric_array(np.tile(batch.times.astype(np.float64), n)),
    ]
    columns += [numeric_array(batch.values[:, :, j].reshape(-1)) for j in keep]
    return pa.Table.from_arrays(columns, schema=trajectory_schema(outputs))


def patient_table(batch: BatchResult, parameter_names: tuple[str, ...]) -> pa.Table:
    """One row per patient: id, status and message, solver statistics, every parameter."""
    columns = {
        PATIENT: numeric_array(batch.patient_ids.astype(np.int64)),
        "status": numeric_array(batch.status.astype(np.int64)),
        "status_message": string_array([batch.status_message(i) for i in range(len(batch.status))]),
        "steps_accepted": numeric_array(batch.stats[:, 0].astype(np.int64)),
        "steps_rejected": numeric_array(batch.stats[:, 1].astype(np.int64)),
        "switch_crossings": numeric_array(batch.stats[:, 2].astype(np.int64)),
    }
    for j, name in enumerate(parameter_names):
        columns[name] = numeric_array(batch.params[:, j].astype(np.float64))
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def with_units(frame: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """``frame`` with ``attrs["units"]`` naming the unit of the key columns and every output."""
    frame.attrs["units"] = {PATIENT: "id", TIME: TIME_UNIT} | dict(units)
    return frame


def units_of_schema(schema: pa.Schema) -> dict[str, str]:
    """Units read back from Parquet field metadata (fields without metadata are skipped)."""
    out = {}
    for field in schema:
        meta = field.metadata or {}
        if b"unit" in meta:
            out[field.name] = meta[b"unit"].decode("utf-8")
    return out


@dataclass(frozen=True)
class ChunkTables:
    """The result tables of one chunk of patients, ready to be written: ``tables`` by folder
    (the trajectories, or the endpoint tables of a run that keeps endpoints) and ``patients``."""

    index: int
    tables: dict[str, pa.Table]
    patients: pa.Table
    n_patients: int
    n_failed: int


def chunk_tables(inputs: RunInputs, index: int, batch: BatchResult) -> ChunkTables:
    """Tables of chunk ``index`` from its engine batch; a run that keeps endpoints scores the
    chunk here and keeps no trajectories (:mod:`immunoreset.endpoints.store`)."""
    trajectories = trajectory_table(batch, inputs.outputs, inputs.output_index())
    patients = patient_table(batch, inputs.model.parameter_names)
    return ChunkTables(
        index=index,
        tables=kept_tables(inputs, trajectories, patients),
        patients=patients,
        n_patients=len(batch.patient_ids),
        n_failed=int(np.count_nonzero(batch.status)),
    )


def kept_tables(
    inputs: RunInputs, trajectories: pa.Table, patients: pa.Table
) -> dict[str, pa.Table]:
    """What a run directory keeps of a chunk besides its patient table, by folder: the
    trajectories, or (``store: endpoints``) the chunk's endpoint tables, in which its failed
    patients are not evaluable."""
    if not inputs.keeps_endpoints:
        return {TRAJECTORIES: trajectories}
    from immunoreset.endpoints.compute import compute_endpoints
    from immunoreset.endpoints.store import arrow_tables

    status = patients.select([PATIENT, "status", "status_message"]).to_pandas()
    config = inputs.scenario.endpoint_config()
    with np.errstate(all="ignore"):
        ends = compute_endpoints(trajectories.to_pandas(), config, status)
    return arrow_tables(ends)
