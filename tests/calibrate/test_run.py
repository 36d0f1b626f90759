"""A calibration end to end, from the Python API and the CLI, on Stein 2019 (a 2-state model, so
each fit takes seconds): synthetic individual data with BLQ samples, and a synthetic summary
target. Bad inputs exit 2 with one line and never touch a folder that is not ours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.calibrate.data import parse_targets
from immunoreset.calibrate.fit import FitParameter, maximum_likelihood
from immunoreset.calibrate.objective import SummaryObjective
from immunoreset.calibrate.quantities import per_patient
from immunoreset.calibrate.run import run_calibration, write_calibration
from immunoreset.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "calibration" / "stein2019_synthetic.yaml"
TRUE = {"alpha": 0.16, "fb": 0.0079, "beta": 0.0032, "cmax": 24000.0}


@pytest.fixture(scope="module")
def result():
    return run_calibration(EXAMPLE)


def test_example_recovers_the_generating_values(result) -> None:
    """The example's data were drawn from Stein 2019's typical values: each 95 % interval contains
    its true value (a single data set, so this can fail by chance with probability about 5 % per
    parameter for a correct method; the seed of the example data is fixed, and the coverage over
    40 data sets is the slow test in test_synthetic_coverage.py)."""
    table = result.fit.table().set_index("parameter")
    for name, value in TRUE.items():
        assert table.loc[name, "lower_95"] <= value <= table.loc[name, "upper_95"], name
    assert result.fit.n_converged == 2
    assert result.verification["passed"].all()
    assert set(result.predictions.columns) >= {"subject", "time", "pred", "residual", "blq"}


def test_calibrated_parameter_table_names_its_source(result) -> None:
    cal = result.calibrated_parameters()
    assert list(cal["name"]) == list(TRUE)
    assert cal["source"].str.startswith("calibrated: ").all()
    assert (cal["unit"] != "").all()


def test_folder_holds_every_table_and_refuses_foreign_folders(result, tmp_path: Path) -> None:
    out = write_calibration(result, tmp_path / "cal", report=False)
    meta = json.loads((out / "calibration.json").read_text())
    assert meta["model"] == "stein2019" and meta["n_converged"] == 2
    for name in ("estimates", "convergence", "correlation", "predictions", "vpc", "verification"):
        assert (out / f"{name}.csv").is_file(), name
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("keep me")
    with pytest.raises(ValueError, match="not a calibration folder"):
        write_calibration(result, thesis, overwrite=True, report=False)
    assert (thesis / "chapter1.tex").read_text() == "keep me"
    with pytest.raises(ValueError, match="pass --overwrite"):
        write_calibration(result, out, report=False)
    write_calibration(result, out, overwrite=True, report=False)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_summary_target_fit_recovers_cmax() -> None:
    """A synthetic summary statistic: the mean (SD) peak of 40 virtual patients at Cmax = 24,000
    is the target; fitting Cmax alone from another start returns it within its 95 % interval."""
    scenario = ir.parse_scenario(
        {
            "model": "stein2019",
            "product": {"name": "tisagenlecleucel", "dose": {"value": 3.1e6, "unit": "cells/kg"}},
            "regimen": {"infusions": [{"day": 0}]},
            "population": {"size": 200, "seed": 3, "variability": True},
            "horizon_days": 60,
            "output_times": {"every_days": 0.25},
        }
    )
    observed = ir.parse_scenario(
        scenario.model_dump(mode="json") | {"population": {"size": 40, "seed": 99,
                                                            "variability": True}}
    )  # fmt: skip
    from immunoreset.calibrate.cohort import Cohort

    peaks = per_patient(Cohort(observed, ["cmax"])(np.array([24000.0])), "peak:car_transgene")
    targets = parse_targets(
        {
            "targets": [
                {
                    "id": "synthetic_peak", "statistic": "mean_sd",
                    "observable": "car_transgene", "quantity": "peak",
                    "unit": "copies/ug DNA", "mean": float(np.mean(peaks)),
                    "sd": float(np.std(peaks, ddof=1)), "n": 40, "study": "synthetic",
                    "source": "this test", "setting": "Stein 2019 typical", "use": "test",
                }
            ]
        }
    )  # fmt: skip
    objective = SummaryObjective(
        scenario, ["cmax"], targets, {"synthetic_peak": "peak:car_transgene"}
    )
    cmax = [FitParameter("cmax", 1e3, 1e6, initial=5e3)]
    fit = maximum_likelihood(objective, cmax, starts=2)
    row = fit.table().iloc[0]
    assert row["lower_95"] <= 24000.0 <= row["upper_95"], row
    # gradient-based, with central differences from one engine batch per iterate: same optimum
    # (to 1 % of the estimate, far inside its interval)
    batched = maximum_likelihood(
        objective, cmax, starts=2, method="L-BFGS-B", batch=objective.batch
    )
    assert batched.values["cmax"] == pytest.approx(fit.values["cmax"], rel=0.01)
    assert objective.batch(np.array([[2e4], [3e4]]))[0] == pytest.approx(objective([2e4]))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"parameters": [{"name": "no_such_parameter"}]}, "no_such_parameter"),
        ({"parameters": [{"name": "alpha"}]}, "no prior range"),
        ({"fit": {"starts": 0}}, "fit.starts: got 0; allowed: a number >= 1"),
        ({"observations": None}, "targets or observations"),
        ({"observations": {"file": "missing.csv", "error": {"car_transgene": "lognormal"}}},
         "missing.csv"),
        ({"observations": {"file": "stein2019_synthetic_observations.csv",
                           "error": {"car_transgene": "cubic"}}}, "one of lognormal"),
    ],
)  # fmt: skip
def test_bad_files_exit_2_with_one_line(edit: dict, message: str, tmp_path: Path, capsys) -> None:
    data = ir.scenario.load.read_yaml(EXAMPLE.read_text(), str(EXAMPLE)) | edit
    data["scenario"] = str(ROOT / "examples" / "stein2019_typical.yaml")
    for path_key in ("observations",):
        if isinstance(data.get(path_key), dict):
            data[path_key] = data[path_key] | {"file": str(EXAMPLE.parent / data[path_key]["file"])}
    config = tmp_path / "cal.yaml"
    import yaml

    config.write_text(yaml.safe_dump(data))
    code = main(["calibrate", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_foreign_folder_before_fitting(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    proc = subprocess.run(
        [sys.executable, "-m", "immunoreset.cli.main", "calibrate", str(EXAMPLE), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "not a calibration folder" in proc.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_real_calibration_folder_renders_every_report_section(result, tmp_path: Path) -> None:
    from immunoreset.report.credibility import SECTIONS

    out = write_calibration(result, tmp_path / "cal", report=True)
    page = (out / "report.html").read_text(encoding="utf-8")
    for key, heading in SECTIONS:
        assert f'<h2 id="{key}">' in page, heading
    assert "not run: predictions.csv" not in page  # individual data were fitted
    assert len(list((out / "figures").glob("*.png"))) >= 3
