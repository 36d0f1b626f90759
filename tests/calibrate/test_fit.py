"""Maximum-likelihood fitting on problems with known answers (no model involved)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from immunoreset.calibrate.fit import FitParameter, maximum_likelihood, profile_likelihood


def _normal_sample(seed: int, n: int = 200) -> np.ndarray:
    return np.random.default_rng(seed).normal(3.0, 2.0, n)


def _normal_nll(x: np.ndarray):
    def nll(v: np.ndarray) -> float:
        return -float(np.sum(stats.norm.logpdf(x, v[0], v[1])))

    return nll


def test_normal_mean_and_sd_match_closed_form() -> None:
    """ML estimates of a normal sample are the mean and the (1/n) SD; the Wald SE of the mean is
    sd/sqrt(n) and of log(sd) is 1/sqrt(2n) (Fisher information, closed form). Tolerance 1e-3
    relative: the optimiser's and the finite-difference Hessian's accuracy."""
    x = _normal_sample(1)
    params = [FitParameter("mu", -10, 10, log=False), FitParameter("sigma", 0.1, 10)]
    fit = maximum_likelihood(_normal_nll(x), params, starts=4, seed=1)
    mu, sd = x.mean(), x.std()
    assert fit.values["mu"] == pytest.approx(mu, rel=1e-3)
    assert fit.values["sigma"] == pytest.approx(sd, rel=1e-3)
    table = fit.table().set_index("parameter")
    se_mu = sd / math.sqrt(len(x))
    assert table.loc["mu", "se_estimation_scale"] == pytest.approx(se_mu, rel=1e-2)
    assert table.loc["sigma", "se_estimation_scale"] == pytest.approx(
        1 / math.sqrt(2 * len(x)), rel=1e-2
    )
    # log-scale interval is asymmetric on the natural scale
    lo, hi = table.loc["sigma", ["lower_95", "upper_95"]]
    assert sd / lo == pytest.approx(hi / sd, rel=1e-6)
    assert fit.n_converged == 4
    assert not table["at_bound"].any()


def test_convergence_report_lists_every_start_sorted() -> None:
    x = _normal_sample(2)
    params = [FitParameter("mu", -10, 10, log=False), FitParameter("sigma", 0.1, 10)]
    report = maximum_likelihood(_normal_nll(x), params, starts=5, seed=3).convergence()
    assert len(report) == 5
    assert report["nll"].is_monotonic_increasing
    assert {"initial_mu", "mu", "message", "success"} <= set(report.columns)


def test_multistart_escapes_a_local_minimum() -> None:
    """A tilted double well: the start at 2.5 falls into the local minimum near 2 (value about
    0.4); other starts find the global one near -2 (value about 0)."""

    def nll(v: np.ndarray) -> float:
        x = v[0]
        return float((x * x - 4.0) ** 2 / 16.0 + 0.1 * (x + 2.0))

    x = [FitParameter("x", -4, 4, initial=2.5, log=False)]
    # a local (gradient) method, so that one start stays in its basin
    single = maximum_likelihood(nll, x, starts=1, method="L-BFGS-B")
    multi = maximum_likelihood(nll, x, starts=8, method="L-BFGS-B")
    assert single.values["x"] > 0
    assert multi.values["x"] < 0
    assert multi.nll < single.nll - 0.3


def test_profile_likelihood_interval_matches_wald_for_a_quadratic() -> None:
    """For a normal mean the profile is exactly quadratic: delta = (mu - mean)^2 n / (2 s^2), so the
    likelihood-ratio interval equals the Wald interval."""
    x = _normal_sample(4)
    params = [FitParameter("mu", -10, 10, log=False), FitParameter("sigma", 0.1, 10)]
    fit = maximum_likelihood(_normal_nll(x), params, starts=2)
    prof = profile_likelihood(_normal_nll(x), fit, "mu", points=9, span=2.5)
    inside = prof[prof["inside_95"]]
    row = fit.table().set_index("parameter").loc["mu"]
    step = prof["value"].diff().iloc[1]
    assert inside["value"].min() == pytest.approx(row["lower_95"], abs=step)
    assert inside["value"].max() == pytest.approx(row["upper_95"], abs=step)


def test_non_identifiable_pair_is_reported() -> None:
    """Only the sum a + b enters: the Hessian is singular and the fit says so."""

    def nll(v: np.ndarray) -> float:
        return float((v[0] + v[1] - 1.0) ** 2 * 50.0)

    params = [FitParameter("a", -5, 5, log=False), FitParameter("b", -5, 5, log=False)]
    fit = maximum_likelihood(nll, params, starts=3)
    assert fit.covariance is None
    assert any("not identifiable" in n for n in fit.notes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "k", "lower": 2.0, "upper": 1.0}, "lower < upper"),
        ({"name": "k", "lower": 0.0, "upper": 1.0}, "positive lower bound"),
        ({"name": "k", "lower": 1.0, "upper": 2.0, "initial": 3.0}, "outside its bounds"),
    ],
)
def test_bad_parameters_are_explained(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FitParameter(**kwargs)


def test_repeated_names_and_no_starts_are_refused() -> None:
    p = FitParameter("k", 1.0, 2.0)
    with pytest.raises(ValueError, match="each parameter once"):
        maximum_likelihood(lambda v: 0.0, [p, p])
    with pytest.raises(ValueError, match="starts"):
        maximum_likelihood(lambda v: 0.0, [p], starts=0)


def test_batched_gradient_matches_the_analytic_one_and_finds_the_optimum() -> None:
    """A quadratic with a known minimum: the gradient from one batch of 2d + 1 rows equals the
    analytic gradient (central differences are exact for a quadratic), and L-BFGS-B with it lands on
    the minimum."""
    from immunoreset.calibrate.fit import _batched_gradient

    centre = np.array([2.0, -1.0])

    def nll(v: np.ndarray) -> float:
        return float(np.sum((v - centre) ** 2 * np.array([3.0, 0.5])))

    calls = []

    def batch(rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return np.array([nll(r) for r in rows])

    params = [FitParameter("a", -5, 5, log=False), FitParameter("b", -5, 5, log=False)]
    f, g = _batched_gradient(batch, params, 1e-3)(np.array([0.0, 0.0]))
    assert f == pytest.approx(nll(np.zeros(2)))
    assert g == pytest.approx([-12.0, 1.0], rel=1e-9)
    assert calls == [5]
    fit = maximum_likelihood(nll, params, starts=2, method="L-BFGS-B", batch=batch)
    assert [fit.values["a"], fit.values["b"]] == pytest.approx(centre, abs=1e-5)


def test_a_start_reports_the_lowest_point_it_evaluated(monkeypatch) -> None:
    """Powell can end on a point worse than one it evaluated when the objective is infinite
    somewhere (seen with the integrated model's calibration); the start keeps the lowest one."""
    from scipy import optimize

    real = optimize.minimize

    def ends_badly(fun, x0, **kwargs):
        real(fun, x0, **kwargs)
        fun(np.array([9.0]))  # a last evaluation in the infinite region, reported as the end
        return optimize.OptimizeResult(x=np.array([9.0]), fun=1e300, success=False, nfev=1,
                                       message="ended in the infinite region")  # fmt: skip

    monkeypatch.setattr(optimize, "minimize", ends_badly)

    def nll(v: np.ndarray) -> float:
        return (v[0] - 2.0) ** 2 if v[0] < 5.0 else math.inf

    fit = maximum_likelihood(nll, [FitParameter("x", -10, 10, log=False)], starts=1, seed=0)
    assert fit.nll == pytest.approx(0.0, abs=1e-6)
    assert fit.estimate[0] == pytest.approx(2.0, abs=1e-3)
