"""The calibration credibility report: every section present whatever the folder holds, the
evidence shown (estimates, flags, fits, checks), the page self-contained, and the page renders in
headless Chromium without console errors.

The folders are written by hand here with small, realistic numbers (the report reads files only).
Chromium is a system package (``apt-get install chromium``); the browser test is skipped only when
it is absent and not in CI (``CI`` unset); in CI its absence fails.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immunoreset.report.credibility import SECTIONS, write_credibility_report

HEADINGS = [heading for _, heading in SECTIONS]
PARAMETERS = ("k_exp", "d_eff", "stim50")


def _meta(title: str = "CAR expansion and B-cell return in SLE (Mackensen 2022)") -> dict:
    return {
        "schema": 1,
        "title": title,
        "created": "2025-03-14T10:22:05",
        "scenario": "integrated_cd19_41bb_erlangen",
        "model": "integrated",
        "method": "Powell",
        "starts": 5,
        "seed": 0,
        "nll": 41.2875,
        "n_converged": 3,
        "notes": ["stim50 ended at its upper bound: its Wald interval is not valid"],
        "versions": {"immunoreset": "0.9.0", "numpy": "2.4.6", "scipy": "1.16.0"},
        "data": {"observations": "patients.csv", "targets": "shipped:sle_car_t"},
        "parameters": [
            {
                "name": "k_exp",
                "lower": 0.1,
                "upper": 2.0,
                "log": True,
                "initial": 0.5,
                "unit": "1/day",
                "meaning": "CAR T-cell expansion rate",
                "source": "Stein 2019 (tisagenlecleucel), prior range",
            },
            {
                "name": "d_eff",
                "lower": 0.05,
                "upper": 1.0,
                "log": True,
                "initial": 0.2,
                "unit": "1/day",
                "meaning": "effector contraction rate",
                "source": "Stein 2019 alpha",
            },
            {
                "name": "stim50",
                "lower": 1.0,
                "upper": 100.0,
                "log": True,
                "initial": 10.0,
                "unit": "cells/uL",
                "meaning": "B cells giving half-maximal stimulation",
                "source": "platform assumption",
            },
        ],
    }


def _write(folder: Path, name: str, rows: list[dict] | pd.DataFrame) -> None:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    frame.to_csv(folder / name, index=False)


def _required(folder: Path, title: str | None = None) -> Path:
    """The files every calibration writes: calibration.json, estimates, convergence, correlation."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = _meta() if title is None else _meta(title)
    (folder / "calibration.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    _write(
        folder,
        "estimates.csv",
        [
            {"parameter": "k_exp", "estimate": 0.4123, "lower_95": 0.301, "upper_95": 0.5648,
             "se_estimation_scale": 0.1604, "scale": "log", "bound_lower": 0.1,
             "bound_upper": 2.0, "at_bound": False},
            {"parameter": "d_eff", "estimate": 0.1871, "lower_95": 0.0925, "upper_95": 0.3785,
             "se_estimation_scale": 0.3597, "scale": "log", "bound_lower": 0.05,
             "bound_upper": 1.0, "at_bound": False},
            {"parameter": "stim50", "estimate": 100.0, "lower_95": np.nan, "upper_95": np.nan,
             "se_estimation_scale": np.nan, "scale": "log", "bound_lower": 1.0,
             "bound_upper": 100.0, "at_bound": True},
        ],
    )  # fmt: skip
    starts = [
        (
            0,
            41.2875,
            True,
            (0.5, 0.2, 10.0),
            (0.4123, 0.1871, 100.0),
            412,
            "Optimization terminated",
        ),
        (
            3,
            41.2879,
            True,
            (1.2, 0.6, 3.0),
            (0.4121, 0.1874, 99.99),
            388,
            "Optimization terminated",
        ),
        (
            1,
            41.2881,
            True,
            (0.2, 0.1, 40.0),
            (0.4125, 0.1869, 100.0),
            455,
            "Optimization terminated",
        ),
        (4, 44.9102, True, (1.8, 0.9, 1.5), (1.102, 0.7431, 2.31), 301, "Optimization terminated"),
        (2, np.inf, False, (0.15, 0.9, 80.0), (0.15, 0.9, 80.0), 2000, "Maximum evaluations"),
    ]
    rows = []
    for start, nll, success, initial, final, evaluations, message in starts:
        row: dict[str, object] = {"start": start, "nll": nll, "success": success}
        row |= {f"initial_{n}": v for n, v in zip(PARAMETERS, initial, strict=True)}
        row |= dict(zip(PARAMETERS, final, strict=True))
        row |= {"evaluations": evaluations, "message": message}
        rows.append(row)
    _write(folder, "convergence.csv", rows)
    corr = pd.DataFrame(
        [[1.0, 0.95, np.nan], [0.95, 1.0, np.nan], [np.nan, np.nan, 1.0]],
        index=list(PARAMETERS),
        columns=list(PARAMETERS),
    )
    corr.to_csv(folder / "correlation.csv")
    return folder


