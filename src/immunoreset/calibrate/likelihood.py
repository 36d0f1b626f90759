"""Log-likelihood of published summary statistics, and of individual data with BLQ samples.

A publication rarely gives the patients' values; it gives a statistic of them: a mean and SD of
n patients, a median with IQR or range, k of n responders, counts per toxicity grade, a range. To
fit a model to such data, each statistic needs the probability of observing it if the patients had
been drawn from the model. Here the model is represented by a *virtual cohort*: the per-patient
value of the target's quantity in N simulated patients (``simulated``). From it each function
forms the sampling distribution of the published statistic for a study of n patients and returns
the log-density (or log-probability) of the published value. Formulas and their sources are in
``docs/calibration.md``, section "Likelihoods"; in brief:

* mean (SD): the central limit theorem, observed mean ~ Normal(cohort mean, cohort SD / sqrt(n));
  optionally the SD through the chi-square law of the sample variance;
* median (with IQR, range, or at several times): the asymptotic law of sample quantiles, on the
  log scale for positive quantities, SE of the median = 1.2533 sigma / sqrt(n);
* observed range: the joint density of the sample minimum and maximum (order statistics);
* k of n, grades: binomial and multinomial, cohort frequencies kept away from 0 and 1;
* lower bound (every patient >= b): P(X >= b)^n;
* individual data below the LLOQ: Beal's M3 method.

Every function returns a :class:`LogLik`, a float that carries, when it is ``-inf`` because the
cohort cannot be used (too few evaluable patients, no spread), the reason why. Not-evaluable
patients are NaN in ``simulated`` and are dropped. Arguments that are wrong whatever the cohort
(a count above n, a probability table that does not add up) raise ``ValueError``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec

import numpy as np
from scipy import special, stats

from immunoreset.calibrate.data import (
    Count,
    Fixed,
    GradeCounts,
    GradePercent,
    LowerBound,
    MeanChangePercent,
    MeanSD,
    Median,
    MedianIQR,
    MedianRange,
    MediansAtTimes,
    ModelResult,
    ObservedMinimum,
    ObservedRange,
    PopulationTypical,
    Proportion,
    Target,
    _grade_table,
    grade_bounds,
)

P = ParamSpec("P")

MIN_EVALUABLE = 10
"""Fewest evaluable virtual patients a cohort statistic is formed from. Below about ten, the
cohort's SD, quartiles or fitted distribution are too noisy to stand in for the model's
population, and the likelihood would reward chance rather than parameters."""

MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2.0)
"""SE of the sample median of a normal sample in units of sigma / sqrt(n): sqrt(pi/2) = 1.2533
(asymptotic variance p(1-p) / (n f(x_p)^2) at p = 1/2; David & Nagaraja 2003, chapter 10)."""

IQR_PER_SIGMA = 2.0 * float(stats.norm.ppf(0.75))
"""Interquartile range of a normal distribution in units of its SD (1.349)."""


class LogLik(float):
    """A log-likelihood value; ``reason`` says why it is ``-inf`` when the cohort could not be
    used (empty otherwise). Arithmetic on it gives a plain float."""

    __slots__ = ("reason",)

    def __new__(cls, value: float, reason: str = "") -> LogLik:
        obj = super().__new__(cls, value)
        obj.reason = reason
        return obj


def _impossible(reason: str) -> LogLik:
    return LogLik(-math.inf, reason)


class _UnusableCohortError(Exception):
    """The cohort cannot give this statistic's distribution (becomes ``-inf`` with a reason)."""


def _cohort(
    simulated: Any, min_evaluable: int, *, allow_inf: bool = False, what: str = "simulated"
) -> np.ndarray:
    """The evaluable values (NaN dropped) of a 1-D cohort.

    Raises :class:`_UnusableCohortError` when fewer than ``min_evaluable`` remain, or when a
    value is infinite (an event never reached by the horizon, censored) and the statistic needs
    every value (``allow_inf`` false: a mean or a fitted distribution); ``ValueError`` for an
    array of another shape.
    """
    x = np.asarray(simulated, dtype=float)
    if x.ndim != 1:
        raise ValueError(
            f"{what}: got shape {x.shape}; allowed: a 1-D array, one value per patient"
        )
    x = x[~np.isnan(x)]
    if len(x) < min_evaluable:
        raise _UnusableCohortError(
            f"{len(x)} evaluable virtual patients (of {np.size(simulated)}); at least "
            f"{min_evaluable} are needed"
        )
    infinite = int(np.isinf(x).sum())
    if infinite and not allow_inf:
        raise _UnusableCohortError(
            f"{infinite} of {len(x)} virtual patients have an infinite value (an event not "
            "reached by the horizon); this statistic needs every value: extend the horizon"
        )
    return x


