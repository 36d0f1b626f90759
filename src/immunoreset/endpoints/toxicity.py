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
  1 awakens spontaneously, 2 to voice, 3 only to touch, 4 unarousable; ``seizure`` 0 none,
  1 rapidly resolving or EEG-responsive, 2 prolonged or repetitive; ``motor_weakness`` 0/1 deep
  focal weakness; ``cerebral_edema`` 0 none, 1 focal, 2 diffuse (or posturing, cranial nerve VI
  palsy, papilloedema, Cushing's triad); each absent column reads as none; the age is the table's
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

import numpy as np
import pandas as pd

from immunoreset.clinical import InstrumentInputError
from immunoreset.clinical.toxicity.crs import FEVER_C, TEMP_RANGE_C
from immunoreset.endpoints.config import EndpointConfig
from immunoreset.endpoints.part import Column, Part, skipped
from immunoreset.endpoints.scoring import attempt
from immunoreset.endpoints.table import TIME, Patients, Rows, whole

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
SEIZURE = ("none", "rapidly_resolving_or_eeg_responsive", "prolonged_or_repetitive")
MOTOR = ("none", "deep_focal_weakness")
CEREBRAL_EDEMA = ("none", "focal_edema", "diffuse_edema_or_posturing_cn6_papilledema_cushing")


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
        "seizure": ordinal(values.get("seizure", 0), "seizure", SEIZURE),
        "motor": ordinal(values.get("motor_weakness", 0), "motor_weakness", MOTOR),
        "icp": ordinal(values.get("cerebral_edema", 0), "cerebral_edema", CEREBRAL_EDEMA),
    }


