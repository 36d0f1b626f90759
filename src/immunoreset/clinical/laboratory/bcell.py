"""B-cell aplasia and reconstitution after CD19-directed cell therapy.

No consensus definition exists for autoimmune disease; each trial sets its own thresholds, so every
threshold here is a parameter and is reported with the result. Status: CONVENTION throughout. The
clinical picture (deep peripheral B-cell depletion, return of naive B cells after a mean of about
110 days) is from Mackensen A et al., Anti-CD19 CAR T cell therapy for refractory systemic lupus
erythematosus, Nat Med 2022;28:2124-2132.

Rules, in short. Samples are peripheral CD19+ B cells (cells/uL, or percent of lymphocytes) with
their day after infusion; samples before day 0 are dropped and a value below the limit of
quantification (``"<LLOQ"``) counts as 0. Aplasia starts at the first sample strictly below
``aplasia_threshold`` (default 1 cell/uL). Reconstitution is the first later sample at or above
``recovery_threshold`` (default: the aplasia threshold) whose next sample is also at or above it; a
single high value followed by a lower one is a blip. Without a confirmed reconstitution the aplasia
is censored at the last sample. A patient never aplastic has no aplasia or reconstitution times
(``None``, not 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, PlainValidator

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
    above,
    at_least,
    decimal_of,
    finite_at_least_zero,
    is_float_series,
    plausible,
    series_field,
)
from immunoreset.clinical.laboratory.measures import plain, timed_positions
from immunoreset.clinical.units import QUANTITIES, implausible_text, is_plausible

KEY = "b_cell_aplasia_reconstitution"
SOURCE = (
    "Platform convention (no consensus definition); clinical picture from Mackensen A et al., "
    "Nat Med 2022;28:2124-2132"
)
LLOQ = "<LLOQ"
PERCENT_MAX = Decimal(100)
SAMPLE_VALUE_ALLOWED = f"a number >= 0 or the text {LLOQ}"


def _sample_value(value: object) -> Decimal | str:
    """Accept a B-cell level: a finite number >= 0 or the text ``<LLOQ``."""
    if value == LLOQ:
        return LLOQ
    if isinstance(value, bool):
        raise ValueError(SAMPLE_VALUE_ALLOWED)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(SAMPLE_VALUE_ALLOWED) from None
    if not number.is_finite() or number < 0:
        raise ValueError(SAMPLE_VALUE_ALLOWED)
    return number


def below_lloq(value: Decimal | str) -> bool:
    """Whether a validated sample value is ``<LLOQ``, the only text :func:`_sample_value` keeps.

    Told by type, not by ``value == LLOQ``: comparing a Decimal with text makes ``decimal`` ask
    ``numbers.Rational``, which would cost more than the rest of scoring a long series.
    """
    return isinstance(value, str)


SampleValue = Annotated[Decimal | str, PlainValidator(_sample_value)]
Threshold = Annotated[Decimal, Field(gt=0)]


class BCellRecord(Record):
    """B-cell samples of one patient, as ``samples`` pairs or as parallel ``days`` and ``values``.

    ``samples`` (``[[day, value], ...]``) is the layout of the specification; ``days`` with
    ``values`` is the same series as two lists (one CSV cell each). Give one layout, not both.
    ``values`` may be a float64 array (a simulated series), decided as the decimals of its floats
    (:mod:`immunoreset.clinical.float_series`).
    """

    samples: tuple[tuple[Decimal, SampleValue], ...] | None = None
    days: tuple[Decimal, ...] | None = None
    values: Annotated[tuple[SampleValue, ...] | None, series_field(finite_at_least_zero)] = None
    unit: Literal["cells_per_uL", "percent_of_lymphocytes"] = "cells_per_uL"
    aplasia_threshold: Threshold = Decimal("1.0")
    recovery_threshold: Threshold | None = None


Layout = tuple[Sequence[Decimal], Sequence[Decimal | str], str, str]
"""Days, values, and the names of the fields that hold them."""


def sample_lists(record: BCellRecord) -> Layout:
    """Days and values from either layout, with the field names that errors should cite."""
    if record.samples is not None:
        if record.days is not None or record.values is not None:
            raise InstrumentInputError("samples", "samples with days/values", "one layout only")
        days, values = [day for day, _ in record.samples], [v for _, v in record.samples]
        return days, values, "samples", "samples"
    if record.days is None:
        raise InstrumentInputError("samples", None, "samples, or days with values (required)")
    if record.values is None:
        raise InstrumentInputError("values", None, "a value for each day (required with days)")
    return record.days, record.values, "days", "values"


def recovery_threshold(record: BCellRecord) -> Decimal:
    """The recovery threshold in force; it may not be below the aplasia threshold."""
    if record.recovery_threshold is None:
        return record.aplasia_threshold
    if record.recovery_threshold < record.aplasia_threshold:
        raise InstrumentInputError(
            "recovery_threshold",
            record.recovery_threshold,
            f"a value >= aplasia_threshold ({record.aplasia_threshold})",
        )
    return record.recovery_threshold


def check_percentages(record: BCellRecord, levels: Sequence[Decimal], values_field: str) -> None:
    """Percentages of lymphocytes (and the thresholds) cannot exceed 100."""
    for name in ("aplasia_threshold", "recovery_threshold"):
        value = getattr(record, name)
        if value is not None and value > PERCENT_MAX:
            raise InstrumentInputError(name, value, "a percentage <= 100")
    for index, level in enumerate(levels):
        if level > PERCENT_MAX:
            raise InstrumentInputError(f"{values_field}.{index}", level, "a percentage <= 100")


def check_counts(levels: Sequence[Decimal], values_field: str) -> None:
    """B-cell counts must be plausible in cells/uL (a count typed in x10^9/L or per mL is not)."""
    quantity = QUANTITIES["b_cells_per_uL"]
    for index, level in enumerate(levels):
        if not is_plausible(quantity, level):
            raise InstrumentInputError(
                f"{values_field}.{index}", level, implausible_text(quantity, level)
            )


def reconstitution_index(
    levels: Sequence[Decimal] | Sequence[float], onset: int, threshold: Decimal | float
) -> int | None:
    """First sample after ``onset`` at or above ``threshold`` and confirmed by the next sample
    (floats against a float cutoff, see :mod:`immunoreset.clinical.float_series`)."""
    return next(
        (
            i
            for i in range(onset + 1, len(levels) - 1)
            if levels[i] >= threshold and levels[i + 1] >= threshold
        ),
        None,
    )


def float_levels(record: BCellRecord, values: np.ndarray) -> bool:
    """Whether a float series passes the checks of :func:`check_percentages` or
    :func:`check_counts` (which name the offending sample when it does not)."""
    if record.unit == "percent_of_lymphocytes":
        thresholds = (record.aplasia_threshold, record.recovery_threshold)
        return all(t is None or t <= PERCENT_MAX for t in thresholds) and bool(
            (values < above(PERCENT_MAX)).all()
        )
    return plausible(values, QUANTITIES["b_cells_per_uL"])


def score(record: Mapping[str, Any] | BCellRecord) -> InstrumentResult:
    """Day of aplasia onset and of confirmed reconstitution, duration and censoring."""
    rec = parse_record(BCellRecord, record)
    days, values, days_field, values_field = sample_lists(rec)
    recovery = recovery_threshold(rec)
    floats = is_float_series(values) and float_levels(rec, values)
    if floats:
        levels_in = values.tolist()
        onset_below, recovered_at = at_least(rec.aplasia_threshold), at_least(recovery)
    else:
        if is_float_series(values):  # refused: the checks below name the sample
            values = [decimal_of(value) for value in values.tolist()]
        levels_in = [Decimal(0) if below_lloq(value) else value for value in values]
        if rec.unit == "percent_of_lymphocytes":
            check_percentages(rec, levels_in, values_field)
        else:
            check_counts(levels_in, values_field)
        onset_below, recovered_at = rec.aplasia_threshold, recovery
    positions = timed_positions(days, len(levels_in), days_field, values_field)
    levels = [levels_in[i] for i in positions]
    options = {
        "unit": rec.unit,
        "aplasia_threshold": plain(rec.aplasia_threshold),
        "recovery_threshold": plain(recovery),
    }
    lloq_count = 0 if floats else sum(map(below_lloq, values))
    components = {"samples_used": len(positions), "below_lloq": lloq_count}
    onset = next((i for i, level in enumerate(levels) if level < onset_below), None)
    if onset is None:
        outputs = dict.fromkeys(
            ("aplasia_onset_day", "reconstitution_day", "aplasia_duration_days", "censored")
        )
        return InstrumentResult(KEY, outputs, components, options=options)
    found = reconstitution_index(levels, onset, recovered_at)
    onset_day = days[positions[onset]]
    end_day = days[positions[-1 if found is None else found]]
    outputs = {
        "aplasia_onset_day": plain(onset_day),
        "reconstitution_day": None if found is None else plain(end_day),
        "aplasia_duration_days": plain(end_day - onset_day),
        "censored": found is None,
    }
    return InstrumentResult(KEY, outputs, components, options=options)


register(
    Instrument(
        key=KEY,
        title="B-cell aplasia and reconstitution",
        score=score,
        record=BCellRecord,
        fields=(
            FieldSpec(
                "days",
                "list[day]",
                "days",
                "distinct; days < 0 are dropped",
                True,
                description="sample days after infusion (mappings may give samples=[[day, value]])",
            ),
            FieldSpec(
                "values",
                "list[text]",
                "unit column",
                SAMPLE_VALUE_ALLOWED,
                True,
                description="CD19+ B cells at each day; <LLOQ counts as 0",
            ),
        ),
        status=Status.CONVENTION,
        source=SOURCE,
        option_fields=(
            FieldSpec(
                "unit",
                "enum",
                allowed="cells_per_uL, percent_of_lymphocytes",
                default="cells_per_uL",
                description="CONVENTION: unit of values and thresholds",
            ),
            FieldSpec(
                "aplasia_threshold",
                "number",
                "unit column",
                "> 0",
                default=1.0,
                description="CONVENTION: aplastic iff value < threshold (strict)",
            ),
            FieldSpec(
                "recovery_threshold",
                "number",
                "unit column",
                ">= aplasia_threshold",
                default=None,
                description="CONVENTION: reconstituted at >= threshold, confirmed by the next "
                "sample; empty = aplasia_threshold",
            ),
        ),
    )
)