def _sd(x: np.ndarray) -> float:
    """Sample SD (n - 1 divisor), exactly 0 for identical values (where floating-point rounding
    of the mean would otherwise leave a spread of about 1e-17 and no fallback would apply)."""
    return 0.0 if len(x) < 2 or np.ptp(x) == 0 else float(np.std(x, ddof=1))


def _study_size(n: int, what: str = "n") -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"{what}: got {n!r}; allowed: a whole number >= 1")
    return int(n)


def _guard(func: Callable[P, LogLik]) -> Callable[P, LogLik]:
    """Turn :class:`_UnusableCohortError` raised inside ``func`` into ``-inf`` with its reason."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> LogLik:
        try:
            result = func(*args, **kwargs)
        except _UnusableCohortError as exc:
            return _impossible(str(exc))
        return result if isinstance(result, LogLik) else LogLik(result)

    return wrapper


def _term(result: LogLik) -> float:
    """A term of a larger log-likelihood: an unusable cohort stays unusable (reason kept)."""
    if result.reason:
        raise _UnusableCohortError(result.reason)
    return float(result)


def clip_probability(p: Any, cohort_size: int) -> Any:
    """``p`` kept within [1/(2N), 1 - 1/(2N)] for a cohort of N patients.

    A frequency of 0 in N virtual patients does not mean the model gives the event probability 0,
    only that it is likely below about 1/N; taking it as 0 would make one observed event give a
    log-likelihood of -inf and stop a fit on a chance result of the cohort. Half an event in N is
    the usual continuity correction (as in the Haldane-Anscombe correction of log odds).
    """
    low = 1.0 / (2.0 * cohort_size)
    return np.clip(p, low, 1.0 - low)


def _quartiles(x: np.ndarray) -> np.ndarray:
    """The cohort's quartiles, from which sigma is estimated as IQR / 1.349 (exact for a normal
    distribution, and robust to a virtual cohort's long tails).

    ``+inf`` values (an event never reached by the horizon) rank last; they leave the quartiles
    defined as long as fewer than a quarter of the cohort has them.
    """
    x = np.sort(x)
    if np.isneginf(x).any():
        raise ValueError("simulated: got -inf; allowed: finite values, +inf or NaN")
    top = math.ceil(0.75 * (len(x) - 1))
    if np.isinf(x[top]):
        raise _UnusableCohortError(
            f"{int(np.isinf(x).sum())} of {len(x)} virtual patients never reach the event (+inf), "
            "too many for the cohort's third quartile"
        )
    return np.percentile(np.where(np.isinf(x), x[top], x), [25.0, 50.0, 75.0])


def median_standard_error(sigma: float, n: int) -> float:
    """Asymptotic SE of the median of n values from a normal distribution with SD ``sigma``:
    1.2533 sigma / sqrt(n)."""
    return MEDIAN_SE_FACTOR * sigma / math.sqrt(n)


def _sd_from_range(low: float, high: float, n: int) -> float:
    """SD estimated from a reported range of n values (Wan et al. 2014, BMC Med Res Methodol
    14:135): (high - low) / (2 Phi^-1((n - 0.375) / (n + 0.25)))."""
    return (high - low) / (2.0 * float(stats.norm.ppf((n - 0.375) / (n + 0.25))))


# ---------------------------------------------------------------------------------------------
# Means
# ---------------------------------------------------------------------------------------------


@_guard
def mean_sd_loglik(
    mean: float,
    sd: float,
    n: int,
    simulated: Any,
    *,
    include_sd: bool = False,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of a reported mean (SD) of n patients.

    The mean of n patients is Normal(mu, sigma / sqrt(n)) (central limit theorem), with mu and
    sigma the cohort's mean and SD; when the cohort has no spread (a typical-patient run) sigma
    falls back to the reported SD. With ``include_sd`` the reported SD adds the log-density of
    the sample variance, (n - 1) s^2 / sigma^2 ~ chi-square(n - 1) (exact for normal data), which
    needs n >= 2 and a cohort with spread.
    """
    n = _study_size(n)
    x = _cohort(simulated, min_evaluable)
    mu = float(np.mean(x))
    sigma = _sd(x)
    if sigma > 0:
        scale = sigma
    elif sd > 0:
        scale = sd
    else:
        raise _UnusableCohortError("the cohort has no spread and no SD was reported")
    ll = float(stats.norm.logpdf(mean, loc=mu, scale=scale / math.sqrt(n)))
    if include_sd:
        if n < 2:
            raise ValueError("include_sd: got n = 1; allowed: n >= 2 (one value has no SD)")
        if sigma <= 0:
            raise _UnusableCohortError("the cohort has no spread, so the reported SD has density 0")
        df = n - 1
        ll += float(stats.chi2.logpdf(df * sd**2 / sigma**2, df)) + math.log(df / sigma**2)
    return LogLik(ll)