def _mapped(values: np.ndarray, used: Sequence[str], name: str,
            classes: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:  # fmt: skip
    """A float copy of ``values`` (time points x ``used`` inputs) with column ``name`` mapped."""
    out = np.array(values, dtype=float)
    column = list(used).index(name)
    out[:, column] = classes(out[:, column])
    return out


def temperature_classes(values: np.ndarray, used: Sequence[str]) -> np.ndarray:
    """``values`` with each temperature the CRS instrument accepts replaced by one representative
    of its class, fever (>= 38.0 C) or none.

    ASTCT CRS reads the temperature only as fever or not (Lee 2019), and a simulated course has a
    different temperature at almost every time point, so without this most time points would be
    distinct assessments, each graded on its own (about half of all endpoint scoring). A
    temperature outside the instrument's range is kept, so that its rejection names it.
    """
    low, high, fever = float(TEMP_RANGE_C[0]), float(TEMP_RANGE_C[1]), float(FEVER_C)

    def classes(temp: np.ndarray) -> np.ndarray:
        accepted = (temp >= low) & (temp <= high)
        return np.where(accepted, np.where(temp >= fever, fever, low), temp)

    return _mapped(values, used, "temp_c", classes)


def ice_points(values: np.ndarray, used: Sequence[str]) -> np.ndarray:
    """``values`` with the ICE score rounded to the whole points the record holds
    (:func:`~immunoreset.endpoints.table.whole`, halves up), so that time points with the same
    points are graded once."""
    return _mapped(values, used, "ice_score", lambda ice: np.floor(ice + 0.5))


@dataclass(frozen=True)
class Syndrome:
    """How one toxicity is read from the table and graded; ``classes`` maps the inputs of the
    time points onto inputs that grade the same, so equal classes are graded once."""

    family: str
    key: str
    prefix: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    record: Callable[[Mapping[str, float], float], dict[str, Any]]
    classes: Callable[[np.ndarray, Sequence[str]], np.ndarray]


CRS = Syndrome(
    "CRS",
    "astct_crs",
    "crs",
    ("temp_c",),
    ("hypotension", "n_vasopressors", "vasopressin", "oxygen_level", *TREATMENTS),
    crs_record,
    temperature_classes,
)
ICANS = Syndrome(
    "ICANS",
    "astct_icans",
    "icans",
    ("ice_score",),
    ("consciousness", "seizure", "motor_weakness", "cerebral_edema"),
    icans_record,
    ice_points,
)


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


def age_years(rows: Rows, config: EndpointConfig) -> float:
    """The patient's first defined ``age_years``, else ``config.icans_age_years``."""
    if "age_years" in rows:
        ages = rows["age_years"]
        defined = ages[~np.isnan(ages)]
        if len(defined):
            return float(defined[0])
    return config.icans_age_years


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First row of each distinct row of ``matrix`` (no NaN), and the group of every row.

    Rows compare by value, as dict keys do (``-0.0`` equals ``0.0``), so scoring the first row of
    each group once scores the same records as a per-row cache, at numpy speed: a course has one
    assessment per output time, and most of them repeat an earlier one.
    """
    values = np.ascontiguousarray(matrix + 0.0)  # -0.0 + 0.0 is 0.0
    keys = values.view(np.dtype((np.void, values.itemsize * values.shape[1]))).ravel()
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    return first, group


def grade_course(table: pd.DataFrame, config: EndpointConfig, syndrome: Syndrome) -> Part:
    """Grade every output time from day 0 of every patient and summarise the course.

    Each distinct assessment is graded once per table: the rows of equal age and input classes
    first (``Syndrome.classes``, :func:`distinct_rows`), then the equal records they make (see
    ``grade``).
    """
    missing = [name for name in syndrome.required if name not in table.columns]
    if missing:
        return skipped(syndrome.family, missing)
    used = [*syndrome.required, *(name for name in syndrome.optional if name in table.columns)]
    lacking = [name for name in syndrome.optional if name not in table.columns]
    notes: list[str] = []
    if lacking:
        notes.append(f"{syndrome.family}: no {', '.join(lacking)} column; graded as absent")
    grades: dict[str, int | str] = {}

    def grade(values: list[float], age: float) -> int | str:
        """Grade of one time point, or the reason it could not be graded.

        Different inputs often make the same record (a continuous ICE score rounds to a few whole
        points), so each record is graded once: the instrument is a pure function of it, and its
        repr identifies it (floats print exactly). Only the grade is kept, not the whole result.
        """
        try:
            record = syndrome.record(dict(zip(used, values, strict=True)), age)
        except InstrumentInputError as exc:
            return str(exc)
        index = repr(record)
        if index not in grades:
            outcome = attempt(syndrome.key, record, config)
            ok = not isinstance(outcome, InstrumentInputError)
            grades[index] = outcome["grade"] if ok else str(outcome)
        return grades[index]

    patients = Patients(table)
    starts = [span.start for _, span in patients.spans]
    ages = [age_years(patient_rows, config) for _, patient_rows in patients]
    times = patients.column(TIME)
    values = np.column_stack([patients.column(name) for name in used])
    # Table rows that are assessed, the patient (index) of each, and its grade or problem.
    assessed = np.flatnonzero((times >= 0) & ~np.isnan(values).any(axis=1))
    owner = np.searchsorted(starts, assessed, "right") - 1
    classes = syndrome.classes(values[assessed], used)
    first, group = distinct_rows(np.column_stack([np.take(ages, owner), classes]))
    readings = classes[first].tolist()
    outcomes = np.array(
        [grade(reading, ages[owner[i]]) for reading, i in zip(readings, first, strict=True)],
        dtype=object,
    )
    failed = np.array([isinstance(outcome, str) for outcome in outcomes], dtype=bool)[group]
    outcomes = outcomes[group]
    bounds = np.searchsorted(assessed, [*starts, len(times)])  # each patient's assessed rows
    rows: dict[int, dict[str, Any]] = {}
    for index, (patient, _) in enumerate(patients.spans):
        here = slice(bounds[index], bounds[index + 1])
        graded, problems = ~failed[here], outcomes[here][failed[here]]
        if len(problems):
            notes.append(
                f"patient {patient}: {syndrome.key}: {len(problems)} time points not graded, "
                f"first: {problems[0]}"
            )
        graded_times = times[assessed[here][graded]].tolist()
        summary = course(graded_times, outcomes[here][graded].tolist())
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
    for patient, patient_rows in Patients(table):
        row: dict[str, Any] = {}
        for name in present:
            drug = name.removesuffix("_given")
            given = patient_rows.times[patient_rows[name] >= 0.5]
            row[f"{drug}_used"] = bool(len(given))
            row[f"{drug}_day"] = float(given[0]) if len(given) else None
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
