"""The run directory: resuming an interrupted run, the lock, units in the tables, and the rule that
nothing but an earlier run is ever replaced."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from immunoreset.runs import RunDirectoryError, read_run, run, run_to_directory
from immunoreset.runs.directory import LOCK_FILE
from immunoreset.scenario.load import parse_scenario


@pytest.fixture(scope="module")
def scenario(examples_dir: Path):
    """40 Park 2025 patients, half a year, in 20 chunks of 2 (20 progress reports)."""
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = 40
    doc["horizon_days"] = 180
    return parse_scenario(doc)


def _stop_after(chunks: int):
    seen = []

    def progress(n: int) -> None:
        seen.append(n)
        if len(seen) == chunks:
            raise KeyboardInterrupt

    return progress


def test_interrupted_run_keeps_chunks_and_resumes_to_the_same_result(scenario, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as info:
        run_to_directory(scenario, out, progress=_stop_after(3), plots=False)
    assert info.value.__notes__ == [f"kept 6 of 40 patients in {out}; finish with --resume"]
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["chunks_done"] == 3
    assert not (out / LOCK_FILE).exists()
    assert len(list((out / "trajectories.parquet").glob("part-*.parquet"))) == 3
    with pytest.raises(RunDirectoryError, match="pass --resume"):
        run_to_directory(scenario, out, plots=False)
    summary = run_to_directory(scenario, out, resume=True, plots=False)
    assert summary.resumed_chunks == 3
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    whole = tmp_path / "whole"
    run_to_directory(scenario, whole, plots=False)
    pd.testing.assert_frame_equal(read_run(out).trajectories, read_run(whole).trajectories)
    with pytest.raises(RunDirectoryError, match="already complete"):
        run_to_directory(scenario, out, resume=True, plots=False)


def test_resume_refuses_another_scenario(scenario, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_to_directory(scenario, out, progress=_stop_after(1), plots=False)
    other = scenario.model_copy(update={"horizon_days": 90.0})
    with pytest.raises(RunDirectoryError, match="scenario differs"):
        run_to_directory(other, out, resume=True, plots=False)


def test_interrupt_before_any_chunk_leaves_nothing(scenario, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as info:
        _interrupt_first_chunk(scenario, out)
    assert info.value.__notes__ == ["nothing was written"]
    assert not out.exists()


def _interrupt_first_chunk(scenario, out: Path):
    import immunoreset.runs.execute as execute

    original = execute.chunk_batch

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    execute.chunk_batch = broken
    try:
        run_to_directory(scenario, out, plots=False)
    finally:
        execute.chunk_batch = original


def test_interrupted_overwrite_keeps_the_earlier_run(scenario, tmp_path):
    out = tmp_path / "run"
    run_to_directory(scenario, out, plots=False)
    before = read_run(out).trajectories
    with pytest.raises(KeyboardInterrupt) as info:
        run_to_directory(scenario, out, overwrite=True, progress=_stop_after(2), plots=False)
    assert (
        "the earlier run" in info.value.__notes__[0] and "is unchanged" in info.value.__notes__[0]
    )
    pd.testing.assert_frame_equal(read_run(out).trajectories, before)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_lock_refuses_a_second_writer_and_a_stale_lock_is_taken_over(scenario, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_to_directory(scenario, out, progress=_stop_after(1), plots=False)
    lock = out / LOCK_FILE
    lock.write_text(f"{os.getpid()} {os.uname().nodename}\n")  # a live process: this one
    with pytest.raises(RunDirectoryError, match="another run is writing here"):
        run_to_directory(scenario, out, resume=True, plots=False)
    assert lock.exists()
    lock.write_text(f"{2**22 + 12345} {os.uname().nodename}\n")  # no such process
    run_to_directory(scenario, out, resume=True, plots=False)
    assert not lock.exists()


def test_units_travel_with_the_tables(scenario, tmp_path):
    out = tmp_path / "run"
    run_to_directory(scenario, out, plots=False)
    schema = pq.read_schema(next((out / "trajectories.parquet").glob("part-*.parquet")))
    assert schema.field("b_cells_blood").metadata[b"unit"] == b"cells/uL"
    assert schema.field("c3").metadata[b"unit"] == b"mg/dL"
    assert schema.field("time").metadata[b"unit"] == b"day"
    meta = json.loads((out / "run.json").read_text())
    assert meta["output_units"]["anti_dsdna"] == "IU/mL"
    assert read_run(out).units["anti_dsdna"] == "IU/mL"


def test_run_json_lists_each_setting_once(scenario, tmp_path):
    out = tmp_path / "run"
    run_to_directory(scenario, out, plots=False)
    meta = json.loads((out / "run.json").read_text())

    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)

    top_level = set(meta) - {"scenario"}
    assert not {"seed", "n_patients", "solver"} & top_level  # they live in meta["scenario"]
    assert meta["scenario"]["population"]["seed"] == scenario.population.seed
    assert list(keys(meta)).count("rtol") == 1


def test_in_memory_result_equals_the_run_directory(scenario, tmp_path):
    memory = run(scenario)
    out = tmp_path / "run"
    run_to_directory(scenario, out, plots=False)
    disk = read_run(out)
    pd.testing.assert_frame_equal(memory.trajectories, disk.trajectories)
    pd.testing.assert_frame_equal(memory.patients, disk.patients)
    written = memory.write(tmp_path / "written", plots=False)
    pd.testing.assert_frame_equal(read_run(written).trajectories, memory.trajectories)


def test_run_takes_a_scenario_file_path(examples_dir: Path) -> None:
    """``run`` loads a path as ``load_scenario`` does (same result), and a missing file is named."""
    from immunoreset.scenario.load import ScenarioError, load_scenario

    path = examples_dir / "park2025_sle_typical.yaml"
    by_path = run(str(path)).trajectories
    by_scenario = run(load_scenario(path)).trajectories
    pd.testing.assert_frame_equal(by_path, by_scenario)
    with pytest.raises(ScenarioError, match=r"no_such\.yaml"):
        run(examples_dir / "no_such.yaml")
