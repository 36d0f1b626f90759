"""Virtual-population selection: acceptance-rejection and prevalence weighting (Allen 2016)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from immunoreset.calibrate.vpop import (
    Selection,
    TargetDistribution,
    acceptance_rejection,
    effective_sample_size,
    ks_weighted,
    prevalence_weights,
)


def _cloud(n: int, seed: int, **columns: tuple[str, float, float]) -> pd.DataFrame:
    """A cloud of ``n`` plausible patients; each column drawn from ('normal', mean, sd) or
    ('uniform', low, high)."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {"patient_id": np.arange(n)}
    for name, (kind, a, b) in columns.items():
        data[name] = rng.normal(a, b, n) if kind == "normal" else rng.uniform(a, b, n)
    return pd.DataFrame(data)


def _weighted_stats(selection: Selection, cloud: pd.DataFrame, columns: list[str]):
    x = cloud.set_index("patient_id").loc[selection.patient_id, columns].to_numpy()
    w = selection.weights
    mean = w @ x
    cov = ((x - mean).T * w) @ (x - mean) / (1 - np.sum(w**2))
    return mean, cov


@pytest.fixture(scope="module")
def broad_cloud() -> pd.DataFrame:
    # A cloud three times as wide as the target, centred away from it.
    return _cloud(4000, 11, crp=("normal", 0.0, 3.0))


@pytest.fixture(scope="module")
def accepted(broad_cloud: pd.DataFrame) -> Selection:
    return acceptance_rejection(broad_cloud, {"crp": TargetDistribution.normal(1.0, 1.0)}, 2016)


# -- acceptance-rejection ----------------------------------------------------------------------


def test_acceptance_rejection_matches_a_narrower_normal(accepted: Selection) -> None:
    # The density ratio N(1, 1) / N(0, 9) peaks at 3.19 (x = 9/8), so about 4000 / 3.19 = 1250
    # patients are kept. Sampling error of the kept sample: SE(mean) = 1/sqrt(1250) = 0.028,
    # SE(sd) = 1/sqrt(2 * 1250) = 0.020; the kernel estimate's bandwidth (Scott: 3 * 4000^-1/5
    # = 0.57) changes the cloud variance by 4 % and the selected sd by under 0.5 %. Tolerances are
    # 4 standard errors.
    assert 1100 <= accepted.n_selected <= 1400
    row = accepted.summary().iloc[0]
    assert abs(row["mean_selected"] - 1.0) < 4 * 0.028
    assert abs(row["sd_selected"] - 1.0) < 4 * 0.020
    assert row["ks_pvalue"] > 0.05
    assert row["mean_target"] == 1.0 and row["sd_target"] == 1.0


