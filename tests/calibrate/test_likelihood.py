"""Likelihoods of summary statistics: hand-computed values, and properties checked independently
(the binomial peaks at k/n, the order-statistic densities integrate to 1, the median SE matches
simulated sample medians, the M3 term is the normal probability below the limit)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from immunoreset.calibrate.data import load_shipped_targets, read_targets
from immunoreset.calibrate.likelihood import (
    MEDIAN_SE_FACTOR,
    MIN_EVALUABLE,
    LogLik,
    clip_probability,
    grade_counts_loglik,
    grade_percent_loglik,
    has_likelihood,
    individual_loglik,
    lower_bound_loglik,
    mean_change_percent_loglik,
    mean_sd_loglik,
    median_iqr_loglik,
    median_loglik,
    median_range_loglik,
    median_standard_error,
    medians_at_times_loglik,
    observed_minimum_loglik,
    observed_range_loglik,
    percent_to_counts,
    population_typical_loglik,
    proportion_loglik,
    quantile_covariance,
    target_loglik,
)

LOG_2PI = math.log(2.0 * math.pi)


def norm_logpdf(x: float, mu: float, sd: float) -> float:
    return -0.5 * LOG_2PI - math.log(sd) - (x - mu) ** 2 / (2.0 * sd * sd)


def norm_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


COHORT = np.array([90.0, 100.0, 110.0, 120.0, 130.0] * 4)  # 20 patients, mean 110


# --- means ----------------------------------------------------------------------------------


def test_mean_sd_is_normal_with_the_cohort_sd_over_sqrt_n() -> None:
    sd = float(np.std(COHORT, ddof=1))
    ll = mean_sd_loglik(120.0, 32.0, 5, COHORT)
    assert ll == pytest.approx(norm_logpdf(120.0, 110.0, sd / math.sqrt(5)))
    assert ll.reason == ""


def test_mean_sd_falls_back_to_the_reported_sd_for_a_cohort_without_spread() -> None:
    ll = mean_sd_loglik(110.0, 32.0, 5, np.full(20, 100.0))
    assert ll == pytest.approx(norm_logpdf(110.0, 100.0, 32.0 / math.sqrt(5)))


def test_mean_sd_with_the_chi_square_term_for_the_sd() -> None:
    n, s_obs = 5, 32.0
    var = float(np.var(COHORT, ddof=1))
    x = (n - 1) * s_obs**2 / var
    k = n - 1
    chi2 = (k / 2 - 1) * math.log(x) - x / 2 - (k / 2) * math.log(2.0) - math.lgamma(k / 2)
    expected = norm_logpdf(110.0, 110.0, math.sqrt(var / n)) + chi2 + math.log(k / var)
    assert mean_sd_loglik(110.0, s_obs, n, COHORT, include_sd=True) == pytest.approx(expected)
    without = mean_sd_loglik(110.0, s_obs, n, COHORT)
    assert without == pytest.approx(norm_logpdf(110.0, 110.0, math.sqrt(var / n)))
    with pytest.raises(ValueError, match="n >= 2"):
        mean_sd_loglik(110.0, s_obs, 1, COHORT, include_sd=True)


def test_mean_change_percent_uses_cohort_sd_then_the_reported_one() -> None:
    change = COHORT - 130.0  # percent changes, mean -20
    sd = float(np.std(change, ddof=1))
    assert mean_change_percent_loglik(-17.5, 8, change) == pytest.approx(
        norm_logpdf(-17.5, -20.0, sd / math.sqrt(8))
    )
    flat = np.full(20, -15.0)
    assert mean_change_percent_loglik(-17.5, 8, flat, sd=10.0) == pytest.approx(
        norm_logpdf(-17.5, -15.0, 10.0 / math.sqrt(8))
    )
    ll = mean_change_percent_loglik(-17.5, 8, flat)
    assert ll == -math.inf and "no spread" in ll.reason


# --- medians ----------------------------------------------------------------------------------


def test_median_se_matches_simulated_sample_medians(rng: np.random.Generator) -> None:
    n, sigma = 51, 2.0
    medians = np.median(rng.normal(5.0, sigma, size=(20000, n)), axis=1)
    assert abs(MEDIAN_SE_FACTOR - 1.2533) < 1e-4
    assert float(np.std(medians)) == pytest.approx(median_standard_error(sigma, n), rel=0.05)


def test_quartile_covariance_matches_simulation(rng: np.random.Generator) -> None:
    n = 101
    samples = rng.normal(0.0, 1.0, size=(20000, n))
    q = np.percentile(samples, [25, 50, 75], axis=1)
    cov = quantile_covariance([0.25, 0.5, 0.75], 1.0, n)
    assert cov[1, 1] == pytest.approx(median_standard_error(1.0, n) ** 2)
    assert np.diag(np.cov(q)) == pytest.approx(np.diag(cov), rel=0.08)
    corr = np.corrcoef(q)[0, 2]  # theory: 0.25 * 0.25 / (0.25 * 0.75) = 1/3
    assert corr == pytest.approx(1.0 / 3.0, abs=0.04)


def test_median_on_the_log_scale_by_hand(rng: np.random.Generator) -> None:
    sim = rng.lognormal(math.log(9.0), 0.3, 400)
    q1, med, q3 = np.percentile(sim, [25, 50, 75])
    sigma = (math.log(q3) - math.log(q1)) / 1.3489795
    expected = norm_logpdf(math.log(8.5), math.log(med), 1.2533141 * sigma / math.sqrt(22))
    assert median_loglik(8.5, 22, sim) == pytest.approx(expected, rel=1e-6)
    natural = norm_logpdf(8.5, med, 1.2533141 * (q3 - q1) / 1.3489795 / math.sqrt(22))
    assert median_loglik(8.5, 22, sim, log_scale=False) == pytest.approx(natural, rel=1e-6)
    with pytest.raises(ValueError, match="log scale"):
        median_loglik(-1.0, 22, sim)


def test_median_falls_back_to_a_reported_spread() -> None:
    flat = np.full(30, 9.0)
    ll = median_loglik(8.5, 22, flat)
    assert ll == -math.inf and "no spread" in ll.reason
    ll = median_loglik(8.5, 22, flat, fallback_sigma=0.3)
    assert ll == pytest.approx(norm_logpdf(math.log(8.5), math.log(9.0), 1.2533141 * 0.3 / 22**0.5))


def test_median_iqr_joint_quartiles_by_hand(rng: np.random.Generator) -> None:
    sim = rng.lognormal(math.log(7.0), 0.4, 300)
    obs = np.log([5.5, 7.0, 9.0])
    centre = np.log(np.percentile(sim, [25, 50, 75]))
    sigma = (centre[2] - centre[0]) / 1.3489795
    n = 30
    p = np.array([0.25, 0.5, 0.75])
    dens = np.exp(-0.5 * (np.array([-0.6744898, 0.0, 0.6744898])) ** 2) / math.sqrt(2 * math.pi)
    cov = np.minimum.outer(p, p) * (1 - np.maximum.outer(p, p)) / (n * np.outer(dens, dens))
    cov *= sigma**2
    r = obs - centre
    expected = -0.5 * (3 * LOG_2PI + math.log(np.linalg.det(cov)) + r @ np.linalg.solve(cov, r))
    assert median_iqr_loglik(7.0, 5.5, 9.0, n, sim) == pytest.approx(expected, rel=1e-5)
    only_median = median_iqr_loglik(7.0, 5.5, 9.0, n, sim, use_quartiles=False)
    assert only_median == pytest.approx(median_loglik(7.0, n, sim))


def test_median_range_is_median_plus_range_term(rng: np.random.Generator) -> None:
    sim = rng.lognormal(math.log(120.0), 1.0, 300)
    total = median_range_loglik(120.0, 30.0, 1000.0, 12, sim)
    parts = median_loglik(120.0, 12, sim) + observed_range_loglik(30.0, 1000.0, 12, sim)
    assert total == pytest.approx(parts)
    assert median_range_loglik(120.0, 30.0, 1000.0, 12, sim, include_range=False) == (
        pytest.approx(median_loglik(120.0, 12, sim))
    )


def test_medians_at_times_sum_the_times(rng: np.random.Generator) -> None:
    medians = [27.5, 9.1, 2.1, 0.1]
    sim = rng.lognormal(np.log(medians), 1.0, size=(200, 4))
    sim[:5, 3] = np.nan  # five patients not evaluable on the last day
    expected = sum(median_loglik(m, 19, sim[:, j]) for j, m in enumerate(medians))
    assert medians_at_times_loglik(medians, 19, sim) == pytest.approx(expected)
    with pytest.raises(ValueError, match="patients x 4 times"):
        medians_at_times_loglik(medians, 19, sim[:, :3])
    sim[:195, 2] = np.nan
    ll = medians_at_times_loglik(medians, 19, sim)
    assert ll == -math.inf and ll.reason.startswith("time 3 of 4: 5 evaluable")


def test_medians_tolerate_a_few_events_never_reached(rng: np.random.Generator) -> None:
    sim = rng.lognormal(math.log(100.0), 0.3, 100)
    censored = sim.copy()
    censored[np.argsort(sim)[-10:]] = np.inf  # the ten latest never return
    assert median_loglik(110.0, 5, censored) == pytest.approx(median_loglik(110.0, 5, sim))
    censored[:40] = np.inf
    assert "never reach the event" in median_loglik(110.0, 5, censored).reason
    assert "infinite value" in mean_sd_loglik(110.0, 32.0, 5, censored).reason


# --- order statistics ---------------------------------------------------------------------------


def test_observed_range_lognormal_by_hand(rng: np.random.Generator) -> None:
    sim = rng.lognormal(math.log(200.0), 1.2, 250)
    logs = np.log(sim)
    mu, s = float(np.mean(logs)), float(np.std(logs, ddof=1))

    def log_f(x: float) -> float:
        return norm_logpdf(math.log(x), mu, s) - math.log(x)

    def big_f(x: float) -> float:
        return norm_cdf((math.log(x) - mu) / s)

    n, low, high = 5, 30.0, 1000.0
    expected = (
        math.log(n * (n - 1))
        + log_f(low)
        + log_f(high)
        + (n - 2) * math.log(big_f(high) - big_f(low))
    )
    assert observed_range_loglik(low, high, n, sim) == pytest.approx(expected, rel=1e-9)
    assert observed_range_loglik(50.0, 50.0, 1, sim) == pytest.approx(log_f(50.0))
    assert observed_range_loglik(50.0, 60.0, 1, sim) == -math.inf


def test_observed_range_density_integrates_to_one(rng: np.random.Generator) -> None:
    sim = rng.normal(10.0, 2.0, 40)
    m, s = float(np.mean(sim)), float(np.std(sim, ddof=1))
    lo, hi = m - 8 * s, m + 8 * s
    total, _ = integrate.dblquad(
        lambda h, low: math.exp(observed_range_loglik(low, h, 4, sim, dist="normal")),
        lo, hi, lambda low: low, hi, epsabs=1e-6,
    )  # fmt: skip
    assert total == pytest.approx(1.0, abs=1e-4)


def test_observed_minimum_by_hand_and_integrates_to_one(rng: np.random.Generator) -> None:
    sim = rng.lognormal(3.0, 0.8, 60)
    logs = np.log(sim)
    mu, s = float(np.mean(logs)), float(np.std(logs, ddof=1))
    m, n = 12.0, 5
    z = (math.log(m) - mu) / s
    expected = math.log(n) + norm_logpdf(math.log(m), mu, s) - math.log(m)
    expected += (n - 1) * math.log(1 - norm_cdf(z))
    assert observed_minimum_loglik(m, n, sim) == pytest.approx(expected, rel=1e-9)
    total, _ = integrate.quad(lambda x: math.exp(observed_minimum_loglik(x, n, sim)), 0, np.inf)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_kde_and_bad_distributions(rng: np.random.Generator) -> None:
    sim = rng.normal(10.0, 2.0, 200)
    assert math.isfinite(observed_range_loglik(6.0, 14.0, 5, sim, dist="kde"))
    with pytest.raises(ValueError, match="allowed: lognormal, normal, kde"):
        observed_range_loglik(6.0, 14.0, 5, sim, dist="gamma")
    with_zero = np.append(sim, 0.0)
    assert "log-normal cannot fit" in observed_range_loglik(6.0, 14.0, 5, with_zero).reason
    with pytest.raises(ValueError, match="<= high"):
        observed_range_loglik(14.0, 6.0, 5, sim)


def test_lower_bound_is_the_probability_every_patient_is_above_it() -> None:
    sim = np.array([30.0] * 18 + [20.0] * 2)  # 90 % at or above 25
    assert lower_bound_loglik(25.0, 5, sim) == pytest.approx(5 * math.log(0.9))
    everyone = np.array([30.0] * 19 + [np.inf])  # infinite persistence counts as above
    assert lower_bound_loglik(25.0, 5, everyone) == pytest.approx(5 * math.log(1 - 1 / 40))


# --- events and grades -------------------------------------------------------------------------


def _cohort_with_frequency(p: float, size: int = 100) -> np.ndarray:
    ones = round(p * size)
    return np.array([1.0] * ones + [0.0] * (size - ones))


def test_binomial_by_hand_and_peaks_at_k_over_n() -> None:
    k, n = 3, 5
    sim = _cohort_with_frequency(0.7)
    expected = log_comb(n, k) + k * math.log(0.7) + (n - k) * math.log(0.3)
    assert proportion_loglik(k, n, sim) == pytest.approx(expected)
    grid = [m / 100 for m in range(1, 100)]
    values = [proportion_loglik(k, n, _cohort_with_frequency(p)) for p in grid]
    assert grid[int(np.argmax(values))] == pytest.approx(k / n)


def test_an_empirical_zero_is_clipped_not_minus_infinity() -> None:
    never = np.zeros(100)
    p = 1 / 200
    assert proportion_loglik(1, 5, never) == pytest.approx(
        log_comb(5, 1) + math.log(p) + 4 * math.log(1 - p)
    )
    assert proportion_loglik(5, 5, np.ones(100)) == pytest.approx(5 * math.log(1 - p))
    assert clip_probability(np.array([0.0, 0.5, 1.0]), 10).tolist() == [0.05, 0.5, 0.95]


def test_outcomes_must_be_0_1_or_grades() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        proportion_loglik(1, 5, np.array([0.0, 2.0] * 10))
    with pytest.raises(ValueError, match="grades 0, 1, 2"):
        grade_counts_loglik({0: 1}, np.array([0.0, 1.5] * 10))
    with pytest.raises(ValueError, match="from 0 to n"):
        proportion_loglik(6, 5, np.ones(20))


def test_grade_counts_multinomial_by_hand() -> None:
    sim = np.array([0] * 30 + [1] * 60 + [2] * 8 + [3] * 1 + [4] * 1, dtype=float)
    counts = {0: 4, 1: 10, 2: 1, ">=3": 0}
    p = [0.3, 0.6, 0.08, 0.02]
    expected = math.lgamma(16) - sum(math.lgamma(c + 1) for c in counts.values())
    expected += sum(c * math.log(q) for c, q in zip(counts.values(), p, strict=True))
    assert grade_counts_loglik(counts, sim) == pytest.approx(expected)


def test_grades_not_listed_form_a_category_with_no_patients() -> None:
    sim = np.array([0] * 80 + [1] * 10 + [2] * 10, dtype=float)
    expected = log_comb(15, 1) + 14 * math.log(0.8) + math.log(0.1)
    assert grade_counts_loglik({0: 14, 1: 1}, sim) == pytest.approx(expected)
    # a model that never gives grade 2 explains "no grade >= 2" better
    better = np.array([0] * 90 + [1] * 10, dtype=float)
    assert grade_counts_loglik({0: 14, 1: 1}, better) > grade_counts_loglik({0: 14, 1: 1}, sim)


def test_grade_with_no_cohort_patient_is_clipped() -> None:
    sim = np.array([0] * 50 + [1] * 50, dtype=float)
    ll = grade_counts_loglik({0: 4, 1: 10, ">=2": 1}, sim)
    p = np.array([0.5, 0.5, 1 / 200])
    p = p / p.sum()
    expected = math.lgamma(16) - math.lgamma(5) - math.lgamma(11) - math.lgamma(2)
    expected += 4 * math.log(p[0]) + 10 * math.log(p[1]) + math.log(p[2])
    assert ll == pytest.approx(expected)


def test_percent_to_counts_largest_remainder() -> None:
    hay = {0: 30, 1: 26, 2: 32, 3: 4.5, 4: 3.8, 5: 3.8}
    counts = percent_to_counts(hay, 133)
    assert counts == {"0": 40, "1": 35, "2": 42, "3": 6, "4": 5, "5": 5}
    assert sum(counts.values()) == 133
    sim = np.arange(600, dtype=float) % 6
    assert grade_percent_loglik(hay, 133, sim) == pytest.approx(grade_counts_loglik(counts, sim))


def test_population_typical_value(rng: np.random.Generator) -> None:
    sim = rng.lognormal(math.log(0.15), 0.9, 500)
    logs = np.log(sim)
    expected = norm_logpdf(
        math.log(0.16), float(np.mean(logs)), float(np.std(logs, ddof=1)) / 90**0.5
    )
    assert population_typical_loglik(0.16, 90, sim) == pytest.approx(expected)
    flat = np.full(20, 0.15)
    fallback = norm_logpdf(math.log(0.16), math.log(0.15), math.sqrt(0.91) / 90**0.5)
    assert population_typical_loglik(0.16, 90, flat, omega2=0.91) == pytest.approx(fallback)
    assert "no omega2" in population_typical_loglik(0.16, 90, flat).reason


# --- not evaluable patients -------------------------------------------------------------------


def test_not_evaluable_patients_are_dropped() -> None:
    with_nan = np.concatenate([COHORT, [np.nan] * 7])
    assert mean_sd_loglik(110.0, 32.0, 5, with_nan) == mean_sd_loglik(110.0, 32.0, 5, COHORT)


def test_too_few_evaluable_patients_give_minus_inf_with_a_reason() -> None:
    sim = np.array([100.0, 120.0] + [np.nan] * 30)
    ll = mean_sd_loglik(110.0, 32.0, 5, sim)
    assert isinstance(ll, LogLik) and ll == -math.inf
    assert ll.reason == f"2 evaluable virtual patients (of 32); at least {MIN_EVALUABLE} are needed"
    assert mean_sd_loglik(110.0, 32.0, 5, sim, min_evaluable=2).reason == ""
    with pytest.raises(ValueError, match="1-D array"):
        mean_sd_loglik(110.0, 32.0, 5, np.ones((3, 4)))


# --- individual data: M3 ------------------------------------------------------------------------


def test_m3_quantified_and_blq_terms_by_hand() -> None:
    assert individual_loglik([5.0], [4.0], 1.0, 0.0, [False], [1.0]) == pytest.approx(
        norm_logpdf(5.0, 4.0, 1.0)
    )
    # a BLQ sample whose prediction is the limit itself: probability 1/2
    assert individual_loglik([np.nan], [1.0], 0.5, 0.0, [True], [1.0]) == pytest.approx(
        math.log(0.5)
    )
    sd = math.sqrt(1.0**2 + (0.1 * 10.0) ** 2)  # combined error at a prediction of 10
    assert individual_loglik([12.0], [10.0], 1.0, 0.1, [False], [1.0]) == pytest.approx(
        norm_logpdf(12.0, 10.0, sd)
    )
    assert individual_loglik([0.0], [10.0], 1.0, 0.1, [True], [8.0]) == pytest.approx(
        math.log(norm_cdf((8.0 - 10.0) / sd))
    )


def test_m3_blq_term_is_the_normal_mass_below_the_limit() -> None:
    pred, sd, lloq = 3.0, 1.5, 2.0
    mass, _ = integrate.quad(lambda y: math.exp(norm_logpdf(y, pred, sd)), -np.inf, lloq)
    assert individual_loglik(np.nan, pred, sd, 0.0, True, lloq) == pytest.approx(math.log(mass))


def test_m3_sums_over_samples_and_broadcasts() -> None:
    obs = np.array([5.0, 0.5, 7.0])
    pred = np.array([4.0, 1.2, 6.0])
    blq = np.array([False, True, False])
    total = individual_loglik(obs, pred, 0.5, 0.2, blq, 1.0)
    parts = sum(
        individual_loglik(o, p, 0.5, 0.2, b, 1.0) for o, p, b in zip(obs, pred, blq, strict=True)
    )
    assert total == pytest.approx(parts)


def test_m3_on_the_log_scale() -> None:
    sd = math.sqrt((0.5 / 4.0) ** 2 + 0.3**2)
    assert individual_loglik(5.0, 4.0, 0.5, 0.3, False, 1.0, log_scale=True) == pytest.approx(
        norm_logpdf(math.log(5.0), math.log(4.0), sd)
    )
    sd = math.sqrt((0.5 / 2.0) ** 2 + 0.3**2)
    assert individual_loglik(1.0, 2.0, 0.5, 0.3, True, 1.0, log_scale=True) == pytest.approx(
        math.log(norm_cdf((math.log(1.0) - math.log(2.0)) / sd))
    )
    ll = individual_loglik(5.0, 0.0, 0.5, 0.3, False, 1.0, log_scale=True)
    assert ll == -math.inf and "<= 0" in ll.reason


def test_m3_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="numbers >= 0"):
        individual_loglik(1.0, 1.0, -1.0, 0.0, False, 1.0)
    with pytest.raises(ValueError, match="lloq"):
        individual_loglik(1.0, 1.0, 1.0, 0.0, True, np.nan)
    ll = individual_loglik(1.0, 0.0, 0.0, 0.2, False, 1.0)
    assert ll == -math.inf and "residual SD is 0" in ll.reason


# --- the dispatcher ------------------------------------------------------------------------------


def _cohort_for(target, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    kind = target.statistic
    if kind in ("count", "proportion"):
        return (rng.random(300) < 0.7).astype(float)
    if kind in ("grade_counts", "grade_percent"):
        return rng.choice(6, size=300, p=[0.3, 0.3, 0.3, 0.04, 0.03, 0.03]).astype(float)
    if kind == "medians_at_times":
        return rng.lognormal(np.log(target.medians), 1.0, size=(300, len(target.medians)))
    if kind == "mean_change_percent":
        return rng.normal(target.mean, 10.0, 300)
    if kind == "mean_sd":
        return rng.normal(target.mean, target.sd, 300)
    if kind == "lower_bound":
        return rng.lognormal(math.log(target.bound * 2), 0.5, 300)
    centre = {"median": "median", "median_iqr": "median", "median_range": "median"}
    value = getattr(target, centre.get(kind, "value"), None)
    if value is None:
        value = getattr(target, "low", None) or getattr(target, "minimum", None)
        value = value * 5
    return rng.lognormal(math.log(value), 0.8, 300)


def test_every_kind_with_a_likelihood_is_dispatched(rng: np.random.Generator) -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "calibration" / "targets_all_kinds.yaml"
    for target in read_targets(path):
        sim = _cohort_for(target, rng)
        if not has_likelihood(target):
            with pytest.raises(ValueError, match="has no likelihood"):
                target_loglik(target, sim)
            continue
        n = 20 if target.n is None else None
        ll = target_loglik(target, sim, n=n)
        assert math.isfinite(ll), (target.id, ll.reason)


def test_every_shipped_target_is_scored(rng: np.random.Generator) -> None:
    for target in load_shipped_targets():
        if not has_likelihood(target):
            continue
        sim = _cohort_for(target, rng)
        ll = target_loglik(target, sim, n=10 if target.n is None else None)
        assert math.isfinite(ll), (target.id, ll.reason)


def test_dispatcher_matches_the_plain_functions(rng: np.random.Generator) -> None:
    targets = {t.id: t for t in load_shipped_targets()}
    sim = rng.normal(110.0, 30.0, 200)
    assert target_loglik(targets["mack22_b_return"], sim) == mean_sd_loglik(110.0, 32.0, 5, sim)
    grades = rng.choice(4, size=200).astype(float)
    assert target_loglik(targets["muller24_crs"], grades) == grade_counts_loglik(
        {0: 4, 1: 10, 2: 1, ">=3": 0}, grades
    )
    peaks = rng.lognormal(5.0, 1.0, 200)
    assert target_loglik(targets["mack22_car_peak"], peaks) == observed_range_loglik(
        30.0, 1000.0, 5, peaks
    )


def test_dispatcher_study_size() -> None:
    targets = {t.id: t for t in load_shipped_targets()}
    sim = np.linspace(20.0, 60.0, 50)
    with pytest.raises(ValueError, match="no study size"):
        target_loglik(targets["bhoj16_pc"], sim)
    assert target_loglik(targets["bhoj16_pc"], sim, n=3) == lower_bound_loglik(25.0, 3, sim)
    with pytest.raises(ValueError, match="already has n = 5"):
        target_loglik(targets["mack22_b_return"], sim, n=6)
