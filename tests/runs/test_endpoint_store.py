"""Runs that keep endpoints only (``store: endpoints``): the stored endpoints are those of the
trajectories the same run would have kept, whatever the chunking, after an interruption and on
Dask; column types do not depend on what a chunk holds; misuse gets a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

import immunoreset as ir
from immunoreset.endpoints import EndpointConfig, compute_endpoints
from immunoreset.endpoints.store import TABLES, arrow_tables, arrow_type, read_endpoints
from immunoreset.observables import OBSERVABLES
from immunoreset.runs import RunDirectoryError, read_run, run, run_to_directory
from immunoreset.scenario.load import ScenarioError, parse_scenario

VISITS = [0.0, 30.0, 60.0, 90.0, 180.0]
CLI = [sys.executable, "-m", "immunoreset.cli.main"]


def _doc(examples_dir: Path, size: int = 24, store: str = "endpoints") -> dict:
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = size
    doc["horizon_days"] = 200
    doc["store"] = store
    if store == "endpoints":
        doc["endpoints"] = {"visits": VISITS, "car_lloq": 0.5}
    return doc


def _cells(frame: pd.DataFrame) -> dict[str, list]:
    """Values by column with every missing value as None (dtypes aside: a stored column keeps
    one type in every chunk, where a computed frame infers its own)."""
    return {c: [None if pd.isna(v) else v for v in frame[c].astype(object)] for c in frame}


def _assert_same(stored: ir.endpoints.Endpoints, computed: ir.endpoints.Endpoints) -> None:
    assert _cells(stored.patient) == _cells(computed.patient)
    assert _cells(stored.visits) == _cells(computed.visits)
    pd.testing.assert_frame_equal(stored.columns, computed.columns)
    assert stored.notes == computed.notes


@pytest.fixture(scope="module")
def stored(examples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("store") / "run"
    run_to_directory(parse_scenario(_doc(examples_dir)), out, plots=False)
    return out


def test_stored_endpoints_equal_those_of_the_trajectories(stored: Path, examples_dir: Path):
    """Reference: the endpoint library on the trajectories of the same scenario kept in full."""
    full = run(parse_scenario(_doc(examples_dir, store="trajectories")))
    config = EndpointConfig(visits=tuple(VISITS), car_lloq=0.5)
    expected = compute_endpoints(full.trajectories, config, status=full.status)
    _assert_same(read_endpoints(stored), expected)
    assert sorted(p.name for p in stored.iterdir()) == sorted(
        [*TABLES, "endpoints_columns.csv", "endpoints_notes.txt", "parameters.parquet",
         "run.json", "scenario.yaml"]
    )  # fmt: skip
    assert not (stored / "trajectories.parquet").exists()
    columns = pd.read_csv(stored / "endpoints_columns.csv")
    assert list(columns["column"]) == list(expected.columns["column"])
    # the in-memory result reads the scenario's endpoint settings by default
    in_memory = run(parse_scenario(_doc(examples_dir))).endpoints()
    _assert_same(read_endpoints(stored), in_memory)


def test_chunking_does_not_change_the_stored_endpoints(stored: Path, examples_dir: Path, tmp_path):
    doc = _doc(examples_dir) | {"chunk_size": 1}  # chunks of 1 instead of 2 patients
    run_to_directory(parse_scenario(doc), tmp_path / "one", plots=False)
    assert len(list((tmp_path / "one" / TABLES[0]).glob("part-*"))) == 24
    assert len(list((stored / TABLES[0]).glob("part-*"))) == 12
    _assert_same(read_endpoints(tmp_path / "one"), read_endpoints(stored))


def test_interrupted_endpoint_run_resumes_to_the_same_endpoints(stored: Path, examples_dir: Path,
                                                                tmp_path: Path) -> None:  # fmt: skip
    scenario = parse_scenario(_doc(examples_dir))
    seen: list[int] = []

    def stop_after_five(n: int) -> None:
        seen.append(n)
        if len(seen) == 5:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_to_directory(scenario, out, progress=stop_after_five, plots=False)
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert not (out / "endpoints_columns.csv").exists()
    for folder in TABLES:
        assert len(list((out / folder).glob("part-*.parquet"))) == 5
    summary = run_to_directory(scenario, out, resume=True, plots=False)
    assert summary.resumed_chunks == 5
    _assert_same(read_endpoints(out), read_endpoints(stored))
    changed = _doc(examples_dir) | {"store": "trajectories"}
    changed.pop("endpoints")
    with pytest.raises(RunDirectoryError):
        run_to_directory(parse_scenario(changed), out, overwrite=False, resume=True, plots=False)


@pytest.mark.slow
def test_dask_keeps_the_same_endpoints(stored: Path, examples_dir: Path, tmp_path: Path) -> None:
    run_to_directory(parse_scenario(_doc(examples_dir)), tmp_path / "dask", plots=False, workers=2)
    _assert_same(read_endpoints(tmp_path / "dask"), read_endpoints(stored))


def _probe(values: float | None, patients: tuple[int, ...]) -> pd.DataFrame:
    """A result table carrying every observable (so that every endpoint family runs)."""
    rows = [(p, t) for p in patients for t in (0.0, 1.0, 28.0)]
    frame = pd.DataFrame(rows, columns=["patient_id", "time"])
    for name in OBSERVABLES:
        frame[name] = np.nan if values is None else values
    if values is not None:
        frame["temp_c"] = 37.0  # inside the CRS instrument's range
    return frame


def test_every_endpoint_column_keeps_its_type_in_every_chunk(tmp_path: Path) -> None:
    """A chunk whose values are all missing and one whose values are filled write the same Arrow
    schema, so the parts read as one table; the types follow the units."""
    config = EndpointConfig(visits=(0.0, 28.0))
    with np.errstate(all="ignore"):
        empty = compute_endpoints(_probe(None, (0, 1)), config)
        filled = compute_endpoints(_probe(1.0, (2, 3)), config)
    skipped = [note for note in filled.notes if "skipped, the table has no" in note]
    assert not skipped  # every family ran on the probe
    a, b = arrow_tables(empty), arrow_tables(filled)
    for folder in TABLES:
        assert a[folder].schema.equals(b[folder].schema, check_metadata=False), folder
        folder_path = tmp_path / folder
        folder_path.mkdir()
        for i, tables in enumerate((a, b)):
            pa.parquet.write_table(tables[folder], folder_path / f"part-{i:06d}.parquet")
    both = read_endpoints(tmp_path)
    assert list(both.patient["patient_id"]) == [0, 1, 2, 3]
    kinds = {"id": pa.int64(), "bool": pa.bool_(), "text": pa.string(), "day": pa.float64()}
    for unit, kind in kinds.items():
        assert arrow_type(unit) == kind
    for row in filled.columns.itertuples():
        table = b[TABLES[0] if row.table == "patient" else TABLES[1]]
        assert table.schema.field(row.column).type == arrow_type(row.unit)
        assert table.schema.field(row.column).metadata[b"unit"].decode() == row.unit


def test_misuse_is_refused_with_the_field_named(stored: Path, examples_dir: Path) -> None:
    doc = _doc(examples_dir, store="trajectories") | {"endpoints": {"visits": [0, 28]}}
    with pytest.raises(ScenarioError, match=r"endpoints: .*only with 'store: endpoints'"):
        parse_scenario(doc)
    doc = _doc(examples_dir) | {"endpoints": {"visits": [0, 400]}}
    with pytest.raises(ScenarioError, match=r"endpoints.visits\[1\]: got 400.*<= horizon_days"):
        parse_scenario(doc)
    doc = _doc(examples_dir) | {"endpoints": {"visits": [28, 0]}}
    with pytest.raises(ScenarioError, match=r"endpoints.visits: .*strictly increasing"):
        parse_scenario(doc)
    doc = _doc(examples_dir) | {"store": "everything"}
    with pytest.raises(ScenarioError, match=r"store: got 'everything'.*trajectories or endpoints"):
        parse_scenario(doc)
    with pytest.raises(RunDirectoryError, match=r"kept endpoints only.*read_endpoints"):
        read_run(stored)
    with pytest.raises(FileNotFoundError, match=r"no endpoint tables.*store: endpoints"):
        read_endpoints(stored / "parameters.parquet")


def test_cli_keeps_endpoints_and_endpoints_command_points_to_them(examples_dir: Path,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_doc(examples_dir, size=3)))
    out = tmp_path / "run"
    done = subprocess.run([*CLI, "simulate", str(path), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 patient(s) simulated" in done.stdout and "(endpoints kept)" in done.stdout
    assert len(read_endpoints(out).patient) == 3
    again = subprocess.run([*CLI, "endpoints", str(out)], capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert again.returncode == 2
    assert "kept endpoints only" in again.stderr and "endpoints_patient.parquet" in again.stderr
