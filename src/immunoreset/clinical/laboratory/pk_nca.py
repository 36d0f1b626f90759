"""CAR-T cellular kinetics by non-compartmental analysis (NCA).

Sources: Mueller KT et al., Clinical pharmacology of tisagenlecleucel in B-cell acute lymphoblastic
leukemia, Clin Cancer Res 2018;24:6175-6184 (Cmax and AUC0-28d of transgene levels); Awasthi R et
al., Tisagenlecleucel cellular kinetics, dose, and immunogenicity in relation to clinical factors in
relapsed/refractory DLBCL, Blood Adv 2020;4:560-572; KYMRIAH US prescribing information, section
12.3.

Status: CONVENTION (standard NCA definitions; the choices below are the platform defaults).

Rules, in short. Samples before infusion (time < 0) are dropped and the rest sorted by time. A level
is quantifiable if it is above 0 and, when a limit of quantification (``lloq``) is given, at least
that limit; other levels count as 0 in the AUC and are never Cmax or Clast. Without any quantifiable
level every output is ``None`` (no expansion, not 0). Cmax is the highest quantifiable level and
Tmax its earliest time; Clast and Tlast are the last quantifiable level and its time over the whole
profile. AUC0-28d starts from (0, 0) when day 0 was not sampled, uses trapezoids up to day 28 and
interpolates the level at day 28 between the bracketing samples; it is ``None`` when sampling stops
before day 28. By default the trapezoids are linear while the level rises or stays and logarithmic
(with log interpolation) where it falls between two positive values, "linear-up/log-down" as in
Phoenix WinNonlin and the R package PKNCA and as the endpoints library computes it;
``options.auc_method = "linear"`` makes every trapezoid linear. The output ``auc_0_28d_method``
names the rule that made ``auc_0_28d``. The half-life is ln 2 / lambda_z, with
lambda_z the negative least-squares slope of ln(level) on time over the chosen terminal points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from statistics import linear_regression
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.float_series import (
    at_least,
    decimal_of,
    finite_at_least_zero,
    is_float_series,
    plausible,
    series_field,
)
from immunoreset.clinical.laboratory.measures import plain, timed_positions
from immunoreset.clinical.units import QUANTITIES, lab

KEY = "car_pk_nca"
SOURCE = (
    "Mueller KT et al., Clin Cancer Res 2018;24:6175-6184; Awasthi R et al., "
    "Blood Adv 2020;4:560-572; KYMRIAH US prescribing information section 12.3"
)
AUC_END_DAY = Decimal(28)
MIN_HALF_LIFE_POINTS = 3
OUTPUTS = ("cmax", "tmax_d", "auc_0_28d", "auc_0_28d_method", "clast", "tlast_d", "t_half_d")

CarLevel = lab("car_level")
"""A CAR-T level (>= 0) in the assay's unit."""

Sample = tuple[Decimal, Decimal]
"""Time (days) and level."""


class PkOptions(Record):
    """CONVENTION: ``"linear_up_log_down"`` trapezoids (default) or ``"linear"``."""

    auc_method: Literal["linear_up_log_down", "linear"] = "linear_up_log_down"


def _plausible_levels(levels: np.ndarray) -> bool:
    return finite_at_least_zero(levels) and plausible(levels, QUANTITIES["car_level"])


class PkRecord(Record):
    """Cellular-kinetic profile: sample times (days from infusion) and as many levels (>= 0).

    ``levels`` may be a float64 array (a simulated profile), decided as the decimals of its floats
    (:mod:`immunoreset.clinical.float_series`).
    """

    times_d: tuple[Decimal, ...]
    levels: Annotated[tuple[CarLevel, ...], series_field(_plausible_levels)]
    lloq: Annotated[CarLevel, Field(gt=0)] | None = None
    half_life_points: tuple[Decimal, ...] | None = None
    options: PkOptions = PkOptions()


def is_log_down(c1: Decimal, c2: Decimal, method: str) -> bool:
    """Whether a segment from ``c1`` to ``c2`` takes the logarithmic trapezoid."""
    return method == "linear_up_log_down" and 0 < c2 < c1


def level_at(start: Sample, end: Sample, time: Decimal, method: str) -> Decimal:
    """Level at ``time`` between two samples (log-linear on a log-down segment, else linear)."""
    (t1, c1), (t2, c2) = start, end
    share = (time - t1) / (t2 - t1)
    if is_log_down(c1, c2, method):
        return Decimal(float(c1) * (float(c2) / float(c1)) ** float(share))
    return c1 + (c2 - c1) * share


def segment_area(start: Sample, end: Sample, method: str) -> Fraction | float:
    """Area under one segment: exact linear trapezoid, or logarithmic trapezoid on a log-down."""
    (t1, c1), (t2, c2) = start, end
    if is_log_down(c1, c2, method):
        return float(c1 - c2) * float(t2 - t1) / math.log(float(c1) / float(c2))
    return (Fraction(c1) + Fraction(c2)) * Fraction(t2 - t1) / 2