@_guard
def mean_change_percent_loglik(
    mean: float,
    n: int,
    simulated: Any,
    *,
    sd: float | None = None,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of a reported mean percent change from baseline (``simulated``: each
    patient's percent change). As :func:`mean_sd_loglik`: Normal(cohort mean, SD / sqrt(n)) with
    the cohort's SD, or the reported ``sd`` when the cohort has no spread."""
    n = _study_size(n)
    x = _cohort(simulated, min_evaluable)
    sigma = _sd(x)
    if sigma <= 0:
        if sd is None:
            raise _UnusableCohortError("the cohort has no spread and no SD was reported")
        sigma = sd
    return LogLik(float(stats.norm.logpdf(mean, loc=np.mean(x), scale=sigma / math.sqrt(n))))


# ---------------------------------------------------------------------------------------------
# Medians and quantiles
# ---------------------------------------------------------------------------------------------


def _scale(values: Sequence[float], log_scale: bool, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if log_scale:
        if (v <= 0).any():
            raise ValueError(
                f"{what}: got {v.tolist()}; allowed: numbers > 0 on the log scale "
                "(use log_scale=False)"
            )
        return np.log(v)
    return v


def _cohort_centre_sigma(
    x: np.ndarray, log_scale: bool, fallback_sigma: float | None
) -> tuple[float, float]:
    """The cohort median and robust SD, both on the working scale."""
    q1, med, q3 = _quartiles(x)
    if log_scale:
        if med <= 0:
            raise _UnusableCohortError(
                "half or more of the cohort is <= 0, so its median has no log"
            )
        if q1 > 0:
            sigma = (math.log(q3) - math.log(q1)) / IQR_PER_SIGMA
        else:  # a quarter or more at 0: the upper half of the IQR only
            sigma = (math.log(q3) - math.log(med)) / (IQR_PER_SIGMA / 2.0)
        centre = math.log(med)
    else:
        centre = float(med)
        sigma = float(q3 - q1) / IQR_PER_SIGMA
    if sigma <= 0:
        if fallback_sigma is None or fallback_sigma <= 0:
            raise _UnusableCohortError("the cohort has no spread and the target reports none")
        sigma = fallback_sigma
    return centre, sigma


@_guard
def median_loglik(
    median: float,
    n: int,
    simulated: Any,
    *,
    log_scale: bool = True,
    fallback_sigma: float | None = None,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of a reported median of n patients.

    The sample median is asymptotically Normal(population median, 1.2533 sigma / sqrt(n)) for a
    normal population (David & Nagaraja 2003, chapter 10). Positive quantities are taken on the
    log scale (``log_scale``), where cell counts and times are close to normal; the density is
    then that of log(median), the Jacobian being a constant of the data. The model's median is
    the cohort median and sigma the cohort's IQR / 1.349 (robust to the long tails of a
    virtual cohort); ``fallback_sigma`` (working scale) is used when the cohort has no spread.
    """
    n = _study_size(n)
    x = _cohort(simulated, min_evaluable, allow_inf=True)
    (obs,) = _scale([median], log_scale, "median")
    centre, sigma = _cohort_centre_sigma(x, log_scale, fallback_sigma)
    return LogLik(float(stats.norm.logpdf(obs, centre, median_standard_error(sigma, n))))


def quantile_covariance(probs: Sequence[float], sigma: float, n: int) -> np.ndarray:
    """Asymptotic covariance of the sample quantiles at ``probs`` of n values from a normal
    distribution with SD ``sigma``: p_i (1 - p_j) / (n f(x_i) f(x_j)) for p_i <= p_j, with
    f(x_p) = phi(z_p) / sigma (David & Nagaraja 2003, chapter 10)."""
    p = np.asarray(probs, dtype=float)
    dens = stats.norm.pdf(stats.norm.ppf(p)) / sigma
    lo = np.minimum.outer(p, p)
    hi = np.maximum.outer(p, p)
    return lo * (1.0 - hi) / (n * np.outer(dens, dens))


@_guard
def median_iqr_loglik(
    median: float,
    q1: float,
    q3: float,
    n: int,
    simulated: Any,
    *,
    log_scale: bool = True,
    use_quartiles: bool = True,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of a reported median (q1, q3) of n patients.

    With ``use_quartiles`` the three sample quartiles are jointly normal around the cohort's
    quartiles with the covariance of :func:`quantile_covariance` (sigma = cohort IQR / 1.349);
    otherwise only the median counts (:func:`median_loglik`, the reported IQR then serving as
    the fallback spread). Log scale as in :func:`median_loglik`.
    """
    n = _study_size(n)
    obs = _scale([q1, median, q3], log_scale, "q1, median, q3")
    fallback = float(obs[2] - obs[0]) / IQR_PER_SIGMA
    if not use_quartiles:
        return median_loglik(
            median, n, simulated, log_scale=log_scale, fallback_sigma=fallback,
            min_evaluable=min_evaluable,
        )  # fmt: skip
    x = _cohort(simulated, min_evaluable, allow_inf=True)
    quartiles = _quartiles(x)
    if log_scale:
        if quartiles[0] <= 0:
            raise _UnusableCohortError(
                "a quarter or more of the cohort is <= 0; the reported q1 is > 0"
            )
        quartiles = np.log(quartiles)
    sigma = float(quartiles[2] - quartiles[0]) / IQR_PER_SIGMA
    if sigma <= 0:
        if fallback <= 0:
            raise _UnusableCohortError("the cohort has no spread and the reported IQR is 0")
        sigma = fallback
    cov = quantile_covariance([0.25, 0.5, 0.75], sigma, n)
    return LogLik(float(stats.multivariate_normal.logpdf(obs, mean=quartiles, cov=cov)))


@_guard
def median_range_loglik(
    median: float,
    low: float,
    high: float,
    n: int,
    simulated: Any,
    *,
    log_scale: bool = True,
    include_range: bool = True,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of a reported median (range) of n patients: the median term of
    :func:`median_loglik` plus, with ``include_range``, the range term of
    :func:`observed_range_loglik`, treated as independent (an approximation: for small n the
    median and the extremes of one sample are correlated). When the cohort has no spread the
    median's sigma falls back to the reported range (Wan et al. 2014)."""
    n = _study_size(n)
    obs = _scale([low, median, high], log_scale, "low, median, high")
    fallback = _sd_from_range(float(obs[0]), float(obs[2]), n) if n > 1 else None
    ll = _term(
        median_loglik(
            median, n, simulated, log_scale=log_scale, fallback_sigma=fallback,
            min_evaluable=min_evaluable,
        )
    )  # fmt: skip
    if include_range:
        ll += _term(
            observed_range_loglik(
                low, high, n, simulated, dist="lognormal" if log_scale else "normal",
                min_evaluable=min_evaluable,
            )
        )  # fmt: skip
    return LogLik(ll)


@_guard
def medians_at_times_loglik(
    medians: Sequence[float],
    n: int,
    simulated: Any,
    *,
    log_scale: bool = True,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of medians reported at several times: ``simulated`` is patients x times
    (NaN where a patient is not evaluable at a time); the sum of :func:`median_loglik` over the
    times. The medians are treated as independent, which they are not (the same patients are
    sampled at every time); the sum therefore weighs a long series somewhat more than its
    information warrants."""
    n = _study_size(n)
    x = np.asarray(simulated, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(medians):
        raise ValueError(
            f"simulated: got shape {x.shape}; allowed: patients x {len(medians)} times"
        )
    total = 0.0
    for j, m in enumerate(medians):
        term = median_loglik(m, n, x[:, j], log_scale=log_scale, min_evaluable=min_evaluable)
        if term.reason:
            raise _UnusableCohortError(f"time {j + 1} of {len(medians)}: {term.reason}")
        total += float(term)
    return LogLik(total)


# ---------------------------------------------------------------------------------------------
# Order statistics
# ---------------------------------------------------------------------------------------------


def _fitted(x: np.ndarray, dist: str) -> Any:
    """A continuous distribution fitted to the cohort: ``lognormal`` (mean and SD of the logs),
    ``normal`` (mean and SD) or ``kde`` (a Gaussian kernel density, Scott's bandwidth)."""
    if dist == "kde":
        if np.ptp(x) == 0:
            raise _UnusableCohortError("the cohort has no spread; a kernel density needs some")
        return _Kde(stats.gaussian_kde(x))
    if dist == "lognormal":
        if (x <= 0).any():
            raise _UnusableCohortError(
                "the cohort has values <= 0, which a log-normal cannot fit (use dist='kde')"
            )
        logs = np.log(x)
        s = _sd(logs)
        if s <= 0:
            raise _UnusableCohortError("the cohort has no spread")
        return _Normal(float(np.mean(logs)), s, log=True)
    if dist == "normal":
        s = _sd(x)
        if s <= 0:
            raise _UnusableCohortError("the cohort has no spread")
        return _Normal(float(np.mean(x)), s)
    raise ValueError(f"dist: got {dist!r}; allowed: lognormal, normal, kde")


class _Normal:
    """Normal distribution of the value (or, ``log``, of its logarithm: a log-normal), evaluated
    with the error function directly; frozen scipy distributions cost a millisecond to build,
    which numerical checks calling this thousands of times notice."""

    def __init__(self, mu: float, s: float, log: bool = False) -> None:
        self.mu, self.s, self.log = mu, s, log

    def _z(self, v: float) -> float:
        if self.log:
            return -math.inf if v <= 0 else (math.log(v) - self.mu) / self.s
        return (v - self.mu) / self.s

    def logpdf(self, v: float) -> float:
        z = self._z(v)
        if math.isinf(z):
            return -math.inf
        out = -0.5 * z * z - math.log(self.s) - 0.5 * math.log(2.0 * math.pi)
        return out - math.log(v) if self.log else out

    def cdf(self, v: float) -> float:
        return float(special.ndtr(self._z(v)))

    def sf(self, v: float) -> float:
        return float(special.ndtr(-self._z(v)))


class _Kde:
    """The pdf/cdf interface of :class:`_Normal` over a Gaussian kernel density."""

    def __init__(self, kde: Any) -> None:
        self.kde = kde

    def logpdf(self, v: float) -> float:
        return float(self.kde.logpdf(v)[0])

    def cdf(self, v: float) -> float:
        return float(self.kde.integrate_box_1d(-np.inf, v))

    def sf(self, v: float) -> float:
        return float(self.kde.integrate_box_1d(v, np.inf))


def _log_positive(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf


@_guard
def observed_range_loglik(
    low: float,
    high: float,
    n: int,
    simulated: Any,
    *,
    dist: str = "lognormal",
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of the range (smallest ``low``, largest ``high``) of n patients.

    The joint density of the sample minimum and maximum of n independent values with density f
    and distribution function F is n (n - 1) f(low) f(high) (F(high) - F(low))^(n - 2) for
    low < high (David & Nagaraja 2003, chapter 2); for n = 1, the single value's density f(low).
    F and f come from a distribution fitted to the cohort (``dist``: ``lognormal``, the default,
    for positive quantities; ``normal``; ``kde``).
    """
    n = _study_size(n)
    if low > high:
        raise ValueError(f"low: got {low:g}; allowed: a number <= high ({high:g})")
    x = _cohort(simulated, min_evaluable)
    f = _fitted(x, dist)
    if n == 1:
        return LogLik(float(f.logpdf(low)) if low == high else -math.inf)
    inside = f.cdf(high) - f.cdf(low)
    ll = math.log(n) + math.log(n - 1) + float(f.logpdf(low)) + float(f.logpdf(high))
    if n > 2:
        ll += (n - 2) * _log_positive(inside)
    return LogLik(ll)


@_guard
def observed_minimum_loglik(
    minimum: float,
    n: int,
    simulated: Any,
    *,
    dist: str = "lognormal",
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of the smallest of n values: n f(m) (1 - F(m))^(n - 1) (David & Nagaraja
    2003, chapter 2), with F and f fitted to the cohort as in :func:`observed_range_loglik`."""
    n = _study_size(n)
    f = _fitted(_cohort(simulated, min_evaluable), dist)
    return LogLik(
        math.log(n) + float(f.logpdf(minimum)) + (n - 1) * _log_positive(float(f.sf(minimum)))
    )


@_guard
def lower_bound_loglik(
    bound: float, n: int, simulated: Any, *, min_evaluable: int = MIN_EVALUABLE
) -> LogLik:
    """Log-likelihood that all n patients had the quantity >= ``bound`` (a censored report such
    as persistence >= 25 months): n log P(X >= bound), P the cohort's frequency kept within
    [1/(2N), 1 - 1/(2N)] (:func:`clip_probability`). Per-patient values may be censored at the
    simulation horizon provided the horizon reaches ``bound``."""
    n = _study_size(n)
    x = _cohort(simulated, min_evaluable, allow_inf=True)
    p = float(clip_probability(np.mean(x >= bound), len(x)))
    return LogLik(n * math.log(p))


# ---------------------------------------------------------------------------------------------
# Events and grades
# ---------------------------------------------------------------------------------------------


def _outcomes(simulated: Any, min_evaluable: int, allowed: str) -> np.ndarray:
    x = _cohort(simulated, min_evaluable, allow_inf=True)
    bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
    if allowed == "0/1":
        bad |= x > 1
    if bad.any():
        raise ValueError(
            f"simulated: got {x[bad][0]!r}; allowed: per-patient outcomes "
            + ("0 or 1 (NaN: not evaluable)" if allowed == "0/1" else "grades 0, 1, 2, ...")
        )
    return x


@_guard
def proportion_loglik(
    events: int, n: int, simulated: Any, *, min_evaluable: int = MIN_EVALUABLE
) -> LogLik:
    """Log-probability of ``events`` of n patients having the outcome: binomial(events | n, p),
    with p the cohort's frequency of outcome 1 kept within [1/(2N), 1 - 1/(2N)]
    (:func:`clip_probability`)."""
    n = _study_size(n)
    if isinstance(events, bool) or int(events) != events or not 0 <= events <= n:
        raise ValueError(f"events: got {events!r}; allowed: a whole number from 0 to n ({n})")
    x = _outcomes(simulated, min_evaluable, "0/1")
    p = float(clip_probability(np.mean(x), len(x)))
    return LogLik(float(stats.binom.logpmf(int(events), n, p)))


def _needs_rest(bounds: Sequence[tuple[int, float]]) -> bool:
    """Whether the grades not listed form a category of their own: unless the categories cover
    every grade 0, 1, 2, ... (single grades up to an open '>=g')."""
    exact = {lo for lo, hi in bounds if not math.isinf(hi)}
    tops = [lo for lo, hi in bounds if math.isinf(hi)]
    return not (tops and exact >= set(range(tops[0])))


@_guard
def grade_counts_loglik(
    counts: Mapping[Any, int], simulated: Any, *, min_evaluable: int = MIN_EVALUABLE
) -> LogLik:
    """Log-probability of the patients' counts per maximum grade: multinomial with the cohort's
    frequency of each category, each kept at >= 1/(2N) and renormalised
    (:func:`clip_probability`). Categories are the grades listed (``">=g"``: g or higher); when no
    open category is listed, the grades not listed form one more category with 0 patients, so a
    model that often gives grades the study never saw is penalised."""
    table = _grade_table(dict(counts), "counts", "a whole number of patients >= 0")
    if any(c < 0 or c != int(c) for c in table.values()):
        raise ValueError(f"counts: got {dict(counts)!r}; allowed: whole numbers >= 0")
    observed = [int(c) for c in table.values()]
    x = _outcomes(simulated, min_evaluable, "grades")
    bounds = [grade_bounds(label) for label in table]
    rest = _needs_rest(bounds)
    freq = [float(np.mean((x >= lo) & (x <= hi))) for lo, hi in bounds]
    if rest:
        freq.append(max(0.0, 1.0 - sum(freq)))
        observed.append(0)
    p = clip_probability(np.asarray(freq), len(x))
    p = p / p.sum()
    return LogLik(float(stats.multinomial.logpmf(observed, sum(observed), p)))


def percent_to_counts(percent: Mapping[Any, float], n: int) -> dict[str, int]:
    """Counts of n patients per grade from reported percentages, by the largest-remainder rule:
    n * percent / (sum of percents) rounded down, and the patients left over given to the grades
    with the largest fractional parts (lower grade first on a tie), so the counts add up to n
    even when the rounded percentages do not add up to 100."""
    n = _study_size(n)
    table = _grade_table(dict(percent), "percent", "a percentage from 0 to 100")
    labels = list(table)
    share = np.asarray(list(table.values()))
    if (share < 0).any() or share.sum() <= 0:
        raise ValueError(f"percent: got {dict(percent)!r}; allowed: percentages >= 0, not all 0")
    exact = share / share.sum() * n
    counts = np.floor(exact).astype(int)
    left = n - int(counts.sum())
    order = sorted(range(len(labels)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:left]:
        counts[i] += 1
    return dict(zip(labels, (int(c) for c in counts), strict=True))


@_guard
def grade_percent_loglik(
    percent: Mapping[Any, float], n: int, simulated: Any, *, min_evaluable: int = MIN_EVALUABLE
) -> LogLik:
    """Log-probability of reported percentages per grade of n patients: converted to counts
    (:func:`percent_to_counts`) and scored as :func:`grade_counts_loglik`."""
    return grade_counts_loglik(
        percent_to_counts(percent, n), simulated, min_evaluable=min_evaluable
    )


@_guard
def population_typical_loglik(
    value: float,
    n: int,
    simulated: Any,
    *,
    omega2: float | None = None,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of a population-model typical value estimated from n patients, for a
    log-normally distributed parameter: log(value) ~ Normal(mean of the cohort's logs,
    omega / sqrt(n)), the SE of a mean of n logs. omega is the cohort's SD of the logs, or the
    reported sqrt(``omega2``) when the cohort has no spread (a typical-patient run). The density
    is that of log(value)."""
    n = _study_size(n)
    if value <= 0:
        raise ValueError(f"value: got {value:g}; allowed: a number > 0")
    x = _cohort(simulated, min_evaluable)
    if (x <= 0).any():
        raise _UnusableCohortError(
            "the cohort has values <= 0, which a log-normal parameter cannot take"
        )
    logs = np.log(x)
    omega = _sd(logs)
    if omega <= 0:
        if omega2 is None:
            raise _UnusableCohortError("the cohort has no spread and no omega2 was reported")
        omega = math.sqrt(omega2)
    return LogLik(float(stats.norm.logpdf(math.log(value), np.mean(logs), omega / math.sqrt(n))))


# ---------------------------------------------------------------------------------------------
# Individual data with BLQ samples (M3)
# ---------------------------------------------------------------------------------------------


def individual_loglik(
    observed: Any,
    predicted: Any,
    sigma_add: float,
    sigma_prop: float,
    blq: Any,
    lloq: Any,
    log_scale: bool = False,
) -> LogLik:
    """Log-likelihood of individual observations, samples below the LLOQ included (M3 method,
    Beal 2001, J Pharmacokinet Pharmacodyn 28:481).

    Natural scale (``log_scale=False``): the residual error is combined additive and
    proportional, sd = sqrt(sigma_add^2 + (sigma_prop * pred)^2); a quantified sample contributes
    log Normal(obs | pred, sd), a BLQ sample the log-probability that the value is below the
    limit, log Phi((LLOQ - pred) / sd). Discarding BLQ samples (M1) or setting them to LLOQ/2 (M5)
    biases the fit; M3 uses what is known, that the value was below the limit.

    Log scale (``log_scale=True``, an exponential error model): log(obs) ~ Normal(log(pred),
    sd_log) with sd_log = sqrt((sigma_add / pred)^2 + sigma_prop^2), the combined error
    transformed to the log scale (delta method), and log Phi((log LLOQ - log pred) / sd_log) for
    a BLQ sample; densities are those of log(obs).

    ``observed``, ``predicted``, ``blq`` (bool) and ``lloq`` broadcast together; ``observed`` is
    ignored where ``blq`` is true. Returns the sum over the samples; ``-inf`` with a reason when a
    prediction is not positive on the log scale or the error SD is 0 at some sample.
    """
    if sigma_add < 0 or sigma_prop < 0 or not math.isfinite(sigma_add + sigma_prop):
        raise ValueError(
            f"sigma_add, sigma_prop: got {sigma_add!r}, {sigma_prop!r}; allowed: numbers >= 0"
        )
    obs, pred, flag, limit = np.broadcast_arrays(
        np.asarray(observed, dtype=float), np.asarray(predicted, dtype=float),
        np.asarray(blq, dtype=bool), np.asarray(lloq, dtype=float),
    )  # fmt: skip
    if np.isnan(pred).any():
        raise ValueError("predicted: got NaN; allowed: a prediction at every sample")
    if np.isnan(obs[~flag]).any():
        raise ValueError("observed: got NaN for a quantified sample; allowed: a number")
    if np.isnan(limit[flag]).any() or (limit[flag] <= 0).any():
        raise ValueError("lloq: got NaN or <= 0 for a BLQ sample; allowed: a number > 0")
    if log_scale:
        if (pred <= 0).any():
            return _impossible("a prediction is <= 0, which has no log (exponential error)")
        if (obs[~flag] <= 0).any():
            raise ValueError("observed: got a value <= 0; allowed: values > 0 on the log scale")
        sd = np.sqrt((sigma_add / pred) ** 2 + sigma_prop**2)
        centre = np.log(pred)
        y = np.log(np.where(flag, 1.0, obs))
        limit = np.log(np.where(flag, limit, 1.0))
    else:
        sd = np.sqrt(sigma_add**2 + (sigma_prop * pred) ** 2)
        centre = pred
        y = obs
    if (sd <= 0).any():
        return _impossible("the residual SD is 0 at a sample (sigma_add = 0 and pred = 0)")
    quantified = stats.norm.logpdf(y[~flag], centre[~flag], sd[~flag])
    below = stats.norm.logcdf((limit[flag] - centre[flag]) / sd[flag])
    return LogLik(float(np.sum(quantified) + np.sum(below)))


# ---------------------------------------------------------------------------------------------
# Dispatcher
# ---------------------------------------------------------------------------------------------

NO_LIKELIHOOD = (Fixed, ModelResult)
"""Target kinds kept for reference or qualitative checks, without a likelihood."""


def has_likelihood(target: Target) -> bool:
    """Whether :func:`target_loglik` can score the target (not a fixed input or a model result)."""
    return not isinstance(target, NO_LIKELIHOOD)


def _positive(*values: float) -> bool:
    return all(v > 0 for v in values)


def target_loglik(
    target: Target,
    simulated: Any,
    *,
    n: int | None = None,
    min_evaluable: int = MIN_EVALUABLE,
) -> LogLik:
    """Log-likelihood of one summary target given a virtual cohort.

    ``simulated`` holds the per-patient value of the target's quantity in the target's unit
    (:attr:`~immunoreset.calibrate.data.Target.unit`; convert model output with
    ``model_factor``): a 1-D array, or patients x times for ``medians_at_times``; for
    ``count``/``proportion``/``lower_bound`` kinds the per-patient outcome (0/1, or the value
    compared with the bound), for grade kinds the per-patient maximum grade. NaN marks a patient
    not evaluable. ``n`` gives the study size of a target whose file says ``n: null``.

    Medians and ranges are taken on the log scale when every reported number is > 0. Raises
    ``ValueError`` for a target without a likelihood (:func:`has_likelihood`) or without a study
    size.
    """
    if not has_likelihood(target):
        raise ValueError(
            f"target {target.id!r}: statistic {target.statistic!r} has no likelihood "
            "(a fixed input or a result of another model)"
        )
    if target.n is not None and n is not None and n != target.n:
        raise ValueError(f"n: got {n}; target {target.id!r} already has n = {target.n}")
    size = target.n if target.n is not None else n
    if size is None:
        raise ValueError(f"target {target.id!r} has no study size (n: null; {target.note}); give n")
    kw: dict[str, Any] = {"min_evaluable": min_evaluable}
    t = target
    if isinstance(t, MeanSD):
        return mean_sd_loglik(t.mean, t.sd, size, simulated, **kw)
    if isinstance(t, MeanChangePercent):
        return mean_change_percent_loglik(t.mean, size, simulated, sd=t.sd, **kw)
    if isinstance(t, Median):
        return median_loglik(t.median, size, simulated, log_scale=_positive(t.median), **kw)
    if isinstance(t, MedianIQR):
        log = _positive(t.q1, t.median, t.q3)
        return median_iqr_loglik(t.median, t.q1, t.q3, size, simulated, log_scale=log, **kw)
    if isinstance(t, MedianRange):
        log = _positive(t.low, t.median, t.high)
        return median_range_loglik(t.median, t.low, t.high, size, simulated, log_scale=log, **kw)
    if isinstance(t, MediansAtTimes):
        log = _positive(*t.medians)
        return medians_at_times_loglik(t.medians, size, simulated, log_scale=log, **kw)
    if isinstance(t, ObservedRange):
        dist = "lognormal" if _positive(t.low, t.high) else "normal"
        return observed_range_loglik(t.low, t.high, size, simulated, dist=dist, **kw)
    if isinstance(t, ObservedMinimum):
        dist = "lognormal" if _positive(t.minimum) else "normal"
        return observed_minimum_loglik(t.minimum, size, simulated, dist=dist, **kw)
    if isinstance(t, Count):
        return proportion_loglik(t.events, size, simulated, **kw)
    if isinstance(t, Proportion):
        events = math.floor(t.percent * size / 100.0 + 0.5)
        return proportion_loglik(events, size, simulated, **kw)
    if isinstance(t, GradeCounts):
        if sum(t.counts.values()) != size:
            raise ValueError(f"target {t.id!r}: counts add up to {sum(t.counts.values())}, not n")
        return grade_counts_loglik(t.counts, simulated, **kw)
    if isinstance(t, GradePercent):
        return grade_percent_loglik(t.percent, size, simulated, **kw)
    if isinstance(t, LowerBound):
        return lower_bound_loglik(t.bound, size, simulated, **kw)
    if isinstance(t, PopulationTypical):
        return population_typical_loglik(t.value, size, simulated, omega2=t.omega2, **kw)
    raise ValueError(f"target {t.id!r}: statistic {t.statistic!r} is not known here")
