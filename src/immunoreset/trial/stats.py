"""Trial statistics: proportions, differences, medians and time-to-event analyses.

Every interval comes from a maintained library (statsmodels) so that the numbers are those a trial
statistician would get from the same data:

* a rate and its Wilson score interval (Wilson EB, J Am Stat Assoc 1927;22:209-12), the interval
  recommended for binomial proportions (Brown LD, Cai TT, DasGupta A, Stat Sci 2001;16:101-33);
* a difference of two independent rates and its Newcombe hybrid score interval (Newcombe RG, Stat
  Med 1998;17:873-90, method 10), which combines the two Wilson intervals;
* a median and its distribution-free interval from order statistics (Conover WJ, Practical
  Nonparametric Statistics, 3rd ed. 1999, section 3.2);
* Kaplan-Meier estimates with Greenwood variances, the median time to event with the
  Brookmeyer-Crowley interval (log-log transform), and the log-rank test (Mantel N, Cancer
  Chemother Rep 1966;50:163-70), all from :mod:`statsmodels.duration.survfunc`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its two-sided ``1 - alpha`` interval (``nan`` when not estimable)."""

    value: float
    low: float
    high: float


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan)


def wilson(events: int, n: int, alpha: float = 0.05) -> Estimate:
    """Rate ``events / n`` with its Wilson score interval (no continuity correction)."""
    if n <= 0:
        return NAN_ESTIMATE
    low, high = proportion_confint(events, n, alpha=alpha, method="wilson")
    return Estimate(events / n, float(low), float(high))


def newcombe(events1: int, n1: int, events2: int, n2: int, alpha: float = 0.05) -> Estimate:
    """Difference ``events1/n1 - events2/n2`` with Newcombe's hybrid score interval."""
    if n1 <= 0 or n2 <= 0:
        return NAN_ESTIMATE
    low, high = confint_proportions_2indep(
        events1, n1, events2, n2, method="newcomb", compare="diff", alpha=alpha
    )
    return Estimate(events1 / n1 - events2 / n2, float(low), float(high))


def median_interval(values: np.ndarray, alpha: float = 0.05) -> Estimate:
    """Sample median with the distribution-free interval ``[x_(r), x_(n-r+1)]``.

    ``r - 1`` is the largest ``k`` with ``P(Binomial(n, 1/2) <= k) <= alpha/2``, so the interval
    covers the population median with probability at least ``1 - alpha`` (n = 20, alpha = 0.05:
    ``[x_(6), x_(15)]``, coverage 95.9 %). With too few values for that coverage the bounds are
    ``nan``.
    """
    x = np.asarray(values, dtype=float)
    x = np.sort(x[~np.isnan(x)])
    n = len(x)
    if n == 0:
        return NAN_ESTIMATE
    k = int(sps.binom.ppf(alpha / 2, n, 0.5))  # smallest k with P(B <= k) >= alpha/2
    if sps.binom.cdf(k, n, 0.5) > alpha / 2:
        k -= 1
    if k < 0:
        return Estimate(float(np.median(x)), math.nan, math.nan)
    return Estimate(float(np.median(x)), float(x[k]), float(x[n - k - 1]))


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier estimate at each distinct event time: ``time``, ``at_risk``, ``events``,
    ``survival`` and its standard error (Greenwood). Starts with ``time`` 0 and survival 1."""
    fit = SurvfuncRight(np.asarray(time, float), np.asarray(event, int))
    head = pd.DataFrame(
        {"time": [0.0], "at_risk": [len(time)], "events": [0], "survival": [1.0], "std_err": [0.0]}
    )
    body = pd.DataFrame(
        {
            "time": fit.surv_times,
            "at_risk": fit.n_risk.astype(int),
            "events": fit.n_events.astype(int),
            "survival": fit.surv_prob,
            "std_err": fit.surv_prob_se,
        }
    )
    return pd.concat([head, body], ignore_index=True)


def median_time(time: np.ndarray, event: np.ndarray, alpha: float = 0.05) -> Estimate:
    """Kaplan-Meier median time to event with the Brookmeyer-Crowley interval (log-log).

    ``nan`` where the curve does not reach 0.5 (median not reached) or the bound is not reached.
    """
    if int(np.sum(event)) == 0:
        return NAN_ESTIMATE
    fit = SurvfuncRight(np.asarray(time, float), np.asarray(event, int))
    with np.errstate(divide="ignore", invalid="ignore"):  # log(-log(S)) at S = 1 is -inf: fine
        value = fit.quantile(0.5)
        low, high = fit.quantile_ci(0.5, alpha=alpha, method="cloglog")
    values = (float(v) if v is not None else math.nan for v in (value, low, high))
    return Estimate(*(v if math.isfinite(v) else math.nan for v in values))


def logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> tuple[float, float]:
    """Log-rank chi-square statistic and its p-value for equality of the groups' curves."""
    chisq, p = survdiff(np.asarray(time, float), np.asarray(event, int), np.asarray(group))
    return float(chisq), float(p)
