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
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentInputError,
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
    edge_fill: Literal["nearest", "none"] = "nearest"


class IcahtEarlyRecord(Record):
    """Daily ANC (cells/uL) from day 0; ``None`` = not measured; entries after day 30 ignored.

    ``last_followup_day`` (optional) is the day of the last follow-up or death; without it the
    follow-up is taken to end on the last measured day.
    """

    anc_per_uL: tuple[AncPerUl | None, ...]  # noqa: N815 (unit spelling of the specification)
    last_followup_day: NonNegativeInteger | None = None
    options: IcahtEarlyOptions = IcahtEarlyOptions()


@dataclass(frozen=True)
class FilledSeries:
    """The daily ANC that the grade reads, and how it was obtained.

    Attributes:
        anc: ANC of days 0 to ``len(anc) - 1`` (the last graded day), measured or filled.
        follow_up_end: last day of follow-up in the window (day 30 at most).
        interpolated: interior days filled by linear interpolation.
        extended: edge days given the nearest measured value (before the first or after the last
            measurement).
    """

    anc: list[Fraction]
    follow_up_end: int
    interpolated: int
    extended: int


def follow_up_end(anc: Sequence[Decimal | None], last_followup_day: int | None) -> int | None:
    """Last day of follow-up inside days 0-30, or ``None`` for a series without any value.

    Without ``last_followup_day`` the follow-up ends on the last measured day of the window. A
    value measured after ``last_followup_day`` is an error.
    """
    measured = [day for day, value in enumerate(anc) if value is not None]
    if last_followup_day is not None:
        if measured and measured[-1] > last_followup_day:
            raise InstrumentInputError(
                "last_followup_day",
                last_followup_day,
                f"a day on or after the last measured ANC (day {measured[-1]})",
            )
        return min(last_followup_day, EARLY_LAST_DAY)
    in_window = [day for day in measured if day <= EARLY_LAST_DAY]
    return in_window[-1] if in_window else None


def fill_days(
    anc: Sequence[Decimal | None],
    last_followup_day: int | None,
    options: IcahtEarlyOptions,
) -> FilledSeries | None:
    """Daily ANC over the follow-up in days 0-30, gaps filled as the reference implementation does.

    The reference implementation fills the day 0-30 series with ``zoo::na.approx(anc, maxgap = 7,
    rule = 2)``: a run of at most ``max_interpolation_gap_days`` unmeasured days between two
    measurements is interpolated linearly, and such a run before the first or after the last
    measurement takes the nearest measured value (``rule = 2``). With ``edge_fill = "none"`` the
    edges are not filled: a missing day 0 is not evaluable and the series ends at the last value.
    Returns ``None`` (not evaluable) without any value in the window, with a longer gap between
    measurements, or with a longer gap before the first one. A longer gap after the last
    measurement is left unfilled: the series then ends at the last value, before the follow-up.
    """
    end = follow_up_end(anc, last_followup_day)
    if end is None:
        return None
    window = [*anc[: end + 1], *[None] * (end + 1 - len(anc))]
    measured = [(day, Fraction(value)) for day, value in enumerate(window) if value is not None]
    if not measured:
        return None
    max_gap = options.max_interpolation_gap_days
    nearest = options.edge_fill == "nearest"
    first_day, first_value = measured[0]
    if first_day and not (nearest and first_day <= max_gap):
        return None
    filled = [first_value] * (first_day + 1)
    interpolated = 0
    for (start_day, start), (stop_day, stop) in pairwise(measured):
        gap = stop_day - start_day - 1
        if gap > max_gap:
            return None
        filled += [start + (stop - start) * step / (gap + 1) for step in range(1, gap + 1)]
        filled.append(stop)
        interpolated += gap
    tail = end - measured[-1][0]
    extended = first_day
    if tail and nearest and tail <= max_gap:
        filled += [measured[-1][1]] * tail
        extended += tail
    return FilledSeries(filled, end, interpolated, extended)


class IcahtLateOptions(Record):
    """PROVISIONAL (P3): grade 0 when the second-lowest value is above 1,500/uL."""

    require_confirmation: bool = True


class IcahtLateRecord(Record):
    """ANC values (cells/uL) from day 31 to the end of the late window, in any order."""

    anc_per_uL: tuple[AncPerUl, ...]  # noqa: N815 (unit spelling of the specification)
    options: IcahtLateOptions = IcahtLateOptions()


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
    """Early ICAHT grade (0-4) with the days of ANC <= 500 and <= 100 per uL, days 0-30.

    Flags: ``labs_end_before_follow_up`` when the last measurement (plus the filled days) comes
    before the end of follow-up, so the grade cannot say the patient never recovered;
    ``follow_up_end_assumed_at_last_value`` when grade 4 for a neutropenia that never recovered
    rests on follow-up ending with the last value (give ``last_followup_day`` to settle it).
    """
    rec = parse_record(IcahtEarlyRecord, record)
    opts = rec.options
    series = fill_days(rec.anc_per_uL, rec.last_followup_day, opts)
    if series is None:
        return InstrumentResult(
            instrument=EARLY_KEY,
            outputs={"dur_le500": None, "dur_le100": None, "grade": None},
            components={"reason": "no value in days 0-30, or a gap too long to fill"},
            options=opts.model_dump(),
        )
    anc = series.anc
    runs500 = joined_runs([value <= NEUTROPENIA_PER_UL for value in anc], opts.join_gap_days)
    runs100 = joined_runs([value <= PROFOUND_PER_UL for value in anc], opts.join_gap_days)
    never_recovered = any(
        first <= opts.never_recovered_start_day_max and last == series.follow_up_end
        for first, last in runs500
    )
    dur500 = duration(runs500, opts.duration_mode)
    dur100 = duration(runs100, opts.duration_mode)
    flags = []
    if len(anc) - 1 < series.follow_up_end:
        flags.append("labs_end_before_follow_up")
    if never_recovered and rec.last_followup_day is None:
        flags.append("follow_up_end_assumed_at_last_value")
    return InstrumentResult(
        instrument=EARLY_KEY,
        outputs={
            "dur_le500": dur500,
            "dur_le100": dur100,
            "grade": early_grade(dur500, dur100, never_recovered),
        },
        components={
            "last_day": len(anc) - 1,
            "follow_up_end_day": series.follow_up_end,
            "interpolated_days": series.interpolated,
            "extended_days": series.extended,
            "runs_le500": runs500,
            "runs_le100": runs100,
            "never_recovered": never_recovered,
        },
        flags=tuple(flags),
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
            FieldSpec(
                "last_followup_day",
                "day",
                "days",
                ">= the last measured day",
                description="day of the last follow-up or death; empty = the last measured day "
                "(then grade 4 for never recovering rests on that assumption and is flagged)",
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
                description="CONVENTION: longest gap filled (linear inside the series, nearest "
                "value at its edges); a longer gap before or inside the series makes it None",
            ),
            FieldSpec(
                "options.edge_fill",
                "enum",
                allowed="nearest, none",
                default="nearest",
                description="nearest: a missing day 0 or a missing end of follow-up takes the "
                "nearest measured value (reference implementation, na.approx rule = 2); none: a "
                "missing day 0 is not evaluable",
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
