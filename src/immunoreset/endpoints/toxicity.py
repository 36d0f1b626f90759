"""CRS and ICANS per patient: maximum grade, onset and duration.

A model emits support levels, never grades: every output time from day 0 is turned into one ASTCT
assessment and graded by ``astct_crs`` or ``astct_icans`` (Lee DW et al., Biol Blood Marrow
Transplant 2019;25:625-38); the patient grade is the maximum over the course.

Mapping of the observables onto the instrument records (CONVENTION where the vocabulary is coarser
than the instrument):

* CRS: ``temp_c``; ``hypotension`` (0/1); ``n_vasopressors`` distinct agents other than vasopressin,
  named norepinephrine, epinephrine, phenylephrine, dopamine in that order (only their number
  matters; four or more grade like two); ``vasopressin`` (0/1); ``oxygen_level`` 0 none, 1 low flow
  (recorded as blow-by, which grades as a nasal cannula at <= 6 L/min without inventing a flow),
  2 high flow or facemask, 3 CPAP/BiPAP, 4 mechanical ventilation. Once ``tocilizumab_given`` or
  ``corticosteroids_given`` is 1 (a treatment for CRS or ICANS recorded by the model), the record says
  so (``prior_antipyretic_or_anticytokine_for_crs``), so hypotension or hypoxia still grade after
  tocilizumab has removed the fever; without these columns the fever gate always applies.
* ICANS: ``ice_score`` (rounded to the nearest whole point), ``consciousness`` 0 normal,
  1 awakens spontaneously, 2 to voice, 3 only to touch, 4 unarousable; the age is the table's
  ``age_years`` column if present, else ``EndpointConfig.icans_age_years``.

Treatments: ``tocilizumab_given`` and ``corticosteroids_given`` (0/1, latched once given) give
whether and when (first output time at which it is 1) each treatment was given.

Onset is the first graded time with grade >= 1. An episode lasts from its first time with grade
>= 1 to the first later time graded 0 (so the duration is resolved to the output grid); the
duration is the sum over episodes, and an episode still running at the last output time is
counted to that time and reported as ``ongoing_at_end``. A time at which an input is undefined is
not graded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from immunoreset.clinical import InstrumentInputError, score
from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import merged
from immunoreset.endpoints.table import TIME, patients, whole

NON_VASOPRESSIN_AGENTS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine")
OXYGEN_DEVICES = ("none", "blow_by", "facemask", "cpap", "mechanical_ventilation")
TREATMENTS = ("tocilizumab_given", "corticosteroids_given")
"""Observables (0/1, latched) recording a treatment of CRS or ICANS."""
CONSCIOUSNESS = (
    "normal",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_only_to_tactile",
    "unarousable",
)


def ordinal(value: float, name: str, labels: Sequence[str]) -> str:
    """Label of the ordinal level ``value`` (rounded); out of range raises InstrumentInputError."""
    level = whole(value)
    if not 0 <= level < len(labels):
        raise InstrumentInputError(name, value, f"a level 0-{len(labels) - 1}")
    return labels[level]


def crs_record(values: Mapping[str, float], age_years: float) -> dict[str, Any]:
    """ASTCT CRS record of one output time (``age_years`` is not used by CRS)."""
    agents = list(NON_VASOPRESSIN_AGENTS[: max(0, whole(values.get("n_vasopressors", 0)))])
    if values.get("vasopressin", 0) >= 0.5:
        agents.append("vasopressin")
    treated = max(values.get(name, 0) for name in TREATMENTS) >= 0.5
    return {
        "temp_c": values["temp_c"],
        "hypotension": values.get("hypotension", 0) >= 0.5,
        "vasopressors": agents,
        "oxygen_device": ordinal(values.get("oxygen_level", 0), "oxygen_level", OXYGEN_DEVICES),
        "prior_antipyretic_or_anticytokine_for_crs": treated,
    }


def icans_record(values: Mapping[str, float], age_years: float) -> dict[str, Any]:
    """ASTCT ICANS record of one output time (ICE path from 12 years)."""
    return {
        "age_years": age_years,
        "ice": whole(values["ice_score"]),
        "consciousness": ordinal(values.get("consciousness", 0), "consciousness", CONSCIOUSNESS),
    }


@dataclass(frozen=True)
class Syndrome:
    """How one toxicity is read from the table and graded."""

    family: str
    key: str
    prefix: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    record: Callable[[Mapping[str, float], float], dict[str, Any]]


CRS = Syndrome(
    "CRS",
    "astct_crs",
    "crs",
    ("temp_c",),
    ("hypotension", "n_vasopressors", "vasopressin", "oxygen_level", *TREATMENTS),
    crs_record,
)
ICANS = Syndrome("ICANS", "astct_icans", "icans", ("ice_score",), ("consciousness",), icans_record)


def course(times: Sequence[float], grades: Sequence[int]) -> dict[str, Any]:
    """Maximum grade, onset, total duration and whether the last episode was still running."""
    if not grades:
        return {"max_grade": None, "onset_d": None, "duration_d": None, "ongoing_at_end": None}
    onset: float | None = None
    start: float | None = None
    duration = 0.0
    for time, grade in zip(times, grades, strict=True):
        if grade >= 1 and start is None:
            start = time
            onset = time if onset is None else onset
        elif grade == 0 and start is not None:
            duration += time - start
            start = None
    if start is not None:
        duration += times[-1] - start
    return {
        "max_grade": max(grades),
        "onset_d": onset,
        "duration_d": duration,
        "ongoing_at_end": start is not None,
    }


def columns(syndrome: Syndrome) -> tuple[Column, ...]:
    """Column docs of one toxicity."""
    name = syndrome.family
    return (
        Column("patient", f"{syndrome.prefix}_max_grade", "grade 0-5", f"highest {name} grade"),
        Column("patient", f"{syndrome.prefix}_onset_d", "day", f"first time with {name} >= 1"),
        Column("patient", f"{syndrome.prefix}_duration_d", "day", f"total time with {name} >= 1"),
        Column(
            "patient",
            f"{syndrome.prefix}_ongoing_at_end",
            "bool",
            f"{name} still present at the last output time",
        ),
    )


def grade_course(table: pd.DataFrame, config: EndpointConfig, syndrome: Syndrome) -> Part:
    """Grade every output time from day 0 of every patient and summarise the course."""
    missing = [name for name in syndrome.required if name not in table.columns]
    if missing:
        return skipped(syndrome.family, missing)
    used = [*syndrome.required, *(name for name in syndrome.optional if name in table.columns)]
    lacking = [name for name in syndrome.optional if name not in table.columns]
    notes: list[str] = []
    if lacking:
        notes.append(f"{syndrome.family}: no {', '.join(lacking)} column; graded as absent")
    inputs = config.instrument_inputs.get(syndrome.key, {})
    cache: dict[tuple[float, ...], int | str] = {}

    def grade(values: dict[str, float], age_years: float) -> int | str:
        """Grade of one time point, or the reason it could not be graded."""
        key = (age_years, *values.values())
        if key not in cache:
            try:
                record = merged(inputs, syndrome.record(values, age_years))
                cache[key] = score(syndrome.key, record).outputs["grade"]
            except InstrumentInputError as exc:
                cache[key] = str(exc)
        return cache[key]

    rows: dict[int, dict[str, Any]] = {}
    for patient, patient_rows in patients(table):
        age_years = config.icans_age_years
        if "age_years" in patient_rows.columns and patient_rows["age_years"].notna().any():
            age_years = float(patient_rows["age_years"].dropna().iat[0])
        assessed = patient_rows.loc[patient_rows[TIME] >= 0, [TIME, *used]].dropna()
        times: list[float] = []
        grades: list[int] = []
        problems: list[str] = []
        for time, *values in assessed.itertuples(index=False):
            result = grade(dict(zip(used, map(float, values), strict=True)), age_years)
            if isinstance(result, str):
                problems.append(result)
            else:
                times.append(float(time))
                grades.append(result)
        if problems:
            notes.append(
                f"patient {patient}: {syndrome.key}: {len(problems)} time points not graded, "
                f"first: {problems[0]}"
            )
        summary = course(times, grades)
        rows[patient] = {f"{syndrome.prefix}_{name}": value for name, value in summary.items()}
    return Part(patient=rows, columns=columns(syndrome), notes=tuple(notes))


def crs(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """CRS course of every patient (skipped without temp_c)."""
    return grade_course(table, config, CRS)


def icans(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """ICANS course of every patient (skipped without ice_score)."""
    return grade_course(table, config, ICANS)


def treatments(table: pd.DataFrame, config: EndpointConfig) -> Part:
    """Whether and when each recorded treatment of CRS or ICANS was given (skipped without any)."""
    present = [name for name in TREATMENTS if name in table.columns]
    if not present:
        return skipped("treatments", list(TREATMENTS))
    rows: dict[int, dict[str, Any]] = {}
    for patient, patient_rows in patients(table):
        row: dict[str, Any] = {}
        for name in present:
            drug = name.removesuffix("_given")
            given = patient_rows.loc[patient_rows[name] >= 0.5, TIME]
            row[f"{drug}_used"] = bool(len(given))
            row[f"{drug}_day"] = float(given.iat[0]) if len(given) else None
        rows[patient] = row
    columns: list[Column] = []
    for name in present:
        drug = name.removesuffix("_given")
        columns += [
            Column("patient", f"{drug}_used", "bool", f"{drug} given for CRS or ICANS"),
            Column(
                "patient",
                f"{drug}_day",
                "day",
                f"first output time at which {drug} had been given (empty: never)",
            ),
        ]
    return Part(patient=rows, columns=tuple(columns))