def test_acceptance_ks_is_the_exact_one_sample_test(
    accepted: Selection, broad_cloud: pd.DataFrame
) -> None:
    # With equal weights the reported KS statistic and p-value are scipy's exact one-sample test.
    kept = broad_cloud.set_index("patient_id").loc[accepted.selected, "crp"].to_numpy()
    ref = stats.kstest(kept, stats.norm(1.0, 1.0).cdf, method="exact")
    row = accepted.summary().iloc[0]
    assert row["ks_statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["ks_pvalue"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_ess_of_equal_weights_is_the_number_kept(accepted: Selection) -> None:
    assert accepted.ess == pytest.approx(accepted.n_selected, rel=1e-12)
    assert effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    assert effective_sample_size(np.array([0.0, 2.0, 2.0, 0.0])) == pytest.approx(2.0)
    # Kish: one dominant weight leaves about one effective patient.
    assert effective_sample_size(np.array([1.0, 1e-6, 1e-6])) == pytest.approx(1.0, rel=1e-5)
    assert accepted.weights.sum() == pytest.approx(1.0)


def test_same_seed_same_selection_whatever_the_row_order(broad_cloud: pd.DataFrame) -> None:
    targets = {"crp": TargetDistribution.normal(1.0, 1.0)}
    first = acceptance_rejection(broad_cloud, targets, 7)
    shuffled = broad_cloud.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = acceptance_rejection(shuffled, targets, 7)
    assert np.array_equal(first.selected, again.selected)
    assert np.array_equal(first.weights, again.weights)
    other = acceptance_rejection(broad_cloud, targets, 8)
    assert not np.array_equal(first.selected, other.selected)


def test_acceptance_probability_follows_the_density_ratio(accepted: Selection) -> None:
    prob = accepted.info["acceptance_probability"]
    assert prob.max() == pytest.approx(1.0)
    assert prob.min() >= 0.0
    # The expected number kept is the sum of the probabilities; the realised number lies within
    # 4 binomial standard deviations of it.
    expected = accepted.info["expected_n_selected"]
    sd = math.sqrt(np.sum(prob * (1 - prob)))
    assert abs(accepted.n_selected - expected) < 4 * sd


def test_acceptance_joint_normal_keeps_the_correlation() -> None:
    cloud = _cloud(3000, 5, a=("normal", 1.0, 2.0), b=("normal", 2.0, 2.0))
    target = TargetDistribution.multivariate_normal(
        ["a", "b"], [1.0, 2.0], [[1.0, 0.6], [0.6, 1.0]]
    )
    sel = acceptance_rejection(cloud, {"joint": target}, 1)
    mean, cov = _weighted_stats(sel, cloud, ["a", "b"])
    corr = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
    # About 500 kept: SE(mean) = 0.045, SE(corr) = (1 - 0.36) / sqrt(500) = 0.029; 4 SE.
    assert sel.n_selected > 300
    assert np.all(np.abs(mean - [1.0, 2.0]) < 4 / math.sqrt(sel.n_selected))
    assert abs(corr - 0.6) < 4 * 0.64 / math.sqrt(sel.n_selected)
    assert (sel.summary()["ks_pvalue"] > 0.01).all()


def test_acceptance_against_observed_data_uses_the_two_sample_ks() -> None:
    observed = np.random.default_rng(99).lognormal(0.5, 0.3, 400)
    cloud = _cloud(3000, 6, il6=("uniform", 0.0, 6.0))
    sel = acceptance_rejection(cloud, {"il6": TargetDistribution.empirical(observed)}, 4)
    kept = cloud.set_index("patient_id").loc[sel.selected, "il6"].to_numpy()
    ref = stats.ks_2samp(kept, observed)
    row = sel.summary().iloc[0]
    assert row["ks_statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["ks_pvalue"] > 0.01
    # The target mean is the observed mean; SE of the kept mean is sd/sqrt(n) with sd = 0.55.
    assert abs(row["mean_selected"] - observed.mean()) < 4 * 0.55 / math.sqrt(sel.n_selected)


def test_lognormal_target_never_keeps_values_outside_its_support() -> None:
    cloud = _cloud(2000, 8, ferritin=("uniform", -2.0, 8.0))
    sel = acceptance_rejection(cloud, {"ferritin": TargetDistribution.lognormal(0.7, 0.4)}, 3)
    kept = cloud.set_index("patient_id").loc[sel.selected, "ferritin"]
    assert (kept > 0).all()
    target_mean, target_sd = TargetDistribution.lognormal(0.7, 0.4).marginal_moments(0)
    assert target_mean == pytest.approx(math.exp(0.7 + 0.08))
    assert abs(kept.mean() - target_mean) < 4 * target_sd / math.sqrt(len(kept))


# -- prevalence weighting ----------------------------------------------------------------------


def test_prevalence_weights_match_a_narrower_normal() -> None:
    cloud = _cloud(6000, 21, crp=("uniform", -6.0, 10.0))
    sel = prevalence_weights(cloud, {"crp": TargetDistribution.normal(1.0, 1.0)}, bins=20)
    assert sel.info["converged"]
    assert sel.weights.min() >= 0 and sel.weights.sum() == pytest.approx(1.0)
    # Raking matches the target's bin probabilities exactly (every bin holds patients).
    assert sel.info["max_bin_error"] < 1e-9
    assert sel.info["unreached_probability"]["crp"] == 0.0
    row = sel.summary().iloc[0]
    # ESS about 1300 (the cloud is uniform over 16 sd): SE(mean) = 0.028, SE(sd) = 0.020. Within a
    # bin the weighted values follow the uniform cloud, not the target's curvature, which widens
    # the weighted sd by about 1-2 % with 20 bins; tolerances are 4 SE (plus 0.02 for the sd).
    se = 1 / math.sqrt(sel.ess)
    assert sel.ess > 1000
    assert abs(row["mean_selected"] - 1.0) < 4 * se
    assert abs(row["sd_selected"] - 1.0) < 4 * se / math.sqrt(2) + 0.02
    assert row["ks_pvalue"] > 0.05


def test_prevalence_weights_ks_for_equal_weights_is_the_exact_test() -> None:
    x = np.random.default_rng(1).normal(size=50)
    target = TargetDistribution.normal(0.0, 1.0)
    d, p = ks_weighted(x, np.full(50, 1 / 50), target, 0, 50.0)
    ref = stats.kstest(x, "norm", method="exact")
    assert d == pytest.approx(ref.statistic, rel=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_prevalence_weights_match_a_joint_normal() -> None:
    cloud = _cloud(6000, 22, a=("normal", 0.0, 2.5), b=("uniform", -4.0, 8.0))
    target = TargetDistribution.multivariate_normal(
        ["a", "b"], [1.0, 2.0], [[1.0, 0.6], [0.6, 1.0]]
    )
    sel = prevalence_weights(cloud, {"joint": target}, bins=10)
    mean, cov = _weighted_stats(sel, cloud, ["a", "b"])
    corr = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
    se = 1 / math.sqrt(sel.ess)
    # A 16 x 16 grid in whitened coordinates: the correlation is matched to the grid's resolution
    # (about 0.02) plus sampling error (0.64 SE).
    assert abs(corr - 0.6) < 4 * 0.64 * se + 0.02
    assert np.all(np.abs(mean - [1.0, 2.0]) < 4 * se)
    assert (sel.summary()["ks_pvalue"] > 0.01).all()


def test_prevalence_weights_rake_two_targets_at_once() -> None:
    cloud = _cloud(6000, 25, a=("normal", 0.0, 2.5), b=("uniform", 0.05, 8.0))
    targets = {
        "a": TargetDistribution.normal(1.0, 1.0),
        "b": TargetDistribution.lognormal(0.5, 0.4),
    }
    sel = prevalence_weights(cloud, targets, bins=20)
    # Each target's bins are matched after a few raking sweeps (one would do for a single target).
    assert sel.info["converged"] and sel.info["iterations"] > 1
    fit = sel.summary().set_index("marker")
    se = 1 / math.sqrt(sel.ess)
    assert abs(fit.loc["a", "mean_selected"] - 1.0) < 4 * se
    b_mean, b_sd = targets["b"].marginal_moments(0)
    assert abs(fit.loc["b", "mean_selected"] - b_mean) < 4 * b_sd * se
    assert (fit["ks_pvalue"] > 0.01).all()


def test_prevalence_weights_report_target_mass_the_cloud_does_not_reach() -> None:
    # The cloud starts at the target's mean: half of the target's probability lies below every
    # plausible patient and cannot be matched.
    cloud = _cloud(3000, 26, crp=("uniform", 1.0, 8.0))
    sel = prevalence_weights(cloud, {"crp": TargetDistribution.normal(1.0, 1.0)}, bins=20)
    assert sel.info["unreached_probability"]["crp"] == pytest.approx(0.5)
    assert sel.summary().iloc[0]["ks_pvalue"] < 1e-6


def test_prevalence_weights_give_no_weight_outside_the_support() -> None:
    cloud = _cloud(3000, 23, ferritin=("uniform", -2.0, 10.0))
    sel = prevalence_weights(cloud, {"ferritin": TargetDistribution.lognormal(0.7, 0.4)})
    values = cloud.set_index("patient_id").loc[sel.patient_id, "ferritin"].to_numpy()
    assert np.all(sel.weights[values <= 0] == 0)
    assert sel.summary().iloc[0]["ks_pvalue"] > 0.01


def test_prevalence_weights_leave_a_matching_cloud_nearly_even() -> None:
    # A cloud already distributed as the target needs little reweighting: raking stays as close
    # to the cloud's own (equal) weights as the bins allow, so the ESS stays close to its size
    # (only the random bin counts, about N q +- sqrt(N q), are evened out).
    cloud = _cloud(3000, 24, crp=("normal", 1.0, 1.0))
    sel = prevalence_weights(cloud, {"crp": TargetDistribution.normal(1.0, 1.0)}, bins=10)
    assert sel.ess > 0.9 * len(cloud)


def test_selection_table_lists_every_patient(accepted: Selection) -> None:
    table = accepted.table()
    assert list(table.columns) == ["patient_id", "weight", "selected"]
    assert table["selected"].sum() == accepted.n_selected
    assert list(accepted.summary().columns) == [
        "marker", "target", "n_selected", "ess", "mean_selected", "mean_target",
        "sd_selected", "sd_target", "ks_statistic", "ks_pvalue",
    ]  # fmt: skip


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [acceptance_rejection, prevalence_weights])
def test_missing_marker_column_names_it(method, broad_cloud: pd.DataFrame) -> None:
    targets = {"il6": TargetDistribution.normal(1.0, 1.0)}
    args = (broad_cloud, targets, 1) if method is acceptance_rejection else (broad_cloud, targets)
    with pytest.raises(ValueError, match=r"column 'il6' is missing; allowed: .*crp"):
        method(*args)


def test_missing_id_column_names_it(broad_cloud: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"column 'patient_id' is missing"):
        acceptance_rejection(
            broad_cloud.drop(columns="patient_id"), {"crp": TargetDistribution.normal(0, 1)}, 1
        )


def test_empty_cloud_is_rejected() -> None:
    empty = pd.DataFrame({"patient_id": np.array([], dtype=int), "crp": np.array([])})
    with pytest.raises(ValueError, match=r"cloud: got 0 rows; allowed: at least one"):
        prevalence_weights(empty, {"crp": TargetDistribution.normal(0, 1)})


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: TargetDistribution.normal(0.0, 0.0), r"sd: got 0.0; allowed: a finite number > 0"),
        (lambda: TargetDistribution.normal(0.0, -1.0), r"sd: got -1.0; allowed"),
        (lambda: TargetDistribution.lognormal(0.0, 0.0), r"sdlog: got 0.0; allowed"),
        (lambda: TargetDistribution.normal(math.nan, 1.0), r"mean: got \(nan,\); allowed"),
        (lambda: TargetDistribution.empirical([3.0]), r"data: got 1 values; allowed: at least 2"),
        (
            lambda: TargetDistribution.multivariate_normal(["a", "b"], [0, 0], [[1, 1], [1, 1]]),
            r"covariance: got a matrix that is not positive definite",
        ),
        (
            lambda: TargetDistribution.multivariate_normal(["a", "b"], [0], [[1, 0], [0, 1]]),
            r"mean: got \(0.0,\); allowed: 2 finite numbers",
        ),
        (lambda: TargetDistribution("gamma"), r"kind: got 'gamma'; allowed: normal, lognormal"),
    ],
)
def test_bad_target_names_field_value_and_allowed(make, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        make()


def test_bad_ids_and_values_are_named(broad_cloud: pd.DataFrame) -> None:
    target = {"crp": TargetDistribution.normal(0, 1)}
    repeated = broad_cloud.assign(patient_id=broad_cloud["patient_id"] % 100)
    with pytest.raises(ValueError, match=r"patient_id: id 0 repeats; allowed: unique ids"):
        acceptance_rejection(repeated, target, 1)
    holes = broad_cloud.copy()
    holes.loc[5, "crp"] = np.nan
    with pytest.raises(ValueError, match=r"cloud.crp: got nan for patient_id 5; allowed: finite"):
        prevalence_weights(holes, target)
    with pytest.raises(ValueError, match=r"bins: got 1; allowed: an integer >= 2"):
        prevalence_weights(broad_cloud, target, bins=1)
    with pytest.raises(ValueError, match=r"rng_seed: got -3; allowed: an integer >= 0"):
        acceptance_rejection(broad_cloud, target, -3)


def test_a_marker_with_two_targets_is_rejected(broad_cloud: pd.DataFrame) -> None:
    joint = TargetDistribution.multivariate_normal(["crp"], [0.0], [[1.0]])
    with pytest.raises(ValueError, match=r"marker 'crp' already has a target"):
        prevalence_weights(broad_cloud, {"crp": TargetDistribution.normal(0, 1), "j": joint})


def test_a_target_outside_the_cloud_is_rejected() -> None:
    cloud = _cloud(500, 1, ferritin=("uniform", -5.0, -1.0))
    with pytest.raises(ValueError, match=r"no patient of the cloud lies where the target"):
        acceptance_rejection(cloud, {"ferritin": TargetDistribution.lognormal(0.0, 1.0)}, 1)