def _full(folder: Path) -> Path:
    """A calibration folder with every file of the contract."""
    _required(folder)
    _write(
        folder,
        "verification.csv",
        [
            {"check": "solver agreement", "quantity": "car_t_blood", "value": 3.1e-9,
             "tolerance": 1e-6, "passed": True,
             "detail": "engine vs independent solver (SciPy LSODA, rtol 1e-10), max relative "
                       "difference"},
            {"check": "units", "quantity": "all observables", "value": 0.0, "tolerance": 0.0,
             "passed": True, "detail": "units of every observable declared"},
            {"check": "mass balance", "quantity": "b_cells_total", "value": 2.4e-3,
             "tolerance": 1e-4, "passed": False, "detail": "conservation without input"},
        ],
    )  # fmt: skip
    _write(
        folder,
        "targets.csv",
        [
            {"target": "mack22_b_return", "statistic": "mean_sd", "quantity":
             "return_day:b_cells_blood", "unit": "day", "loglik": -4.112, "evaluable": 200,
             "cohort_median": 104.0, "cohort_p05": 71.0, "cohort_p95": 160.0,
             "cohort_mean": 108.3, "observed": "mean 110 (SD 32), n = 5",
             "study": "Mackensen 2022 Nat Med 28:2124", "source": "doi 10.1038/s41591-022-02017-5"},
            {"target": "mack22_car_peak", "statistic": "observed_range", "quantity":
             "peak:car_t_blood", "unit": "cells/uL", "loglik": -9.871, "evaluable": 200,
             "cohort_median": 160.0, "cohort_p05": 22.0, "cohort_p95": 910.0,
             "cohort_mean": 260.5, "observed": "30 to 1000, n = 5",
             "study": "Mackensen 2022 Nat Med 28:2124", "source": "doi 10.1038/s41591-022-02017-5"},
            {"target": "hay17_crs", "statistic": "grade_percent", "quantity": "crs_max_grade",
             "unit": "grade", "loglik": -np.inf, "evaluable": 200, "cohort_median": 1.0,
             "cohort_p05": 0.0, "cohort_p95": 2.0, "cohort_mean": 0.9,
             "observed": "grades 0-5: 30/26/32/4.5/3.8/3.8 %, n = 133",
             "study": "Hay 2017 Blood 130:2295", "source": "PMID 28924019"},
        ],
    )  # fmt: skip
    rows = []
    for subject, scale in (("P1", 1.0), ("P2", 1.6)):
        for time, car, b in ((3, 8.0, 40.0), (7, 60.0, 2.0), (14, 22.0, 0.2), (28, 4.0, 0.2),
                             (90, 0.4, 35.0)):  # fmt: skip
            for name, value, pred in (
                ("car_t_blood", car * scale, car * 1.2),
                ("b_cells_blood", b * scale, b * 0.9),
            ):
                blq = name == "b_cells_blood" and b < 1.0
                shown = 1.0 if blq else value
                rows.append(
                    {
                        "subject": subject, "time": float(time), "name": name, "value": shown,
                        "unit": "cells/uL", "blq": blq, "lloq": 1.0 if name == "b_cells_blood"
                        else 0.1, "pred": pred,
                        "ipred_residual": np.nan if blq else float(np.log(value / pred)),
                    }
                )  # fmt: skip
    _write(folder, "predictions.csv", rows)
    times = np.array([0.0, 3, 7, 14, 28, 60, 90])
    car = np.array([0.05, 8.0, 55.0, 25.0, 5.0, 1.2, 0.5])
    b = np.array([120.0, 45.0, 1.5, 0.1, 0.1, 5.0, 40.0])
    vpc = [
        {"name": name, "time": t, "p05": m / 6.0, "p50": m, "p95": m * 6.0}
        for name, med in (("car_t_blood", car), ("b_cells_blood", b))
        for t, m in zip(times, med, strict=True)
    ]
    _write(folder, "vpc.csv", vpc)
    profiles = []
    for name, est, se in (("k_exp", 0.4123, 0.16), ("d_eff", 0.1871, 0.36)):
        for z in np.linspace(-3, 3, 7):
            delta = 0.5 * z**2
            profiles.append(
                {"parameter": name, "value": est * float(np.exp(z * se)), "nll": 41.2875 + delta,
                 "delta": delta, "inside_95": delta <= 1.92}
            )  # fmt: skip
    # stim50 at its upper bound: the grid is clipped there and the profile is flat (open)
    for value in np.geomspace(5.0, 100.0, 7):
        delta = 0.1 * float(np.log(100.0 / value))
        profiles.append(
            {"parameter": "stim50", "value": float(value), "nll": 41.2875 + delta,
             "delta": delta, "inside_95": True}
        )  # fmt: skip
    _write(folder, "profiles.csv", profiles)
    _write(
        folder,
        "sensitivity.csv",
        [
            {"method": "morris", "parameter": p, "output": o, "mu": mu, "mu_star": abs(mu),
             "sigma": s, "mu_star_conf": 0.1 * abs(mu)}
            for o, values in (
                ("peak:car_t_blood", ((2.1, 0.4), (-0.8, 0.2), (0.3, 0.05))),
                ("return_day:b_cells_blood", ((0.4, 0.1), (1.3, 0.6), (0.9, 0.3))),
            )
            for p, (mu, s) in zip(PARAMETERS, values, strict=True)
        ],
    )  # fmt: skip
    _write(
        folder,
        "local_sensitivity.csv",
        [
            {"parameter": p, "output": o, "sensitivity": s}
            for o, values in (("peak:car_t_blood", (1.92, -0.71, 0.12)),
                              ("return_day:b_cells_blood", (0.31, 0.88, 0.45)))
            for p, s in zip(PARAMETERS, values, strict=True)
        ],
    )  # fmt: skip
    _write(
        folder,
        "validation.csv",
        [
            {"dataset": "Mueller 2024 NEJM", "quantity": "return_day:b_cells_blood",
             "observed": 112.0, "predicted": 104.0, "predicted_p05": 71.0,
             "predicted_p95": 160.0, "within_interval": True},
            {"dataset": "Mueller 2024 NEJM", "quantity": "peak:car_t_blood",
             "observed": 1500.0, "predicted": 160.0, "predicted_p05": 22.0,
             "predicted_p95": 910.0, "within_interval": False},
        ],
    )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _full(tmp_path_factory.mktemp("credibility") / "full")
    write_credibility_report(folder)
    return folder


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _required(tmp_path_factory.mktemp("credibility") / "minimal")
    write_credibility_report(folder)
    return folder


