"""``immunoreset simulate``, ``validate``, ``models`` and ``params`` end to end (in process)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from immunoreset.cli.main import main
from immunoreset.model.models import stein2019

PARK_PLOTS = {"car_t_blood", "b_cells_blood", "anti_dsdna", "c3", "cd4_t_blood", "cd8_t_blood",
              "neutrophils"}  # fmt: skip


def _small_population(examples_dir: Path, tmp_path: Path, size: int = 40) -> Path:
    doc = yaml.safe_load((examples_dir / "park2025_sle_population.yaml").read_text())
    doc["population"]["size"] = size
    path = tmp_path / "pop.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _check_run(out: Path, n_patients: int, n_times: int) -> pd.DataFrame:
    for name in ("scenario.yaml", "run.json"):
        assert (out / name).is_file(), name
    for name in ("parameters.parquet", "trajectories.parquet"):
        assert (out / name).is_dir(), name
    meta = json.loads((out / "run.json").read_text())
    assert meta["schema_version"] == 2 and meta["status"] == "complete"
    assert meta["scenario"]["population"]["size"] == n_patients and meta["n_failed"] == 0
    assert {"rtol", "atol", "method", "max_steps"} <= set(meta["scenario"]["solver"])
    assert {"immunoreset", "numpy", "numba", "scipy"} <= set(meta["versions"])
    assert not (out / ".lock").exists()
    params = pd.read_parquet(out / "parameters.parquet")
    assert len(params) == n_patients and (params["status"] == 0).all()
    traj = pd.read_parquet(out / "trajectories.parquet")
    assert len(traj) == n_patients * n_times
    return traj


def test_simulate_stein_example(examples_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "stein"
    assert main(["simulate", str(examples_dir / "stein2019_typical.yaml"), "--out", str(out)]) == 0
    traj = _check_run(out, 1, 366)
    assert list(traj.columns) == ["patient_id", "time", "car_transgene"]
    exact = stein2019.closed_form(traj["time"].to_numpy(), stein2019.MODEL.typical_parameters())
    assert traj["car_transgene"].to_numpy() == pytest.approx(exact, rel=1e-5)  # default rtol 1e-6
    assert (out / "plots" / "car_transgene.png").stat().st_size > 1000


def test_simulate_park_typical_example(examples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "park"
    assert main(["simulate", str(examples_dir / "park2025_sle_typical.yaml"), "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    traj = _check_run(out, 1, 731)
    assert {"car_t_blood", "b_cells_blood", "anti_dsdna", "c3"} <= set(traj.columns)
    assert {p.stem for p in (out / "plots").glob("*.png")} == PARK_PLOTS


def test_simulate_population_and_seed_reproducibility(examples_dir: Path, tmp_path: Path) -> None:
    scenario = _small_population(examples_dir, tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["simulate", str(scenario), "--out", str(a), "--quiet", "--no-plots"]) == 0
    doc = yaml.safe_load(scenario.read_text())
    doc["chunk_size"] = 7  # different chunking, same patients
    scenario.write_text(yaml.safe_dump(doc))
    assert main(["simulate", str(scenario), "--out", str(b), "--quiet", "--no-plots"]) == 0
    ta, tb = _check_run(a, 40, 731), _check_run(b, 40, 731)
    pd.testing.assert_frame_equal(ta, tb)
    assert ta.groupby("patient_id")["car_t_blood"].max().nunique() == 40  # patients differ


def test_a_folder_that_is_not_a_run_is_never_replaced(examples_dir: Path, tmp_path: Path,
                                                       capsys) -> None:  # fmt: skip
    """--overwrite replaces only an earlier run (a directory holding run.json)."""
    stein = str(examples_dir / "stein2019_typical.yaml")
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("years of work")
    for extra in ([], ["--overwrite"]):
        assert main(["simulate", stein, "--out", str(out), "--no-plots", *extra]) == 2
        err = capsys.readouterr().err
        assert "is not an immunoreset run" in err and err.count("\n") == 1
        assert (out / "chapter1.tex").read_text() == "years of work"
    # The scenario file itself as --out: refused, untouched.
    copy = tmp_path / "s.yaml"
    copy.write_text((examples_dir / "stein2019_typical.yaml").read_text())
    assert main(["simulate", str(copy), "--out", str(copy), "--overwrite"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert copy.read_text() == (examples_dir / "stein2019_typical.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "thesis"]


def test_overwrite_replaces_an_earlier_run_and_leaves_no_hidden_folders(
    examples_dir: Path, tmp_path: Path, capsys
) -> None:
    stein = str(examples_dir / "stein2019_typical.yaml")
    out = tmp_path / "run"
    assert main(["simulate", stein, "--out", str(out), "--no-plots"]) == 0
    assert main(["simulate", stein, "--out", str(out), "--no-plots"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    (out / "note.txt").write_text("inside the old run")
    assert main(["simulate", stein, "--out", str(out), "--overwrite", "--no-plots"]) == 0
    assert not (out / "note.txt").exists() and (out / "run.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary or .old folders left


@pytest.mark.parametrize(
    ("make_out", "message"),
    [
        (lambda tmp: tmp / "file.txt" / "run", "is a file, not a folder"),
        (lambda tmp: tmp / "readonly" / "run", "is not writable"),
    ],
)
def test_unusable_output_location_is_bad_input(examples_dir: Path, tmp_path: Path, capsys,
                                               make_out, message: str) -> None:  # fmt: skip
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "readonly").mkdir()
    (tmp_path / "readonly").chmod(0o555)
    try:
        out = make_out(tmp_path)
        code = main(["simulate", str(examples_dir / "stein2019_typical.yaml"), "--out", str(out)])
        err = capsys.readouterr().err
        if message == "is not writable" and os.access(tmp_path / "readonly", os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        assert code == 2 and message in err and err.count("\n") == 1
    finally:
        (tmp_path / "readonly").chmod(0o755)


def test_failed_patients_exit_1_and_keep_results(examples_dir: Path, tmp_path: Path,
                                                 capsys) -> None:  # fmt: skip
    doc = yaml.safe_load(_small_population(examples_dir, tmp_path, 3).read_text())
    doc["solver"] = {"max_steps": 40}
    path = tmp_path / "tight.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "run"
    assert main(["simulate", str(path), "--out", str(out), "--quiet", "--no-plots"]) == 1
    assert "3 of 3 patient(s) failed" in capsys.readouterr().err
    params = pd.read_parquet(out / "parameters.parquet")
    assert (params["status"] == 1).all()
    assert params["status_message"].str.contains("maximum number of steps").all()
    # Endpoints read the status: failed patients are not evaluable, never scored as observed.
    assert main(["endpoints", str(out)]) == 0
    err = capsys.readouterr().err
    assert "3 patient(s) not evaluable" in err
    patient = pd.read_csv(out / "endpoints_patient.csv")
    assert (~patient["evaluable"]).all()
    assert patient["not_evaluable_reason"].str.contains("maximum number of steps").all()
    assert patient["b_cell_nadir"].isna().all() and patient["car_cmax"].isna().all()


def test_validate_models_params(examples_dir: Path, capsys) -> None:
    assert main(["validate", str(examples_dir / "park2025_sle_population.yaml")]) == 0
    assert "1000 patient(s)" in capsys.readouterr().out
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "park2025" in out and "stein2019" in out
    assert main(["params", "park2025"]) == 0
    out = capsys.readouterr().out
    assert "kexp_max_cd8" in out and "Park 2025 Table 1" in out
    assert main(["params", "park2025", "--csv"]) == 0
    assert capsys.readouterr().out.startswith("name,value,unit,omega2,confidence")
    assert main(["params", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "park2025" in err


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["simulate"])
    assert info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_version_and_threads(examples_dir: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("immunoreset 0.")
    stein = str(examples_dir / "stein2019_typical.yaml")
    assert main(["simulate", stein, "--out", str(tmp_path / "a"), "--threads", "0"]) == 2
    assert "threads: got 0; allowed: 1 to" in capsys.readouterr().err
    assert main(["simulate", stein, "--out", str(tmp_path / "b"), "--threads", "1",
                 "--no-plots"]) == 0  # fmt: skip


def test_internal_errors_exit_3_with_a_hint(monkeypatch, examples_dir: Path, tmp_path: Path,
                                            capsys) -> None:  # fmt: skip
    """A bug is not bad input: exit 3, one line, and how to see the traceback."""
    import immunoreset.runs

    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(immunoreset.runs, "run_to_directory", broken)
    stein = str(examples_dir / "stein2019_typical.yaml")
    assert main(["simulate", stein, "--out", str(tmp_path / "x")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "--debug" in err
    assert main(["--debug", "simulate", stein, "--out", str(tmp_path / "x")]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_endpoints_bad_folders_and_visits(tmp_path: Path, capsys) -> None:
    assert main(["endpoints", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing: no such run folder")
    assert main(["endpoints", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["endpoints", str(tmp_path), "--visits", "-5,28"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--visits" in err and "days >= 0" in err and err.count("\n") == 1


def test_endpoints_of_a_simulated_population(examples_dir: Path, tmp_path: Path,
                                             capsys) -> None:  # fmt: skip
    """Simulate -> endpoints end to end: the patient table agrees with the trajectories."""
    scenario = _small_population(examples_dir, tmp_path, size=8)
    run = tmp_path / "run"
    assert main(["simulate", str(scenario), "--out", str(run), "--quiet", "--no-plots"]) == 0
    assert main(["endpoints", str(run), "--visits", "0,28,90,180,365,730"]) == 0
    assert "endpoints_patient.csv" in capsys.readouterr().out  # says where it wrote
    traj = pd.read_parquet(run / "trajectories.parquet")
    patient = pd.read_csv(run / "endpoints_patient.csv").set_index("patient_id")
    visits = pd.read_csv(run / "endpoints_visits.csv")
    assert len(patient) == 8 and len(visits) == 8 * 6
    by_patient = traj.groupby("patient_id")
    pd.testing.assert_series_equal(
        patient["car_cmax"], by_patient["car_t_blood"].max(), check_names=False
    )
    pd.testing.assert_series_equal(
        patient["b_cell_nadir"], by_patient["b_cells_blood"].min(), check_names=False
    )
    # Deep depletion in every patient: below 10 % of the 143 cells/uL baseline (Park 2025
    # Figure 3; naive B cells may start returning before the reactive pool is gone, so blood B
    # cells need not fall below 1 cell/uL in this model).
    assert (patient["b_cell_nadir"] < 14.3).all()
    assert patient["anti_dsdna_seroconverted"].all()


@pytest.mark.parametrize("argv", [[], ["simulate"], ["validate"], ["models"], ["params"],
                                  ["endpoints"], ["score"], ["export"]])  # fmt: skip
def test_help_text_has_no_rest_markup(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for markup in ("``", ":class:", ":func:", ":mod:"):
        assert markup not in out, (argv, markup)