def auc_to(profile: Sequence[Sample], end_time: Decimal, method: str) -> float | None:
    """AUC from time 0 to ``end_time``; (0, 0) is prepended without a day-0 sample; ``None`` if the
    profile stops before ``end_time``."""
    points = list(profile)
    if points[0][0] > 0:
        points.insert(0, (Decimal(0), Decimal(0)))
    if points[-1][0] < end_time:
        return None
    total: Fraction | float = Fraction(0)
    for start, end in pairwise(points):
        if start[0] >= end_time:
            break
        if end[0] > end_time:
            end = (end_time, level_at(start, end, end_time, method))
        total += segment_area(start, end, method)
    return float(total)


def half_life(
    points: Sequence[Decimal] | None, quantified: Mapping[Decimal, Decimal], tmax: Decimal
) -> tuple[float | None, float | None]:
    """Terminal half-life (days) and lambda_z (1/day) over ``points``; ``None`` if not estimable.

    Every point must be the time of a quantifiable sample after Tmax, each at most once.
    """
    if points is None or len(points) < MIN_HALF_LIFE_POINTS:
        return None, None
    for index, time in enumerate(points):
        if time not in quantified or time <= tmax or time in points[:index]:
            raise InstrumentInputError(
                f"half_life_points.{index}",
                time,
                "distinct times of quantifiable samples after tmax_d",
            )
    slope = linear_regression(
        [float(time) for time in points], [math.log(float(quantified[time])) for time in points]
    ).slope
    lambda_z = -slope
    return (math.log(2) / lambda_z, lambda_z) if lambda_z > 0 else (None, None)


def score(record: Mapping[str, Any] | PkRecord) -> InstrumentResult:
    """Cmax, Tmax, AUC0-28d, Clast, Tlast and (optionally) the terminal half-life."""
    rec = parse_record(PkRecord, record)
    method = rec.options.auc_method
    floats = is_float_series(rec.levels)
    levels = rec.levels.tolist() if floats else rec.levels
    exact = decimal_of if floats else Decimal
    lloq = rec.lloq if rec.lloq is None or not floats else at_least(rec.lloq)
    positions = timed_positions(rec.times_d, len(levels), "times_d", "levels")
    quantified = [i for i in positions if levels[i] > 0 and (lloq is None or levels[i] >= lloq)]
    options = {"auc_method": method}
    if not quantified:
        return InstrumentResult(KEY, dict.fromkeys(OUTPUTS), options=options)
    highest = max(quantified, key=levels.__getitem__)  # the earliest of equal highest levels
    last = quantified[-1]
    tmax = rec.times_d[highest]
    counted = set(quantified)
    profile = []
    for i in positions:
        profile.append((rec.times_d[i], exact(levels[i]) if i in counted else Decimal(0)))
        if rec.times_d[i] >= AUC_END_DAY:
            break
    auc = auc_to(profile, AUC_END_DAY, method)
    at = (
        {rec.times_d[i]: exact(levels[i]) for i in quantified}
        if rec.half_life_points is not None
        else {}
    )
    t_half, lambda_z = half_life(rec.half_life_points, at, tmax)
    return InstrumentResult(
        instrument=KEY,
        outputs={
            "cmax": float(levels[highest]),
            "tmax_d": plain(tmax),
            "auc_0_28d": auc,
            "auc_0_28d_method": None if auc is None else method,
            "clast": float(levels[last]),
            "tlast_d": plain(rec.times_d[last]),
            "t_half_d": t_half,
        },
        components={
            "samples_used": len(positions),
            "quantifiable": len(quantified),
            "lambda_z": lambda_z,
        },
        options=options,
    )


register(
    Instrument(
        key=KEY,
        title="CAR-T cellular kinetics (non-compartmental analysis)",
        score=score,
        record=PkRecord,
        fields=(
            FieldSpec(
                "times_d",
                "list[day]",
                "days",
                "distinct; times < 0 are dropped",
                True,
                description="sample times from infusion",
            ),
            FieldSpec(
                "levels",
                "list[number]",
                "copies/ug gDNA or cells/uL",
                ">= 0; one per time",
                True,
                description="transgene copies (qPCR) or CAR+ cells (flow) at each time",
            ),
            FieldSpec(
                "lloq",
                "number",
                "as levels",
                "> 0",
                description="limit of quantification; empty = any level > 0 is quantifiable",
            ),
            FieldSpec(
                "half_life_points",
                "list[day]",
                "days",
                ">= 3 distinct sampled times after tmax_d",
                description="times for the terminal slope; empty = no half-life",
            ),
        ),
        status=Status.CONVENTION,
        source=SOURCE,
        option_fields=(
            FieldSpec(
                "options.auc_method",
                "enum",
                allowed="linear_up_log_down, linear",
                default="linear_up_log_down",
                description="CONVENTION: trapezoid rule of AUC0-28d (the endpoints default); the "
                "output auc_0_28d_method names the rule used",
            ),
        ),
    )
)
