"""``immunoreset endpoints RUN_DIR`` in-process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoreset.cli.main import main


def write_run(folder, make_table) -> None:
    days = np.arange(0, 200, 1.0)
    table = make_table(days, b_cells_blood=np.where(days < 10, 120.0, 0.0), igg_total=8.0)
    table.to_parquet(folder / "trajectories.parquet")


def test_writes_tables_into_the_run_folder(tmp_path, make_table, capsys):
    write_run(tmp_path, make_table)
    assert main(["endpoints", str(tmp_path), "--visits", "0,28,90"]) == 0
    captured = capsys.readouterr()
    assert "1 patients, 3 visit rows" in captured.out
    assert "CAR kinetics: skipped" in captured.err
    patient = pd.read_csv(tmp_path / "endpoints_patient.csv")
    assert patient.loc[0, "b_cell_aplasia_onset_d"] == 10
    assert patient.loc[0, "b_cell_aplasia_censored"]
    visits = pd.read_csv(tmp_path / "endpoints_visits.csv")
    assert visits["visit_day"].tolist() == [0, 28, 90]


def test_out_folder(tmp_path, make_table):
    write_run(tmp_path, make_table)
    assert main(["endpoints", str(tmp_path), "--out", str(tmp_path / "ep")]) == 0
    assert (tmp_path / "ep" / "endpoints_visits.csv").exists()
    assert len(pd.read_csv(tmp_path / "ep" / "endpoints_visits.csv")) == 5


def test_missing_trajectories_is_one_line_exit_2(tmp_path, capsys):
    assert main(["endpoints", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "trajectories.parquet" in err


def test_not_a_parquet_file_is_exit_2(tmp_path, capsys):
    (tmp_path / "trajectories.parquet").write_text("patient_id,time\n1,0\n")
    assert main(["endpoints", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bad_visit_list_is_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["endpoints", str(tmp_path), "--visits", "0,x"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "comma-separated days" in err


def test_integrated_run_reports_crs_icans_icaht_and_treatments(tmp_path, capsys):
    """``immunoreset simulate`` then ``immunoreset endpoints`` on the integrated model: the CRS,
    ICANS, ICAHT and treatment families run (none is skipped) for a patient with twice the typical
    CRS susceptibility, who reaches grade 2 and gets tocilizumab by the default policy."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "model: integrated\n"
        "product: {catalogue: cd19-41bb-erlangen}\n"
        "regimen: {conditioning: standard}\n"
        "population: {parameters: {crs_susceptibility: 2}}\n"
        "horizon_days: 40\n"
        "output_times: {every_days: 0.25}\n"
    )
    run = tmp_path / "run"
    assert main(["simulate", str(scenario), "--out", str(run)]) == 0
    assert main(["endpoints", str(run)]) == 0
    err = capsys.readouterr().err
    for family in ("CRS", "ICANS", "ICAHT", "treatments"):
        assert f"{family}: skipped" not in err
    patient = pd.read_csv(run / "endpoints_patient.csv").iloc[0]
    assert patient["crs_max_grade"] >= 2
    assert patient["tocilizumab_used"]
    assert patient["tocilizumab_day"] >= patient["crs_onset_d"]
    assert 0 <= patient["icans_max_grade"] <= 4
    assert 0 <= patient["icaht_early_grade"] <= 4
