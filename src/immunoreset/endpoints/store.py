"""Endpoint tables as typed Arrow tables, for runs that keep endpoints instead of trajectories.

A population of a million patients has far too many output values to keep (two years of daily
outputs of the integrated model are about 300 GB), while its endpoints fit in memory. A run with
``store: endpoints`` therefore scores every chunk as soon as it is simulated and writes three
Parquet tables per chunk, one file per chunk like the trajectories of an ordinary run:

* ``endpoints_patient.parquet/``: one row per patient (the ``patient`` table of
  :class:`~immunoreset.endpoints.compute.Endpoints`);
* ``endpoints_visits.parquet/``: one row per patient and visit;
* ``endpoints_notes.parquet/``: the chunk's notes (what was skipped and why).

Each column has one Arrow type in every chunk, whatever values a chunk happens to hold (a column
that is empty in one chunk and filled in the next must not change type, or the parts would not
read as one table): identifiers are integers, ``bool`` columns booleans, text columns strings and
everything else 64-bit floats, with nulls for "not evaluable". Every field carries its unit and
meaning as metadata, and the data dictionary travels in the schema, so :func:`read_endpoints`
gives back the same :class:`~immunoreset.endpoints.compute.Endpoints` layout that
:func:`~immunoreset.endpoints.compute.compute_endpoints` returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:  # pandas is loaded only by the functions that need it: a run that keeps
    # trajectories reads the folder names here and imports no pandas
    import pandas as pd

    from immunoreset.endpoints.compute import Endpoints

PATIENT_TABLE = "endpoints_patient.parquet"
VISITS_TABLE = "endpoints_visits.parquet"
NOTES_TABLE = "endpoints_notes.parquet"
TABLES = (PATIENT_TABLE, VISITS_TABLE, NOTES_TABLE)
"""The folders of a run that keeps endpoints, one Parquet file per chunk in each."""

TEXT_UNITS = frozenset({"text", "descriptor keys", "none/minimal/moderate/major"})
"""Units of columns whose values are text (every other unit but ``id`` and ``bool`` is numeric)."""

_DICTIONARY_KEY = b"immunoreset.endpoint_columns"


def arrow_type(unit: str) -> pa.DataType:
    """The Arrow type of an endpoint column of ``unit`` (see the module docstring)."""
    if unit == "id":
        return pa.int64()
    if unit == "bool":
        return pa.bool_()
    if unit in TEXT_UNITS:
        return pa.string()
    return pa.float64()


_PANDAS_TYPE = {pa.int64(): "Int64", pa.bool_(): "boolean", pa.string(): "string"}


def _table(frame: pd.DataFrame, columns: pd.DataFrame, dictionary: pd.DataFrame) -> pa.Table:
    fields, arrays = [], []
    for name, unit, description in columns[["column", "unit", "description"]].itertuples(
        index=False
    ):
        kind = arrow_type(unit)
        values = frame[name].astype(_PANDAS_TYPE.get(kind, "Float64"))
        arrays.append(pa.array(values, type=kind, from_pandas=True))
        meta = {"unit": unit, "description": description}
        fields.append(pa.field(name, kind, metadata=meta))
    meta = {_DICTIONARY_KEY: json.dumps(dictionary.to_dict(orient="list")).encode("utf-8")}
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))


def arrow_tables(endpoints: Endpoints) -> dict[str, pa.Table]:
    """The endpoint tables of one chunk by folder name (:data:`TABLES`), typed by unit."""
    dictionary = endpoints.columns
    tables = {
        PATIENT_TABLE: _table(
            endpoints.patient, dictionary[dictionary["table"] == "patient"], dictionary
        ),
        VISITS_TABLE: _table(
            endpoints.visits, dictionary[dictionary["table"] == "visit"], dictionary
        ),
    }
    tables[NOTES_TABLE] = pa.table({"note": pa.array(list(endpoints.notes), type=pa.string())})
    return tables


def _frame(folder: Path) -> pd.DataFrame:
    """The table stored in ``folder`` (all chunks, in chunk order)."""
    import pandas as pd

    table = pq.read_table(folder)
    mapping = {kind: pd.api.types.pandas_dtype(name) for kind, name in _PANDAS_TYPE.items()}
    return table.to_pandas(types_mapper=mapping.get).convert_dtypes()


def read_dictionary(run_dir: str | Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The data dictionary and the notes (each once, in chunk order) of a run's endpoints."""
    import pandas as pd

    folder = Path(run_dir)
    parts = sorted((folder / PATIENT_TABLE).glob("part-*.parquet"))
    if not parts:
        raise FileNotFoundError(
            f"{folder}: no endpoint tables ({PATIENT_TABLE}); only a run with 'store: endpoints'"
            " keeps them, and only once a chunk has finished"
        )
    meta = pq.read_schema(parts[0])
    columns = pd.DataFrame(json.loads(meta.metadata[_DICTIONARY_KEY]))
    notes = pq.read_table(folder / NOTES_TABLE).column("note").to_pylist()
    return columns, tuple(dict.fromkeys(notes))


def read_endpoints(run_dir: str | Path) -> Endpoints:
    """The endpoints a run with ``store: endpoints`` kept, as :func:`compute_endpoints` gives them
    (numbers that are whole in every row read back as integers, as there)."""
    from immunoreset.endpoints.compute import Endpoints

    folder = Path(run_dir)
    columns, notes = read_dictionary(folder)
    return Endpoints(
        patient=_frame(folder / PATIENT_TABLE),
        visits=_frame(folder / VISITS_TABLE),
        columns=columns,
        notes=notes,
    )
