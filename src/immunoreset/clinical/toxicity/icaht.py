"""Immune effector cell-associated haematotoxicity (ICAHT): neutropenia grade, early and late.

Source: Rejeski K et al., Consensus on immune effector cell-associated hematotoxicity (ICAHT): an
EHA/EBMT recommendation, Blood 2023;142(10):865-877. Counting rules follow the public reference
implementation by E. C. Liang (``automatedicahtgrading``).

Early ICAHT (days 0-30). Status: the thresholds ANC <= 500/uL and <= 100/uL and the day 0-30 window
are VERIFIED. PROVISIONAL (register item P2): the duration bands (<= 500/uL for 1-6, 7-13, 14-30 or
>= 31 days; <= 100/uL for 7-13 or >= 14 days), the never-recovered rule and longest-run counting;
results list ``"P2"``. CONVENTION: filling missing days and joining runs
(:class:`IcahtEarlyOptions`).

Daily counts are marked neutropenic (ANC <= 500/uL) and profoundly neutropenic (<= 100/uL). Marked
days form runs; a recovery shorter than three days does not end a run, so runs separated by at most
``join_gap_days`` unmarked days are joined and the gap counted. The duration is the longest joined
run (or, optionally, the sum of them). Grade 4: >= 31 days <= 500, >= 14 days <= 100, or neutropenia
from day 0-3 that never recovers before the series ends; grade 3: 14-30 days <= 500 or 7-13 days
<= 100; grade 2: 7-13 days <= 500; grade 1: 1-6 days <= 500; otherwise 0.

Late ICAHT (after day 30, up to day 100 chosen by the caller). Status: the thresholds 1,500 / 1,000
/ 500 / 100 per uL are VERIFIED. PROVISIONAL (register item P3): confirmation by a second value and
the day-100 window end; results list ``"P3"``. The nadir is graded (<= 100 -> 4, <= 500 -> 3,
<= 1,000 -> 2, <= 1,500 -> 1, else 0) unless the second-lowest value exceeds 1,500/uL: a single low
value is then a transient dip and the grade is 0. The caller censors both series at progression, a
subsequent line of therapy or death.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    NonNegativeInteger,
    Record,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.units import lab

EARLY_KEY = "icaht_early"
LATE_KEY = "icaht_late"
SOURCE = "Rejeski K et al., Blood 2023;142(10):865-877, doi:10.1182/blood.2023020578 (EHA/EBMT)"
PROVISIONAL_EARLY = "P2"
PROVISIONAL_LATE = "P3"

EARLY_LAST_DAY = 30
NEUTROPENIA_PER_UL = 500
PROFOUND_PER_UL = 100
LATE_BANDS: tuple[tuple[int, int], ...] = ((100, 4), (500, 3), (1000, 2), (1500, 1))
"""Late grade of a nadir at or below each ANC (cells/uL)."""
TRANSIENT_ABOVE_PER_UL = 1500

AncPerUl = lab("anc_per_uL")
"""A daily ANC in cells/uL, plausible in that unit."""

Run = tuple[int, int]
"""First and last day (inclusive) of a joined run of marked days."""


class IcahtEarlyOptions(Record):
    """CONVENTION choices of the early grade (PROVISIONAL P2 for ``duration_mode``)."""

    duration_mode: Literal["longest_run", "cumulative"] = "longest_run"
    join_gap_days: NonNegativeInteger = 2
    never_recovered_start_day_max: NonNegativeInteger = 3
    max_interpolation_gap_days: NonNegativeInteger = 7


class IcahtEarlyRecord(Record):
    """Daily ANC (cells/uL) from day 0; ``None`` = not measured; entries after day 30 ignored."""

    anc_per_uL: tuple[AncPerUl | None, ...]  # noqa: N815 (unit spelling of the specification)
    options: IcahtEarlyOptions = IcahtEarlyOptions()


class IcahtLateOptions(Record):
    """PROVISIONAL (P3): grade 0 when the second-lowest value is above 1,500/uL."""

    require_confirmation: bool = True


class IcahtLateRecord(Record):
    """ANC values (cells/uL) from day 31 to the end of the late window, in any order."""

    anc_per_uL: tuple[AncPerUl, ...]  # noqa: N815 (unit spelling of the specification)
    options: IcahtLateOptions = IcahtLateOptions()


def fill_days(anc: Sequence[Decimal | None], max_gap: int) -> tuple[list[Fraction], int] | None:
    """Daily ANC for days 0..last measured day of the window, and the number of interpolated days.

    Trailing unmeasured days are dropped; interior gaps of up to ``max_gap`` days are filled by
    exact linear interpolation. ``None`` (not evaluable) for an empty series, no value on day 0, or
    a longer gap.
    """
    window = list(anc[: EARLY_LAST_DAY + 1])
    while window and window[-1] is None:
        window.pop()
    if not window or window[0] is None:
        return None
    filled = [Fraction(window[0])]
    previous = 0
    for day, value in enumerate(window[1:], start=1):
        if value is None:
            continue
        gap = day - previous - 1
        if gap > max_gap:
            return None
        start, end = filled[-1], Fraction(value)
        filled += [start + (end - start) * step / (gap + 1) for step in range(1, gap + 1)]
        filled.append(end)
        previous = day
    return filled, sum(value is None for value in window)


def joined_runs(marked: Sequence[bool], join_gap: int) -> list[Run]:
    """Runs of marked days, joining runs separated by at most ``join_gap`` unmarked days."""
    runs: list[Run] = []
    for day, is_marked in enumerate(marked):
        if not is_marked:
            continue
        if runs and day - runs[-1][1] - 1 <= join_gap:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def duration(runs: Sequence[Run], mode: str) -> int:
    """Days covered by the longest joined run, or by all of them under ``"cumulative"``."""
    lengths = [last - first + 1 for first, last in runs]
    return sum(lengths) if mode == "cumulative" else max(lengths, default=0)


def early_grade(dur_le500: int, dur_le100: int, never_recovered: bool) -> int:
    """PROVISIONAL (P2) duration bands of the early grade."""
    if never_recovered or dur_le500 >= 31 or dur_le100 >= 14:
        return 4
    if dur_le500 >= 14 or dur_le100 >= 7:
        return 3
    if dur_le500 >= 7:
        return 2
    return 1 if dur_le500 >= 1 else 0


def score_early(record: Mapping[str, Any] | IcahtEarlyRecord) -> InstrumentResult:
    """Early ICAHT grade (0-4) with the days of ANC <= 500 and <= 100 per uL, days 0-30."""
    rec = parse_record(IcahtEarlyRecord, record)
    opts = rec.options
    filled = fill_days(rec.anc_per_uL, opts.max_interpolation_gap_days)
    if filled is None:
        return InstrumentResult(
            instrument=EARLY_KEY,
            outputs={"dur_le500": None, "dur_le100": None, "grade": None},
            components={"reason": "empty series, no day-0 value, or a gap too long to fill"},
            options=opts.model_dump(),
        )
    anc, interpolated = filled
    runs500 = joined_runs([value <= NEUTROPENIA_PER_UL for value in anc], opts.join_gap_days)
    runs100 = joined_runs([value <= PROFOUND_PER_UL for value in anc], opts.join_gap_days)
    last_day = len(anc) - 1
    never_recovered = any(
        first <= opts.never_recovered_start_day_max and last == last_day for first, last in runs500
    )
    dur500 = duration(runs500, opts.duration_mode)
    dur100 = duration(runs100, opts.duration_mode)
    return InstrumentResult(
        instrument=EARLY_KEY,
        outputs={
            "dur_le500": dur500,
            "dur_le100": dur100,
            "grade": early_grade(dur500, dur100, never_recovered),
        },
        components={
            "last_day": last_day,
            "interpolated_days": interpolated,
            "runs_le500": runs500,
            "runs_le100": runs100,
            "never_recovered": never_recovered,
        },
        options=opts.model_dump(),
        provisional=(PROVISIONAL_EARLY,),
    )


def late_band(nadir: Decimal) -> int:
    """Late grade of an ANC nadir: <= 100 -> 4, <= 500 -> 3, <= 1000 -> 2, <= 1500 -> 1, else 0."""
    return next((grade for edge, grade in LATE_BANDS if nadir <= edge), 0)


def score_late(record: Mapping[str, Any] | IcahtLateRecord) -> InstrumentResult:
    """Late ICAHT grade (0-4), or ``None`` without any value after day 30."""
    rec = parse_record(IcahtLateRecord, record)
    options = rec.options.model_dump()
    if not rec.anc_per_uL:
        return InstrumentResult(LATE_KEY, {"grade": None}, options=options)
    lowest = sorted(rec.anc_per_uL)[:2]
    transient = (
        rec.options.require_confirmation and len(lowest) == 2 and lowest[1] > TRANSIENT_ABOVE_PER_UL
    )
    return InstrumentResult(
        instrument=LATE_KEY,
        outputs={"grade": 0 if transient else late_band(lowest[0])},
        components={"lowest": [float(value) for value in lowest], "transient_dip": transient},
        options=options,
        provisional=(PROVISIONAL_LATE,),
    )


register(
    Instrument(
        key=EARLY_KEY,
        title="ICAHT early (days 0-30) neutropenia grade",
        score=score_early,
        record=IcahtEarlyRecord,
        fields=(
            FieldSpec(
                "anc_per_uL",
                "list[number]",
                "cells/uL",
                ">= 0; null entry = not measured",
                True,
                description="daily ANC from day 0 (infusion); entries after day 30 are ignored",
            ),
        ),
        status=Status.PROVISIONAL,
        source=SOURCE,
        provisional_items=(PROVISIONAL_EARLY,),
        option_fields=(
            FieldSpec(
                "options.duration_mode",
                "enum",
                allowed="longest_run, cumulative",
                default="longest_run",
                description="PROVISIONAL: longest joined run or sum of joined runs",
            ),
            FieldSpec(
                "options.join_gap_days",
                "integer",
                "days",
                ">= 0",
                default=2,
                description="CONVENTION: recoveries this short or shorter do not end a run",
            ),
            FieldSpec(
                "options.never_recovered_start_day_max",
                "integer",
                "days",
                ">= 0",
                default=3,
                description="PROVISIONAL: latest start of a never-recovered neutropenia (grade 4)",
            ),
            FieldSpec(
                "options.max_interpolation_gap_days",
                "integer",
                "days",
                ">= 0",
                default=7,
                description="CONVENTION: longest interior gap filled by linear interpolation",
            ),
        ),
    )
)

register(
    Instrument(
        key=LATE_KEY,
        title="ICAHT late (after day 30) neutropenia grade",
        score=score_late,
        record=IcahtLateRecord,
        fields=(
            FieldSpec(
                "anc_per_uL",
                "list[number]",
                "cells/uL",
                ">= 0",
                True,
                description="ANC values from day 31 to the window end (day 100), any order",
            ),
        ),
        status=Status.PROVISIONAL,
        source=SOURCE,
        provisional_items=(PROVISIONAL_LATE,),
        option_fields=(
            FieldSpec(
                "options.require_confirmation",
                "bool",
                default=True,
                description="PROVISIONAL: a single dip is grade 0 if the second-lowest is > 1,500",
            ),
        ),
    )
)