def _page(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("which", ["full", "minimal"])
def test_every_section_present_and_self_contained(which: str, request) -> None:
    folder = request.getfixturevalue(which)
    page = _page(folder)
    for heading in HEADINGS:
        assert f">{heading}</h2>" in page, heading
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "external URL"
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', page)
    assert len(images) == len(list((folder / "figures").glob("credibility_*.png")))
    # the estimates and the correlation flag come from the required files
    assert "0.4123" in page and "0.1871" in page
    assert "at a bound: the Wald interval is not valid" in page
    assert '<td class="flag">0.950</td>' in page
    assert "k_exp and d_eff (r = 0.950)" in page
    assert "3 of 5 starts reached the best objective" in page
    assert "stim50 ended at its upper bound" in page  # the notes of the fit


def test_full_report_shows_every_kind_of_evidence(full: Path) -> None:
    page = _page(full)
    assert "not run:" not in page and "not shown:" not in page
    assert len(list((full / "figures").glob("credibility_*.png"))) == 6
    assert "1 of 3 checks failed" in page
    assert "SciPy LSODA, rtol 1e-10" in page
    assert "mean 110 (SD 32), n = 5" in page and "104 (71 to 160)" in page
    assert '<td class="flag">-inf</td>' in page  # a target the model cannot produce
    assert "20 samples of 2 subjects, 4 below the limit of quantification" in page
    assert "lie inside the simulated 5-95 % band" in page
    assert "1 of 3 profiles open" in page
    assert "open on both sides: the data do not bound it there" in page  # stim50
    assert "Morris elementary effects" in page and "return_day:b_cells_blood" in page
    assert "1.92" in page and "0.88" in page  # local sensitivities
    assert "1 of 2 observations outside the predicted 5-95 % interval" in page
    assert "immunoreset" in page and "0.9.0" in page and "SHA-256" in page


def test_minimal_report_says_what_was_not_run(minimal: Path) -> None:
    page = _page(minimal)
    for absent in (
        "verification.csv absent",
        "targets.csv absent",
        "predictions.csv absent",
        "vpc.csv absent",
        "profiles.csv absent",
        "sensitivity.csv absent",
        "local_sensitivity.csv absent",
        "validation.csv absent",
    ):
        assert f"not run: {absent}" in page, absent
    assert "a <code>validation:</code> section in the calibration config" in page
    assert len(list((minimal / "figures").glob("credibility_*.png"))) == 1  # starts only


def test_text_is_escaped_and_figures_replaced(tmp_path: Path) -> None:
    folder = _required(tmp_path / "c", title='<img src="x"> & fit')
    write_credibility_report(folder)
    write_credibility_report(folder)
    page = _page(folder)
    assert '<img src="x">' not in page and "&lt;img src=&quot;x&quot;&gt; &amp; fit" in page
    assert len(list((folder / "figures").glob("credibility_*.png"))) == 1


def test_unusable_files_are_said_not_crashed(tmp_path: Path) -> None:
    folder = _required(tmp_path / "c")
    (folder / "profiles.csv").write_text("", encoding="utf-8")
    _write(folder, "vpc.csv", [{"name": "car_t_blood", "time": 1.0}])
    _write(folder, "sensitivity.csv", [{"method": "fast", "parameter": "k_exp", "output": "x"}])
    (folder / "estimates.csv").unlink()
    page = write_credibility_report(folder).read_text(encoding="utf-8")
    assert "not shown: profiles.csv is empty" in page
    assert "not shown: vpc.csv lacks the column(s) p05, p50, p95" in page
    assert "method &#x27;fast&#x27; is unknown" in page
    assert "not shown: estimates.csv absent" in page
    for heading in HEADINGS:
        assert f">{heading}</h2>" in page


def test_sobol_indices_and_no_covariance(tmp_path: Path) -> None:
    folder = _required(tmp_path / "c")
    names = list(PARAMETERS)
    pd.DataFrame(np.full((3, 3), np.nan), index=names, columns=names).to_csv(
        folder / "correlation.csv"
    )
    _write(
        folder,
        "sensitivity.csv",
        [
            {"parameter": p, "output": "peak:car_t_blood", "S1": s1, "S1_conf": 0.04,
             "ST": st, "ST_conf": 0.05}
            for p, s1, st in zip(PARAMETERS, (0.61, 0.22, 0.03), (0.7, 0.3, 0.05), strict=True)
        ],
    )  # fmt: skip
    page = write_credibility_report(folder).read_text(encoding="utf-8")
    assert "Sobol indices" in page and "0.61" in page
    assert "correlation of the estimates is not estimable" in page
    assert len(list((folder / "figures").glob("credibility_*.png"))) == 2


def test_residual_column_named_residual(tmp_path: Path) -> None:
    """A predictions table whose residual column is ``residual`` (not ``ipred_residual``)."""
    folder = _full(tmp_path / "c")
    pred = pd.read_csv(folder / "predictions.csv").rename(columns={"ipred_residual": "residual"})
    pred.to_csv(folder / "predictions.csv", index=False)
    page = write_credibility_report(folder).read_text(encoding="utf-8")
    assert "mean residual 0.161" in page


def test_reads_files_only() -> None:
    """The report imports no engine, model or calibration code (checked in a fresh interpreter)."""
    import sys

    code = (
        "import sys, immunoreset.report.credibility;"
        "print(sorted(m for m in sys.modules if m.startswith(('immunoreset.model',"
        " 'immunoreset.calibrate', 'immunoreset.simulate', 'immunoreset.scenario', 'numba'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_not_a_calibration_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"calibration\.json"):
        write_credibility_report(tmp_path)


# ----------------------------------------------------------------------------------------------
# In a real browser


def test_report_renders_in_chromium(full: Path, tmp_path: Path, chromium) -> None:
    shot = tmp_path / "report.png"
    done, console = chromium.screenshot(full / "report.html", shot, tmp_path / "profile")
    chromium.assert_rendered(done, console, shot)
