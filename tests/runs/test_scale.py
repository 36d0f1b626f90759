"""Scale-out and loss-free runs on real processes: a Dask cluster gives the single-process result
bit for bit, and a run killed (SIGKILL) at random moments completes with --resume, with no patient
missing or duplicated."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from immunoreset.runs import read_run, run_to_directory
from immunoreset.scenario.load import parse_scenario

CLI = [sys.executable, "-m", "immunoreset.cli.main"]


def _scenario_doc(examples_dir: Path, size: int) -> dict:
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = size
    doc["horizon_days"] = 365
    return doc


@pytest.mark.slow
def test_dask_local_cluster_matches_one_process(examples_dir: Path, tmp_path: Path) -> None:
    scenario = parse_scenario(_scenario_doc(examples_dir, 60))
    run_to_directory(scenario, tmp_path / "one", plots=False)
    run_to_directory(scenario, tmp_path / "dask", plots=False, workers=2)
    one, dask = read_run(tmp_path / "one"), read_run(tmp_path / "dask")
    key = ["patient_id", "time"]
    pd.testing.assert_frame_equal(
        one.trajectories.sort_values(key, ignore_index=True),
        dask.trajectories.sort_values(key, ignore_index=True),
    )
    pd.testing.assert_frame_equal(
        one.patients.sort_values("patient_id", ignore_index=True),
        dask.patients.sort_values("patient_id", ignore_index=True),
    )


@pytest.mark.slow
def test_killed_twenty_times_then_resumed_loses_nothing(examples_dir: Path,
                                                        tmp_path: Path) -> None:  # fmt: skip
    """SIGKILL at a random moment (seeded), then --resume, 20 times, then run to completion: the
    result equals an uninterrupted run, with every patient exactly once. Attempts alternate
    between one engine thread (chunks one after the other) and two (the next chunk simulated
    while the current one is written)."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_scenario_doc(examples_dir, 400)))
    out = tmp_path / "run"
    rng = random.Random(20251129)
    env = os.environ | {"NUMBA_NUM_THREADS": "1"}
    base = [*CLI, "simulate", str(path), "--out", str(out), "--no-plots", "--quiet"]
    for attempt in range(20):
        resume = ["--resume"] if (out / "run.json").exists() else []
        threads = {"NUMBA_NUM_THREADS": str(1 + attempt % 2)}
        proc = subprocess.Popen([*base, *resume], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env | threads)  # fmt: skip
        time.sleep(rng.uniform(0.3, 4.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
    resume = ["--resume"] if (out / "run.json").exists() else []
    final = subprocess.run([*base, *resume], capture_output=True, text=True, timeout=600,
                           env=env)  # fmt: skip
    if final.returncode == 2:  # a killed attempt had already completed the run
        assert "already complete" in final.stderr
    else:
        assert final.returncode == 0, final.stderr
    result = read_run(out)
    assert sorted(result.patients["patient_id"]) == list(range(400))
    assert len(result.trajectories) == 400 * 366
    reference = tmp_path / "reference"
    run_to_directory(parse_scenario(_scenario_doc(examples_dir, 400)), reference, plots=False)
    pd.testing.assert_frame_equal(result.trajectories, read_run(reference).trajectories)
    assert not list((out / "trajectories.parquet").glob(".*.tmp"))
