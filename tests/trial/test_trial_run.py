"""Running a small trial: reproducibility across chunk sizes, tables, datasets and the folder.

The trial (tests/data/trial_small.yaml) has 12 Park 2025 patients over 120 days so that the whole
module runs in seconds; numbers are compared exactly (the same patient must give the same bits
whatever the chunking), except where a tolerance is stated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numba
import pandas as pd
import pytest

from immunoreset.cli.main import main
from immunoreset.runs import read_run
from immunoreset.trial import Trial, TrialResult, run_trial


@pytest.fixture(scope="module")
def in_memory(small_trial: Trial) -> TrialResult:
    return run_trial(small_trial, chunk_size=2, report=False)


def test_same_results_whatever_the_chunk_size(folder: Path, in_memory: TrialResult) -> None:
    on_disk = pd.read_csv(folder / "analysis" / "arms.csv")
    pd.testing.assert_frame_equal(
        on_disk,
        in_memory.arms.astype({"n": "int64", "events": "int64"}),
        check_exact=False,
        rtol=1e-12,  # CSV round trip of floats: 17 significant digits
    )


def test_every_patient_is_the_same_whatever_the_chunk_size(
    small_trial: Trial, in_memory: TrialResult
) -> None:
    other = run_trial(small_trial, chunk_size=7, report=False)
    pd.testing.assert_frame_equal(other.subjects, in_memory.subjects)
    key = ["arm", "endpoint", "patient_id"]
    pd.testing.assert_frame_equal(
        other.outcomes.sort_values(key, ignore_index=True),
        in_memory.outcomes.sort_values(key, ignore_index=True),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(other.arms, in_memory.arms, check_exact=True)


def test_every_patient_is_the_same_with_one_engine_thread(
    small_trial: Trial, in_memory: TrialResult
) -> None:
    """One thread simulates the chunks one after the other; more simulate the next chunk while
    the current one is scored: the same bits either way."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        alone = run_trial(small_trial, chunk_size=2, report=False)
    finally:
        numba.set_num_threads(before)
    pd.testing.assert_frame_equal(alone.outcomes, in_memory.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(alone.arms, in_memory.arms, check_exact=True)


def test_enrolment_and_flow(in_memory: TrialResult) -> None:
    subjects = in_memory.subjects
    assert int(subjects["randomised"].sum()) == 12
    assert subjects.loc[subjects["randomised"], "eligible"].all()
    assert set(subjects.loc[subjects["randomised"], "arm"]) == {"HIGH", "LOW"}
    failed = subjects.loc[~subjects["eligible"], "screen_failure"]
    assert failed.notna().all()
    log = in_memory.screening
    assert int(log["failed_first"].sum()) == int((~subjects["eligible"]).sum())
    # the last screened candidate fills the last seat
    assert bool(subjects["randomised"].iat[-1])


def test_outcomes_and_statistics(in_memory: TrialResult) -> None:
    arms = in_memory.arms
    assert set(arms["endpoint"]) == {
        "doris_d90",
        "sledai_d90",
        "car_cmax",
        "b_cell_return",
        "remission",
        "flare",
    }
    binary = arms[arms["kind"] == "binary"]
    assert ((binary["low"] <= binary["estimate"]) & (binary["estimate"] <= binary["high"])).all()
    assert in_memory.decision["endpoint"] == "doris_d90"
    assert isinstance(in_memory.decision["success"], bool)
    tte = in_memory.outcomes[in_memory.outcomes["endpoint"] == "remission"]
    assert set(tte["event"].unique()) <= {0.0, 1.0}
    assert (tte["time"] <= 120).all()


def test_dropout_censors_follow_up(in_memory: TrialResult) -> None:
    subjects = in_memory.subjects.set_index("patient_id")
    lost = subjects[subjects["dropout_day"].notna()]
    assert len(lost), "rate 1/year over 120 days: some of 12 patients drop out (seeded)"
    visits = in_memory.visits.set_index("patient_id")
    for pid, row in lost.iterrows():
        attended = visits.loc[[pid]].dropna(subset=["time"])
        assert (attended["time"] <= row["last_day"] + 1e-9).all()


def test_folder_layout(folder: Path) -> None:
    for name in ("trial.json", "trial.yaml", "report.html", "datasets/dictionary.csv"):
        assert (folder / name).is_file(), name
    for name in ("adsl", "adtte", "adlb", "adae"):
        assert (folder / "datasets" / f"{name}.parquet").is_file()
        assert (folder / "datasets" / f"{name}.csv").is_file()
    meta = json.loads((folder / "trial.json").read_text())
    assert meta["randomised"] == 12
    assert meta["provenance"]["model"]["name"] == "park2025"
    arm = read_run(folder / "arms" / "HIGH")  # each arm is a run directory
    assert arm.trajectories["patient_id"].nunique() == meta["randomised"] - len(
        read_run(folder / "arms" / "LOW").patients
    )


def test_adam_datasets(folder: Path) -> None:
    data = folder / "datasets"
    adsl = pd.read_parquet(data / "adsl.parquet")
    assert adsl["USUBJID"].is_unique
    assert {
        "STUDYID",
        "USUBJID",
        "ARM",
        "ARMCD",
        "RANDFL",
        "ELIGFL",
        "SCRFREAS",
        "AGE",
        "SEX",
    } <= set(adsl.columns)
    assert set(adsl.loc[adsl["RANDFL"] == "N", "ARM"]) <= {"Screen Failure", "Not Assigned"}
    adtte = pd.read_parquet(data / "adtte.parquet")
    assert {"PARAMCD", "AVAL", "CNSR"} <= set(adtte.columns)
    assert set(adtte["PARAMCD"]) == {"BCRET", "REMIS", "FLARE"}
    assert set(adtte["CNSR"]) <= {0, 1}
    adlb = pd.read_parquet(data / "adlb.parquet")
    assert {"PARAMCD", "AVAL", "BASE", "CHG", "AVISITN", "ADY"} <= set(adlb.columns)
    base = adlb[adlb["AVISITN"] == 0]
    assert (base["CHG"].dropna() == 0).all()
    dictionary = pd.read_csv(data / "dictionary.csv")
    for name, table in (("adsl", adsl), ("adtte", adtte), ("adlb", adlb)):
        assert set(dictionary.loc[dictionary["dataset"] == name, "variable"]) == set(table.columns)
    assert (dictionary["label"].fillna("") != "").all()


def test_existing_folder_is_refused(
    folder: Path, small_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trial", str(small_path), "--out", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--overwrite" in err
