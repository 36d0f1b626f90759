"""Virtual populations: covariate marginals and correlations, per-patient streams, digital twins,
eligibility and allocation.

Sample statistics of 4,000 draws are compared with the distribution's own values within about four
standard errors (a false alarm about once in 15,000 runs, and the draws are seeded anyway).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immunoreset.trial import TrialError, covariate_set, draw_covariates, parse_trial
from immunoreset.trial.allocation import allocate, dropout_days
from immunoreset.trial.design import Arm, Criterion
from immunoreset.trial.eligibility import screen, screening_log
from immunoreset.trial.twins import TwinError, read_twins

N = 4000


@pytest.fixture(scope="module")
def draws() -> pd.DataFrame:
    return draw_covariates(covariate_set("sle_refractory"), np.arange(N), seed=11)


def test_every_covariate_has_a_source_and_stays_in_bounds(draws: pd.DataFrame) -> None:
    cset = covariate_set("sle_refractory")
    for cov in cset.covariates:
        assert cov.source and cov.confidence in ("H", "M", "L", "assumption")
        assert draws[cov.name].between(cov.low, cov.high).all(), cov.name


def test_marginals(draws: pd.DataFrame) -> None:
    cset = {c.name: c for c in covariate_set("sle_refractory").covariates}
    se = 1 / np.sqrt(N)
    assert draws["sex_female"].mean() == pytest.approx(cset["sex_female"].a, abs=4 * 0.3 * se)
    # log-normal median: the sample median of the log is within 4 SE (SD of log x 1.25 / sqrt N)
    median = np.median(np.log(draws["anti_dsdna"]))
    assert median == pytest.approx(np.log(470), abs=4 * 1.25 * 1.0 * se)
    assert draws["sledai_2k"].eq(draws["sledai_2k"].round()).all()  # whole points


def test_correlations_follow_the_copula(draws: pd.DataFrame) -> None:
    """Every listed pair of continuous covariates has the Spearman coefficient of its latent
    normal pair, (6/pi) asin(rho/2), within 4 SE (truncation at the bounds and rounding move it by
    far less); pairs with a 0/1 covariate have the sign of rho; an unlisted pair is independent."""
    cset = covariate_set("sle_refractory")
    binary = {c.name for c in cset.covariates if c.distribution == "bernoulli"}
    names = [c.name for c in cset.covariates]
    checked = 0
    for i, j in zip(*np.nonzero(np.triu(cset.correlation, 1)), strict=True):
        a, b, rho = names[i], names[j], cset.correlation[i, j]
        observed = draws[[a, b]].corr("spearman").iloc[0, 1]
        if a in binary or b in binary:
            assert np.sign(observed) == np.sign(rho), (a, b)
        else:
            expected = 6 / np.pi * np.arcsin(rho / 2)
            assert observed == pytest.approx(expected, abs=4 * se_of(N)), (a, b)
            checked += 1
    assert checked >= 5
    assert abs(draws[["age_years", "anti_dsdna"]].corr("spearman").iloc[0, 1]) < 4 * se_of(N)


def se_of(n: int) -> float:
    return 1 / np.sqrt(n)


def test_patient_streams_do_not_depend_on_the_batch(draws: pd.DataFrame) -> None:
    part = draw_covariates(covariate_set("sle_refractory"), np.array([17, 3, 2500]), seed=11)
    expected = draws.set_index("patient_id").loc[[17, 3, 2500]].reset_index()
    pd.testing.assert_frame_equal(part, expected)


def test_bsa_is_mosteller(draws: pd.DataFrame) -> None:
    row = draws.iloc[0]
    assert row["bsa_m2"] == pytest.approx(
        np.sqrt(row["height_cm"] * row["weight_kg"] / 3600),
        abs=5e-4,  # rounded to 3 decimals
    )


def test_screening_log_counts_first_and_all_failures() -> None:
    frame = pd.DataFrame({"a": [1, 5, 9, 2], "b": [0, 1, 0, 1]})
    crit = [Criterion(covariate="a", op=">=", value=3), Criterion(covariate="b", op="==", value=0)]
    out = screen(frame, crit)
    assert out["eligible"].tolist() == [False, False, True, False]
    failures = out["screen_failure"]
    assert failures[~out["eligible"]].tolist() == ["a >= 3", "b == 0", "a >= 3"]
    assert failures[out["eligible"]].isna().all()
    log = screening_log(out, crit)
    assert log["failed"].tolist() == [2, 2]
    assert log["failed_first"].tolist() == [2, 1]


def test_permuted_blocks_balance_each_stratum() -> None:
    arms = [Arm(name="a", code="A", ratio=2), Arm(name="b", code="B")]
    enrolled = pd.DataFrame({"patient_id": np.arange(48), "s": np.repeat([0, 1], 24)})
    arm = allocate(enrolled, arms, ["s"], 6, seed=3)
    for _, codes in arm.groupby(enrolled["s"]):
        counts = codes.value_counts()
        assert (counts["A"], counts["B"]) == (16, 8)  # 4 complete blocks of 6 seats per stratum
    again = allocate(enrolled, arms, ["s"], 6, seed=3)
    assert arm.equals(again)
    assert not arm.equals(allocate(enrolled, arms, ["s"], 6, seed=4))


def test_dropout_is_exponential() -> None:
    days = dropout_days(np.arange(N), 1.0, seed=5)
    # mean 365.25 d; SE of the mean of N exponentials = mean / sqrt(N)
    assert days.mean() == pytest.approx(365.25, abs=4 * 365.25 / np.sqrt(N))
    assert np.isinf(dropout_days(np.arange(3), 0.0, seed=5)).all()


def test_twins_csv_is_validated(tmp_path: Path) -> None:
    cset = covariate_set("sle_refractory")
    good = tmp_path / "twins.csv"
    good.write_text("subject_id,age_years,weight_kg,height_cm,sledai_2k\nP1,30,60,165,12\n")
    twins = read_twins(good, cset)
    assert twins["bsa_m2"].iat[0] == pytest.approx(np.sqrt(165 * 60 / 3600), abs=5e-4)
    for text, word in [
        ("age_years,shoe\n30,42\n", "shoe"),
        ("age_years\n300\n", "age_years"),
        ("age_years\n\n", "no rows"),
        ("age_years\nold\n", "age_years"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(TwinError, match=word):
            read_twins(bad, cset)


def test_twins_in_a_trial_file(tmp_path: Path, small_path: Path) -> None:
    import yaml

    doc = yaml.safe_load(small_path.read_text())
    columns = [
        "age_years",
        "weight_kg",
        "b_cells_blood",
        "anti_dsdna",
        "c3",
        "proteinuria",
        "sledai_2k",
        "active_infection",
        "nephritis",
    ]
    rows = [[30, 60, 100, 300, 50, 2000, 12, 0, 1]] * 12
    pd.DataFrame(rows, columns=columns).to_csv(tmp_path / "twins.csv", index=False)
    doc["population"]["covariates"] = "twins.csv"
    trial = parse_trial(doc, "t.yaml", tmp_path)
    assert len(trial.twins) == 12
    del columns[1]
    pd.DataFrame([r[:1] + r[2:] for r in rows], columns=columns).to_csv(
        tmp_path / "twins.csv", index=False
    )
    with pytest.raises(TrialError, match=r"population\.relations"):  # weight_kg is needed
        parse_trial(doc, "t.yaml", tmp_path)
