"""Trial statistics against published worked examples and values computed by hand.

Tolerances: published values are printed to 3-4 decimals, so agreement is to half a unit of the
last printed digit; hand-computed values agree to floating-point precision (1e-12).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from immunoreset.trial.stats import (
    kaplan_meier,
    logrank,
    median_interval,
    median_time,
    newcombe,
    wilson,
)

# Freireich EJ et al., Blood 1963;21:699-716: remission times (weeks) of 42 children with acute
# leukaemia, 6-mercaptopurine vs placebo; the worked example of Kleinbaum DG, Klein M, Survival
# Analysis: A Self-Learning Text, 3rd ed. 2012, chapter 2 (KM table) and chapter 2.7 (log-rank).
MP_TIME = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
MP_EVENT = [1] * 9 + [0] * 12
PLACEBO_TIME = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
PLACEBO_EVENT = [1] * 21


def test_wilson_against_newcombe_1998_and_formula() -> None:
    # Newcombe RG, Stat Med 1998;17:857-72, Table II: 81/263 -> 0.2553 to 0.3662 (method 3).
    est = wilson(81, 263)
    assert est.value == pytest.approx(81 / 263, abs=1e-12)
    assert (est.low, est.high) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    # the closed form by hand: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    k, n, z = 3, 10, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (wilson(k, n).low, wilson(k, n).high) == pytest.approx(
        (centre - half, centre + half), abs=1e-12
    )


def test_wilson_edges() -> None:
    assert wilson(0, 10).low == 0.0
    assert wilson(10, 10).high == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(wilson(0, 0).value)


def test_newcombe_against_published_example() -> None:
    # Newcombe RG, Stat Med 1998;17:873-90, Table II example (a): 56/70 - 48/80 = 0.2000,
    # hybrid score interval (method 10) 0.0524 to 0.3339.
    est = newcombe(56, 70, 48, 80)
    assert est.value == pytest.approx(0.2, abs=1e-12)
    assert (est.low, est.high) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_newcombe_by_hand_from_wilson_limits() -> None:
    # Method 10: d - sqrt((p1-l1)^2 + (u2-p2)^2), d + sqrt((u1-p1)^2 + (p2-l2)^2)
    a, b = wilson(9, 20), wilson(4, 25)
    d = 9 / 20 - 4 / 25
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    est = newcombe(9, 20, 4, 25)
    assert (est.low, est.high) == pytest.approx((low, high), abs=1e-12)


def test_kaplan_meier_by_hand() -> None:
    # 6-MP group by hand: S(6) = 1 - 3/21, S(7) = S(6) (1 - 1/17), S(10) = S(7) (1 - 1/15), ...
    # (Kleinbaum & Klein chapter 2: 0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482)
    curve = kaplan_meier(np.array(MP_TIME), np.array(MP_EVENT))
    expected = [1.0]
    for n, d in [(21, 3), (17, 1), (15, 1), (12, 1), (11, 1), (7, 1), (6, 1)]:
        expected.append(expected[-1] * (1 - d / n))
    assert curve["time"].tolist() == [0, 6, 7, 10, 13, 16, 22, 23]
    assert curve["at_risk"].tolist() == [21, 21, 17, 15, 12, 11, 7, 6]
    assert curve["survival"].to_numpy() == pytest.approx(expected, abs=1e-12)
    assert curve["survival"].iat[-1] == pytest.approx(0.4482, abs=5e-5)


def test_median_time_to_event() -> None:
    # Kleinbaum & Klein: median remission 23 weeks (6-MP) and 8 weeks (placebo).
    assert median_time(np.array(MP_TIME), np.array(MP_EVENT)).value == 23
    assert median_time(np.array(PLACEBO_TIME), np.array(PLACEBO_EVENT)).value == 8
    # not reached: no bound, never a number that looks like one
    none = median_time(np.array([5.0, 6.0, 7.0]), np.array([1, 0, 0]))
    assert math.isnan(none.value)


def test_logrank_against_published_example() -> None:
    # Kleinbaum & Klein section 2.7: log-rank chi-square 16.79 on 1 df (p < 0.0001).
    chisq, p = logrank(
        np.array(MP_TIME + PLACEBO_TIME),
        np.array(MP_EVENT + PLACEBO_EVENT),
        np.array([1] * 21 + [0] * 21),
    )
    assert chisq == pytest.approx(16.79, abs=5e-3)
    assert p == pytest.approx(4.17e-5, rel=1e-2)


def test_median_interval_order_statistics() -> None:
    # n = 20, alpha = 0.05: P(B(20, 1/2) <= 5) = 0.0207 <= 0.025 < P(B <= 6) = 0.0577,
    # so the interval is [x_(6), x_(15)] (Conover 1999, Table A3).
    est = median_interval(np.arange(1.0, 21.0))
    assert (est.value, est.low, est.high) == (10.5, 6.0, 15.0)
    few = median_interval(np.array([1.0, 2.0, 3.0]))  # too few for 95 % coverage
    assert few.value == 2.0 and math.isnan(few.low)
