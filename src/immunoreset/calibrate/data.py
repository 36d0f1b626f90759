"""Calibration data in: individual observations and published summary targets, validated.

Two kinds of clinical data feed a calibration (``docs/calibration.md``, section "Data in"):

* individual observations, one row per sample or dose, in the long NONMEM-style CSV layout that
  pharmacometric data sets use (:func:`read_observations`);
* summary targets, the statistics a publication reports for its cohort (a mean and SD, a median
  and IQR, k of n patients, counts per toxicity grade, ...), in a YAML file
  (:func:`read_targets`, :func:`load_shipped_targets`).

Both readers check every value before anything is fitted, because a value in the wrong unit or a
mistyped observable name is not an error a fit would notice: it silently moves the estimates. Every
problem names where it is (row and column of the CSV, target and field of the YAML file), the value
found and what is allowed; all problems of a file are collected into one
:class:`CalibrationDataError` rather than reported one run at a time.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from immunoreset.observables import OBSERVABLES
from immunoreset.scenario.load import ScenarioError, allowed_text, read_yaml

MAX_OBSERVATION_BYTES = 200_000_000
"""Largest observations CSV read (bytes); a larger file is refused before it is parsed."""
MAX_TARGET_BYTES = 5_000_000
"""Largest targets YAML file read (bytes)."""
MAX_LISTED_PROBLEMS = 20
"""Problems listed in one :class:`CalibrationDataError` message; the rest are counted."""
DAYS_PER_MONTH = 30.4375
"""Mean Gregorian month (365.25 / 12 days): the conversion used for every month in this package."""


class CalibrationDataError(ValueError):
    """A calibration data file is unreadable or invalid.

    ``problems`` holds every problem found, each a line naming where it is, the value found and
    what is allowed; the message lists the first :data:`MAX_LISTED_PROBLEMS` of them and counts the
    rest.
    """

    def __init__(self, source: str, problems: Sequence[str], total: int | None = None) -> None:
        self.source = source
        self.problems = list(problems)
        self.total = max(total if total is not None else len(self.problems), len(self.problems))
        super().__init__(_format_problems(source, self.problems, self.total))

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across worker processes
        return (type(self), (self.source, self.problems, self.total))


def _format_problems(source: str, problems: Sequence[str], total: int) -> str:
    if total == 1 and problems:
        return f"{source}: {problems[0]}"
    shown = list(problems[:MAX_LISTED_PROBLEMS])
    lines = [f"{source}: {total} problems:", *(f"  {p}" for p in shown)]
    if total > len(shown):
        lines.append(f"  and {total - len(shown)} more")
    return "\n".join(lines)


def _show(value: Any) -> str:
    shown = f"{value:g}" if isinstance(value, float) else repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------

# For each unit an observable is kept in (``immunoreset.observables``), the other units its values
# may be given in and the factor that converts them: value_in_observable_unit = value * factor.
# Only conversions that are pure factors are listed (no temperature scales, no molar masses other
# than creatinine's). Sources: SI conversion tables (e.g. AMA Manual of Style, SI units);
# creatinine 113.12 g/mol, so 1 mg/mmol creatinine = 1 / 0.11312 = 8.84 mg/g creatinine; an
# enzyme unit U = 1 umol/min, so 1 ukat/L = 60 U/L.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "cells/uL": {
        "cells/uL": 1.0,
        "cells/mm3": 1.0,
        "cells/mL": 1e-3,
        "cells/L": 1e-6,
        "10^6/L": 1e-3,
        "10^9/L": 1e3,
    },
    "g/L": {"g/L": 1.0, "mg/mL": 1.0, "mg/dL": 0.01, "g/dL": 10.0, "mg/L": 1e-3},
    "mg/dL": {"mg/dL": 1.0, "g/L": 100.0, "mg/mL": 100.0, "mg/L": 0.1},
    "IU/mL": {"IU/mL": 1.0, "kIU/L": 1.0, "IU/L": 1e-3},
    "U/mL": {"U/mL": 1.0, "kU/L": 1.0, "U/L": 1e-3},
    "U/L": {"U/L": 1.0, "IU/L": 1.0, "ukat/L": 60.0},
    "pg/mL": {"pg/mL": 1.0, "ng/L": 1.0, "ng/mL": 1e3},
    "mg/g creatinine": {
        "mg/g creatinine": 1.0,
        "g/g creatinine": 1e3,
        "mg/mmol creatinine": 8.84,
    },
}

TIME_UNITS: dict[str, float] = {
    "day": 1.0,
    "days": 1.0,
    "d": 1.0,
    "hour": 1.0 / 24.0,
    "hours": 1.0 / 24.0,
    "h": 1.0 / 24.0,
    "week": 7.0,
    "weeks": 7.0,
    "wk": 7.0,
    "month": DAYS_PER_MONTH,
    "months": DAYS_PER_MONTH,
    "year": 365.25,
    "years": 365.25,
}
"""Spellings of the ``TIMEUNIT`` column and the days one of them makes (empty = days)."""

DOSE_UNITS: dict[str, tuple[str, float]] = {
    "cells/kg": ("cells/kg", 1.0),
    "10^6 cells/kg": ("cells/kg", 1e6),
    "cells": ("cells", 1.0),
    "10^6 cells": ("cells", 1e6),
    "10^8 cells": ("cells", 1e8),
    "mg/m2": ("mg/m2", 1.0),
    "mg": ("mg", 1.0),
}
"""Units of ``AMT`` on a dose record, and the unit and factor the amount is converted to."""


def normalise_unit(text: str) -> str:
    """A unit spelling reduced for comparison: case, spaces, micro signs and powers of ten, so
    ``cells/µL``, ``Cells/uL`` and ``cells / uL`` name the same unit, as do ``x10^9/L`` and
    ``10E9/L``."""
    t = text.strip().lower().replace(" ", "").replace("µ", "u").replace("μ", "u")
    t = t.replace("×", "x").replace("**", "^").removeprefix("x")
    return re.sub(r"10[*e](\d)", r"10^\1", t)


def allowed_units(unit: str) -> list[str]:
    """The units a value of a quantity kept in ``unit`` may be given in (``unit`` first)."""
    return list(UNIT_FACTORS.get(unit, {unit: 1.0}))


def unit_factor(given: str, unit: str) -> float | None:
    """The factor converting a value in ``given`` to ``unit`` (``value * factor``), or ``None``
    when no conversion is known. Spellings are compared after :func:`normalise_unit`; within one
    quantity no two units differ only by case, so ``G/L`` cannot be read as grams per litre where
    cells are counted."""
    wanted = normalise_unit(given)
    for name, factor in UNIT_FACTORS.get(unit, {unit: 1.0}).items():
        if normalise_unit(name) == wanted:
            return factor
    return None


def convert_unit(values: Any, given: str, unit: str) -> Any:
    """``values`` (a number or an array) given in unit ``given``, converted to ``unit``.

    Raises ``ValueError`` naming the units allowed when no conversion is known.
    """
    factor = unit_factor(given, unit)
    if factor is None:
        raise ValueError(
            f"unit {given!r}: no conversion to {unit!r}; allowed: {', '.join(allowed_units(unit))}"
        )
    return np.asarray(values, dtype=float) * factor if np.ndim(values) else float(values) * factor


def _lookup(table: dict[str, Any], text: str) -> Any:
    wanted = normalise_unit(text)
    for name, value in table.items():
        if normalise_unit(name) == wanted:
            return value
    return None


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def _read_bounded(path: Path, limit: int) -> str:
    """UTF-8 text of ``path`` (a byte-order mark allowed), refusing more than ``limit`` bytes
    without reading the rest (an endless device such as ``/dev/zero`` included)."""
    source = str(path)
    if path.is_dir():
        raise CalibrationDataError(source, ["got a folder; allowed: a file"])
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise CalibrationDataError(
            source, [f"cannot be read ({exc.strerror or exc}); allowed: a readable file"]
        ) from None
    if len(data) > limit:
        raise CalibrationDataError(
            source,
            [f"larger than {limit // 1_000_000} MB; allowed: a file up to that size (split it)"],
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalibrationDataError(
            source,
            [f"byte 0x{data[exc.start]:02x} at position {exc.start} is not UTF-8; "
             "allowed: a UTF-8 text file (save as CSV UTF-8)"],
        ) from None  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Individual observations
# ---------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("ID", "TIME", "DV", "NAME", "UNIT", "BLQ", "EVID", "AMT")
"""Columns every observations CSV has (NONMEM names, upper case)."""
OPTIONAL_COLUMNS = ("CMT", "LLOQ", "TIMEUNIT")
"""Columns an observations CSV may have; any other column (a covariate) is ignored."""
OBSERVATION_COLUMNS = ("subject", "time", "name", "value", "unit", "blq", "evid", "amount", "lloq")
"""Columns of the frame :func:`read_observations` returns."""
_MISSING = ("", ".")  # an empty cell, or NONMEM's "." for a missing value


class _Problems:
    """Problems of a table, kept sorted by row and column and capped (only counts beyond)."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, str]] = []
        self.total = 0

    def add(self, mask: np.ndarray, column: str, allowed: str, cells: Any, what: str = "") -> None:
        """One problem per True entry of ``mask`` (data-row index), showing ``cells``."""
        rows = np.flatnonzero(mask)
        self.total += len(rows)
        order = REQUIRED_COLUMNS.index(column) if column in REQUIRED_COLUMNS else 99
        for i in rows[:MAX_LISTED_PROBLEMS]:
            got = _show(cells[i]) if what == "" else what
            text = f"row {i + 2}, column {column!r}: got {got}; allowed: {allowed}"
            self.items.append((int(i), order, text))

    def raise_if_any(self, source: str) -> None:
        if self.total:
            self.items.sort(key=lambda item: (item[0], item[1]))
            raise CalibrationDataError(
                source, [text for _, _, text in self.items[:MAX_LISTED_PROBLEMS]], self.total
            )


def _numbers(cells: pd.Series) -> np.ndarray:
    """Cells as floats; a cell that is not a plain number is NaN (``inf`` and ``nan`` text too)."""
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _header(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    return [c.strip() for c in first]


def read_observations(path: str | Path) -> pd.DataFrame:
    """Read and validate an observations CSV in the NONMEM-style long layout.

    One row per sample (``EVID`` 0) or dose (``EVID`` 1). Columns (upper case, any order):
    ``ID`` subject, ``TIME`` time from the first CAR infusion (days unless a ``TIMEUNIT`` column
    says otherwise; negative before infusion), ``DV`` the value (empty or ``.`` on a dose record),
    ``NAME`` the observable (:data:`immunoreset.observables.OBSERVABLES`; on a dose record the
    product or agent dosed), ``UNIT`` the unit of ``DV`` (of ``AMT`` on a dose record), ``BLQ``
    1 when the sample was below the lower limit of quantification (``DV`` then holds that limit),
    else 0, ``EVID`` 0 or 1, ``AMT`` the amount dosed (e.g. CAR+ cells/kg); optionally ``CMT``,
    ``LLOQ`` and ``TIMEUNIT``. Other columns (covariates) are ignored.

    Values are converted to the observable's unit (:data:`UNIT_FACTORS`) and times to days. Every
    problem names its row (header = row 1, as a spreadsheet numbers it), its column, the value and
    what is allowed; all are collected into one :class:`CalibrationDataError`. A missing required
    column is one problem for the whole file.

    Returns a frame with columns :data:`OBSERVATION_COLUMNS`: ``subject`` (text), ``time``
    (days), ``name``, ``value`` (observable unit; NaN on dose records; the LLOQ when ``blq``),
    ``unit``, ``blq`` (bool), ``evid`` (0/1), ``amount`` (dose unit; NaN on observations) and
    ``lloq`` (observable unit, NaN when not known).
    """
    p = Path(path)
    source = str(p)
    text = _read_bounded(p, MAX_OBSERVATION_BYTES)
    header = _header(text)
    if not any(header):
        raise CalibrationDataError(
            source, ["no header; allowed: a CSV with columns " + ", ".join(REQUIRED_COLUMNS)]
        )
    problems: list[str] = []
    duplicated = sorted({c for c in header if c and header.count(c) > 1})
    if duplicated:
        problems.append(
            f"columns {', '.join(map(repr, duplicated))} given twice; allowed: each column once"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        near = {
            c: h for c in missing for h in header if h.upper() == c and h != c
        }  # e.g. 'Time' for 'TIME'
        hint = (
            " (column names are upper case: " + ", ".join(f"{h!r}" for h in near.values()) + ")"
            if near
            else ""
        )
        problems.append(
            f"header: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}{hint}; allowed: a header with "
            f"{', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)})"
        )
    if problems:
        raise CalibrationDataError(source, problems)
    try:
        raw = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CalibrationDataError(
            source, [f"not a CSV table ({' '.join(str(exc).split())}); allowed: a CSV table"]
        ) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.fillna("")
    cells = {c: raw[c].astype(str).str.strip().to_numpy(dtype=object) for c in raw.columns}
    blank = np.ones(len(raw), dtype=bool)
    for values in cells.values():
        blank &= values == ""
    if (~blank).sum() == 0:
        raise CalibrationDataError(source, ["no data rows; allowed: one row per sample or dose"])
    return _validate_observations(cells, blank, source)


def _validate_observations(
    cells: dict[str, np.ndarray], blank: np.ndarray, source: str
) -> pd.DataFrame:
    out = _Problems()
    keep = ~blank
    n = len(blank)

    subject = cells["ID"]
    out.add(keep & (subject == ""), "ID", "a subject identifier (not empty)", subject)

    time = _numbers(pd.Series(cells["TIME"]))
    out.add(keep & np.isnan(time), "TIME", "a number (negative before infusion)", cells["TIME"])
    days = np.ones(n)
    if "TIMEUNIT" in cells:
        tu = cells["TIMEUNIT"]
        factors = np.array([1.0 if t == "" else _lookup(TIME_UNITS, t) or np.nan for t in tu])
        out.add(
            keep & np.isnan(factors), "TIMEUNIT",
            "empty (days) or one of " + ", ".join(TIME_UNITS), tu,
        )  # fmt: skip
        days = np.where(np.isnan(factors), 1.0, factors)

    evid_num = _numbers(pd.Series(cells["EVID"]))
    evid_ok = np.isin(evid_num, (0.0, 1.0))
    out.add(keep & ~evid_ok, "EVID", "0 (observation) or 1 (dose)", cells["EVID"])
    obs = keep & (evid_num == 0)
    dose = keep & (evid_num == 1)

    blq_cells = cells["BLQ"]
    blq_num = _numbers(pd.Series(blq_cells))
    blq_ok = np.isin(blq_num, (0.0, 1.0))
    out.add(obs & ~blq_ok, "BLQ", "0 (quantified) or 1 (below the LLOQ)", blq_cells)
    out.add(
        dose & ~((blq_cells == "") | (blq_num == 0)), "BLQ", "empty or 0 on a dose record",
        blq_cells,
    )  # fmt: skip
    blq = obs & (blq_num == 1)

    names = cells["NAME"]
    known = np.array([name in OBSERVABLES for name in names])
    for i in np.flatnonzero(obs & ~known)[:MAX_LISTED_PROBLEMS]:
        close = difflib.get_close_matches(str(names[i]), list(OBSERVABLES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        out.items.append(
            (int(i), 3, f"row {i + 2}, column 'NAME': got {_show(names[i])}; allowed: an "
             f"observable of immunoreset.observables{hint}")
        )  # fmt: skip
    out.total += int((obs & ~known).sum())
    out.add(dose & (names == ""), "NAME", "the product or agent dosed (not empty)", names)

    units = cells["UNIT"]
    factor = np.full(n, np.nan)
    unit_out = np.empty(n, dtype=object)
    unit_out[:] = ""
    cache: dict[tuple[str, str], float | None] = {}
    for i in np.flatnonzero(obs & known):
        target = OBSERVABLES[names[i]].unit
        key = (units[i], target)
        if key not in cache:
            cache[key] = unit_factor(units[i], target)
        f = cache[key]
        if f is None:
            out.total += 1
            if len(out.items) < 4 * MAX_LISTED_PROBLEMS:
                out.items.append(
                    (int(i), 4, f"row {i + 2}, column 'UNIT': got {_show(units[i])}; allowed for "
                     f"{names[i]}: {', '.join(allowed_units(target))}")
                )  # fmt: skip
        else:
            factor[i] = f
            unit_out[i] = target
    for i in np.flatnonzero(dose):
        found = _lookup(DOSE_UNITS, units[i])
        if found is None:
            out.total += 1
            if len(out.items) < 4 * MAX_LISTED_PROBLEMS:
                out.items.append(
                    (int(i), 4, f"row {i + 2}, column 'UNIT': got {_show(units[i])}; allowed on a "
                     f"dose record: {', '.join(DOSE_UNITS)}")
                )  # fmt: skip
        else:
            unit_out[i], factor[i] = found

    dv_cells = cells["DV"]
    dv = _numbers(pd.Series(dv_cells))
    dv_missing = np.isin(dv_cells, _MISSING)
    lloq = np.full(n, np.nan)
    lloq_given = np.zeros(n, dtype=bool)
    if "LLOQ" in cells:
        lloq_cells = cells["LLOQ"]
        lloq = _numbers(pd.Series(lloq_cells))
        lloq_given = ~np.isin(lloq_cells, _MISSING)
        out.add(
            keep & lloq_given & ~(lloq > 0), "LLOQ", "empty or a number > 0 (in the row's UNIT)",
            lloq_cells,
        )  # fmt: skip
    nonneg = np.array([n_ in OBSERVABLES and OBSERVABLES[n_].nonnegative for n_ in names])
    quantified = obs & ~blq
    out.add(
        quantified & np.isnan(dv), "DV",
        "a number (the measured value; empty only on a dose record)", dv_cells,
    )  # fmt: skip
    out.add(
        quantified & nonneg & (dv < 0), "DV", "a number >= 0 (this observable is never negative)",
        dv_cells,
    )  # fmt: skip
    out.add(
        quantified & lloq_given & (lloq > 0) & (dv < lloq), "DV",
        "a value >= LLOQ, or BLQ 1 for a sample below the limit", dv_cells,
    )  # fmt: skip
    blq_dv_bad = blq & ~dv_missing & ~(dv > 0)
    out.add(blq_dv_bad, "DV", "the LLOQ (a number > 0) when BLQ is 1", dv_cells)
    out.add(
        blq & dv_missing & ~(lloq_given & (lloq > 0)), "DV",
        "the LLOQ (a number > 0) when BLQ is 1 (or give it in an LLOQ column)", dv_cells,
    )  # fmt: skip
    both = blq & ~dv_missing & (dv > 0) & lloq_given & (lloq > 0)
    out.add(
        both & ~np.isclose(dv, lloq, rtol=1e-9, atol=0), "DV",
        "the value of LLOQ when BLQ is 1 (DV then holds the limit)", dv_cells,
    )  # fmt: skip
    out.add(dose & ~(dv_missing | (dv == 0)), "DV", "empty, '.' or 0 on a dose record", dv_cells)

    amt_cells = cells["AMT"]
    amt = _numbers(pd.Series(amt_cells))
    amt_missing = np.isin(amt_cells, _MISSING)
    out.add(
        dose & ~(amt > 0), "AMT",
        "the amount dosed, a number > 0 (required on a dose record, EVID 1)", amt_cells,
    )  # fmt: skip
    out.add(
        obs & ~(amt_missing | (amt == 0)), "AMT", "empty, '.' or 0 on an observation (EVID 0)",
        amt_cells,
    )  # fmt: skip

    if "CMT" in cells:
        cmt_cells = cells["CMT"]
        cmt = _numbers(pd.Series(cmt_cells))
        bad = ~np.isin(cmt_cells, _MISSING) & ~((cmt >= 1) & (cmt == np.round(cmt)))
        out.add(keep & bad, "CMT", "empty or a whole number >= 1", cmt_cells)

    out.raise_if_any(source)

    value = np.where(blq & dv_missing, lloq, dv) * factor
    value = np.where(obs, value, np.nan)
    lloq_value = np.where(blq, value, np.where(lloq_given, lloq * factor, np.nan))
    lloq_value = np.where(obs, lloq_value, np.nan)
    frame = pd.DataFrame(
        {
            "subject": subject[keep].astype(str),
            "time": (time * days)[keep],
            "name": names[keep].astype(str),
            "value": value[keep],
            "unit": unit_out[keep].astype(str),
            "blq": blq[keep],
            "evid": evid_num[keep].astype(np.int64),
            "amount": np.where(dose, amt * factor, np.nan)[keep],
            "lloq": lloq_value[keep],
        }
    )
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Summary targets
# ---------------------------------------------------------------------------------------------


class _FieldError(ValueError):
    """A check across fields of one target, naming the field at fault (recovered from the
    pydantic error record, which keeps the exception)."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(allowed)


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Day = Annotated[float, Field(allow_inf_nan=False, ge=-3650.0, le=36_500.0)]
PatientCount = Annotated[int, Field(ge=0, le=10_000_000, strict=True)]
StudySize = Annotated[int, Field(ge=1, le=10_000_000, strict=True)]
_GRADE = re.compile(r"^\s*(>=|≥)?\s*(\d{1,2})\s*$")


def grade_key(key: Any) -> str:
    """The canonical label of a grade category: ``"2"`` for grade 2 (written ``2`` or ``"2"``),
    ``">=3"`` for grade 3 or higher (``">=3"`` or ``"≥3"``). Raises ``ValueError`` otherwise."""
    if isinstance(key, bool):
        raise ValueError(key)
    if isinstance(key, int) and 0 <= key <= 99:
        return str(key)
    if isinstance(key, str):
        m = _GRADE.match(key)
        if m:
            return (">=" if m.group(1) else "") + str(int(m.group(2)))
    raise ValueError(key)


def grade_bounds(label: str) -> tuple[int, float]:
    """The grades a category label covers, as ``(lowest, highest)`` (``inf`` when open)."""
    if label.startswith(">="):
        return int(label[2:]), math.inf
    return int(label), float(int(label))


def _grade_table(value: Any, field: str, what: str) -> dict[str, float]:
    """Validate a mapping grade -> number into canonical labels in ascending grade order."""
    if not isinstance(value, dict) or not value:
        raise _FieldError(field, value, f"a mapping of grade to {what}, e.g. {{0: 4, '>=3': 0}}")
    table: dict[str, float] = {}
    for key, number in value.items():
        try:
            label = grade_key(key)
        except ValueError:
            raise _FieldError(
                f"{field}.{key}", key, "a grade 0-99, or '>=g' for grade g or higher"
            ) from None
        if label in table:
            raise _FieldError(f"{field}.{key}", key, "each grade once")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _FieldError(f"{field}.{key}", number, what)
        table[label] = float(number)
    labels = sorted(table, key=lambda lab: grade_bounds(lab)[0])
    open_ = [lab for lab in labels if lab.startswith(">=")]
    if len(open_) > 1 or (open_ and labels[-1] != open_[0]):
        raise _FieldError(
            field, value, "at most one open category '>=g', above every single grade listed"
        )
    return {lab: table[lab] for lab in labels}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Target(_Strict):
    """Fields every target has; each statistic kind adds its numbers."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$")]
    description: Text | None = None
    study: Text
    source: Text
    setting: Text
    disease: Text | None = None
    n: StudySize | None
    note: Text | None = None
    use: Text
    observable: str | None = None
    quantity: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,79}$")] | None = None
    unit: Text
    time: Day | None = None

    @field_validator("observable")
    @classmethod
    def _known_observable(cls, value: str | None) -> str | None:
        if value is not None and value not in OBSERVABLES:
            close = difflib.get_close_matches(value, list(OBSERVABLES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _FieldError("observable", value, f"an observable name{hint}")
        return value

    @model_validator(mode="after")
    def _common(self) -> _Target:
        if self.n is None and self.note is None:
            raise _FieldError(
                "note", None, "a note saying where the study size is (required when n is null)"
            )
        if self.observable is None and self.quantity is None:
            raise _FieldError(
                "quantity", None, "a quantity name or an observable (one of them is required)"
            )
        if self.observable is not None and self.quantity is None:
            model_unit = OBSERVABLES[self.observable].unit
            if unit_factor(self.unit, model_unit) is None:
                raise _FieldError(
                    "unit", self.unit,
                    f"a unit of {self.observable}: {', '.join(allowed_units(model_unit))}",
                )  # fmt: skip
        self._check()
        return self

    def _check(self) -> None:
        """Checks across the numbers of one statistic kind (overridden)."""

    @property
    def model_unit(self) -> str:
        """The unit the model keeps the quantity in: the observable's unit for a statistic of an
        observable itself, else the target's own unit."""
        if self.observable is not None and self.quantity is None:
            return OBSERVABLES[self.observable].unit
        return self.unit

    @property
    def model_factor(self) -> float:
        """Factor turning the target's numbers into :attr:`model_unit` (1 for most targets)."""
        return unit_factor(self.unit, self.model_unit) or 1.0

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        """The statistic's numbers as ``(field, grade, time, value)`` rows of
        :func:`targets_frame`."""
        return []


def _order(target: _Target, lower: str, upper: str) -> None:
    low, high = getattr(target, lower), getattr(target, upper)
    if low > high:
        raise _FieldError(lower, low, f"a number <= {upper} ({high:g})")


class Fixed(_Target):
    """A fixed input of the study (a dose), reported for reference: it has no likelihood."""

    statistic: Literal["fixed"]
    value: Finite

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("value", None, self.time, self.value)]


class MeanSD(_Target):
    """Mean and standard deviation of the quantity over the study's n patients."""

    statistic: Literal["mean_sd"]
    mean: Finite
    sd: Positive

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("mean", None, self.time, self.mean), ("sd", None, self.time, self.sd)]


class MeanChangePercent(_Target):
    """Mean percent change from baseline (e.g. of total IgG), with its SD when reported."""

    statistic: Literal["mean_change_percent"]
    mean: Annotated[float, Field(ge=-100.0, allow_inf_nan=False)]
    sd: Positive | None = None

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        out = [("mean", None, self.time, self.mean)]
        return out + ([("sd", None, self.time, self.sd)] if self.sd is not None else [])


class Median(_Target):
    """Median of the quantity over n patients, without a reported spread."""

    statistic: Literal["median"]
    median: Finite

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("median", None, self.time, self.median)]


class MedianIQR(_Target):
    """Median with first and third quartiles."""

    statistic: Literal["median_iqr"]
    median: Finite
    q1: Finite
    q3: Finite

    def _check(self) -> None:
        _order(self, "q1", "median")
        _order(self, "median", "q3")

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        t = self.time
        return [
            ("median", None, t, self.median),
            ("q1", None, t, self.q1),
            ("q3", None, t, self.q3),
        ]


class MedianRange(_Target):
    """Median with the smallest and largest value observed."""

    statistic: Literal["median_range"]
    median: Finite
    low: Finite
    high: Finite

    def _check(self) -> None:
        _order(self, "low", "median")
        _order(self, "median", "high")

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        t = self.time
        return [
            ("median", None, t, self.median), ("low", None, t, self.low),
            ("high", None, t, self.high),
        ]  # fmt: skip


class MediansAtTimes(_Target):
    """Medians of the quantity at several days (e.g. CAR T cells on days 7, 14, 28 and 90)."""

    statistic: Literal["medians_at_times"]
    times: Annotated[list[Day], Field(min_length=1, max_length=1000)]
    medians: Annotated[list[Finite], Field(min_length=1, max_length=1000)]

    def _check(self) -> None:
        if self.time is not None:
            raise _FieldError("time", self.time, "no 'time' here (the days are in 'times')")
        if any(b <= a for a, b in zip(self.times, self.times[1:], strict=False)):
            raise _FieldError("times", self.times, "days in increasing order, each once")
        if len(self.medians) != len(self.times):
            raise _FieldError(
                "medians", self.medians, f"one median per day of 'times' ({len(self.times)})"
            )

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("median", None, t, m) for t, m in zip(self.times, self.medians, strict=True)]


class ObservedRange(_Target):
    """Smallest and largest value over the study's n patients (no centre reported)."""

    statistic: Literal["observed_range"]
    low: Finite
    high: Finite

    def _check(self) -> None:
        _order(self, "low", "high")

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("low", None, self.time, self.low), ("high", None, self.time, self.high)]


class Count(_Target):
    """``events`` of the study's n patients had the outcome (e.g. 5 of 5 in DORIS remission)."""

    statistic: Literal["count"]
    events: PatientCount

    def _check(self) -> None:
        if self.n is not None and self.events > self.n:
            raise _FieldError("events", self.events, f"a whole number from 0 to n ({self.n})")

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("events", None, self.time, float(self.events))]


class Proportion(_Target):
    """Percentage of the study's n patients with the outcome (events = round(percent * n / 100),
    halves rounded up)."""

    statistic: Literal["proportion"]
    percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]

    @property
    def events(self) -> int | None:
        """The number of patients the percentage stands for (``None`` when n is unknown)."""
        return None if self.n is None else math.floor(self.percent * self.n / 100.0 + 0.5)

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("percent", None, self.time, self.percent)]


class GradeCounts(_Target):
    """Patients per maximum grade (e.g. ASTCT CRS); the counts add up to n. A grade not listed
    had no patient (unless a '>=g' category covers it)."""

    statistic: Literal["grade_counts"]
    counts: dict[str, int]

    @field_validator("counts", mode="before")
    @classmethod
    def _counts(cls, value: Any) -> dict[str, int]:
        table = _grade_table(value, "counts", "a whole number of patients >= 0")
        for label, number in table.items():
            if number < 0 or number != int(number):
                raise _FieldError(f"counts.{label}", number, "a whole number of patients >= 0")
        return {label: int(number) for label, number in table.items()}

    def _check(self) -> None:
        total = sum(self.counts.values())
        if self.n is not None and total != self.n:
            raise _FieldError(
                "counts", self.counts, f"counts adding up to n ({self.n}); they add up to {total}"
            )

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("count", g, self.time, float(c)) for g, c in self.counts.items()]


class GradePercent(_Target):
    """Percentage of the study's n patients per maximum grade; they add up to 100 (99-101 allowed
    for rounding). Converted to counts with n by the largest-remainder rule
    (:func:`immunoreset.calibrate.likelihood.percent_to_counts`)."""

    statistic: Literal["grade_percent"]
    percent: dict[str, float]

    @field_validator("percent", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> dict[str, float]:
        table = _grade_table(value, "percent", "a percentage from 0 to 100")
        for label, number in table.items():
            if not 0 <= number <= 100:
                raise _FieldError(f"percent.{label}", number, "a percentage from 0 to 100")
        return table

    def _check(self) -> None:
        total = sum(self.percent.values())
        if not 99.0 <= total <= 101.0:
            raise _FieldError(
                "percent", self.percent,
                f"percentages covering every patient (adding up to 100, 99-101 for rounding); "
                f"they add up to {total:g}",
            )  # fmt: skip

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("percent", g, self.time, p) for g, p in self.percent.items()]


class LowerBound(_Target):
    """The quantity was at least ``bound`` in every one of the n patients (e.g. plasma cells
    persisting >= 25 months): a censored observation, not a measured value."""

    statistic: Literal["lower_bound"]
    bound: Finite

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("bound", None, self.time, self.bound)]


class ObservedMinimum(_Target):
    """The smallest value observed over the n patients (the sample minimum)."""

    statistic: Literal["observed_minimum"]
    minimum: Finite

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("minimum", None, self.time, self.minimum)]


class PopulationTypical(_Target):
    """A population-model typical value (a geometric-mean-like centre of a log-normal parameter)
    with, when reported, its between-subject variance ``omega2`` on the log scale."""

    statistic: Literal["population_typical"]
    value: Positive
    omega2: Positive | None = None

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        out = [("value", None, self.time, self.value)]
        return out + ([("omega2", None, self.time, self.omega2)] if self.omega2 else [])


class ModelResult(_Target):
    """A number another model produced (e.g. a fold change), kept for qualitative checks: it has
    no likelihood."""

    statistic: Literal["model_result"]
    value: Finite
    approximate: bool = False
    condition: Text

    def rows(self) -> list[tuple[str, str | None, float | None, float]]:
        return [("value", None, self.time, self.value)]


Target = (
    Fixed | MeanSD | MeanChangePercent | Median | MedianIQR | MedianRange | MediansAtTimes
    | ObservedRange | Count | Proportion | GradeCounts | GradePercent | LowerBound
    | ObservedMinimum | PopulationTypical | ModelResult
)  # fmt: skip
"""One summary target: a model of one of the statistic kinds, told apart by ``statistic``."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Annotated[Target, Field(discriminator="statistic")])
STATISTICS: tuple[str, ...] = tuple(
    t.model_fields["statistic"].annotation.__args__[0]  # type: ignore[union-attr]
    for t in Target.__args__
)
"""The statistic kinds a target may have."""
TARGET_FILE_KEYS = ("description", "targets")


def _field_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _translate(err: dict[str, Any]) -> tuple[str, str, str]:
    """``(field, got, allowed)`` in the project's words from one pydantic error record."""
    kind = err.get("type", "")
    loc = tuple(err.get("loc", ()))
    ctx = err.get("ctx") or {}
    problem = ctx.get("error")
    if isinstance(problem, _FieldError):
        return problem.field, _show(problem.value), problem.allowed
    kinds = ", ".join(STATISTICS)
    if kind == "union_tag_invalid":
        return "statistic", _show(ctx.get("tag")), f"one of {kinds}"
    if kind == "union_tag_not_found":
        return "statistic", "nothing", f"one of {kinds} (this key is required)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "<target>", _show(err.get("input")), "a mapping of target keys"
    field = _field_path(loc[1:]) or "<target>"
    got = "nothing" if kind == "missing" else _show(err.get("input"))
    if kind == "string_pattern_mismatch":
        if field == "id":
            return field, got, "a name of letters, digits, '_', '.' or '-', starting with a letter"
        return field, got, "a lower-case name of letters, digits and '_' (e.g. crs_max_grade)"
    if kind in ("int_type", "int_from_float", "int_parsing") and field == "n":
        return field, got, "a whole number >= 1, or null with a note"
    return field, got, allowed_text(err)


def parse_targets(data: Any, source: str = "<targets>") -> list[Target]:
    """Validate a parsed targets document (a mapping with ``targets``, a list of targets, and an
    optional ``description``) into targets; all problems are raised together."""
    if not isinstance(data, dict):
        raise CalibrationDataError(
            source, [f"got {type(data).__name__}; allowed: a mapping with a 'targets' list"]
        )
    problems: list[str] = []
    for key in data:
        if key not in TARGET_FILE_KEYS:
            problems.append(f"key {_show(key)}: unknown; allowed: {', '.join(TARGET_FILE_KEYS)}")
    items = data.get("targets")
    if not isinstance(items, list) or not items:
        problems.append(f"key 'targets': got {_show(items)}; allowed: a list of targets")
        raise CalibrationDataError(source, problems)
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        ident = item.get("id") if isinstance(item, dict) else None
        name = f"target {ident!r}" if isinstance(ident, str) and ident else f"target #{i + 1}"
        if isinstance(ident, str) and ident:
            if ident in seen:
                problems.append(
                    f"{name} (#{i + 1}), field 'id': got {ident!r}; allowed: an id used once in "
                    f"the file (already used by target #{seen[ident] + 1})"
                )
            else:
                seen[ident] = i
        try:
            targets.append(_ADAPTER.validate_python(item))
        except ValidationError as exc:
            for err in exc.errors():
                field, got, allowed = _translate(err)  # type: ignore[arg-type]
                problems.append(f"{name}, field {field!r}: got {got}; allowed: {allowed}")
    if problems:
        raise CalibrationDataError(source, problems)
    return targets


def read_targets(path: str | Path) -> list[Target]:
    """Read and validate a summary-targets YAML file (format: ``docs/calibration.md``).

    Raises :class:`CalibrationDataError` listing every problem, each as
    ``target 'ID', field 'FIELD': got VALUE; allowed: WHAT``.
    """
    p = Path(path)
    text = _read_bounded(p, MAX_TARGET_BYTES)
    return _targets_from_text(text, str(p))


def _targets_from_text(text: str, source: str) -> list[Target]:
    try:
        data = read_yaml(text, source)
    except ScenarioError as exc:
        raise CalibrationDataError(
            source, [f"{exc.field}: got {_show(exc.value)}; allowed: {exc.allowed}"]
        ) from None
    return parse_targets(data, source)


def shipped_target_sets() -> list[str]:
    """Names of the target files shipped with the package (for :func:`load_shipped_targets`)."""
    folder = resources.files("immunoreset.calibrate").joinpath("targets")
    return sorted(
        f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml")
    )


def load_shipped_targets(name: str = "sle_car_t") -> list[Target]:
    """The targets of a file shipped with the package (``immunoreset/calibrate/targets/``)."""
    available = shipped_target_sets()
    if name not in available:
        raise CalibrationDataError(
            "targets", [f"set {name!r}: unknown; allowed: {', '.join(available)}"]
        )
    resource = resources.files("immunoreset.calibrate").joinpath("targets", f"{name}.yaml")
    return _targets_from_text(resource.read_text(encoding="utf-8"), f"targets/{name}.yaml")


TARGET_FRAME_COLUMNS = (
    "id", "statistic", "description", "field", "grade", "time", "value", "unit", "observable", "quantity",
    "model_unit", "model_factor", "n", "study", "source", "setting", "disease", "use", "note",
)  # fmt: skip
"""Columns of :func:`targets_frame`."""


def targets_frame(targets: Sequence[Target]) -> pd.DataFrame:
    """The targets as a long table, one row per reported number.

    Columns :data:`TARGET_FRAME_COLUMNS`: ``field`` names the number (``mean``, ``sd``,
    ``median``, ``q1``, ``events``, ``count``, ``percent``, ``bound``, ...), ``grade`` the grade
    category of a per-grade number (else empty), ``time`` its day (a median of
    ``medians_at_times`` has one row per day); ``value`` is in ``unit`` as reported, and
    ``value * model_factor`` is in ``model_unit``.
    """
    rows: list[dict[str, Any]] = []
    for t in targets:
        common = {
            "id": t.id, "statistic": t.statistic, "description": t.description, "unit": t.unit,
            "observable": t.observable, "quantity": t.quantity, "model_unit": t.model_unit,
            "model_factor": t.model_factor, "n": t.n, "study": t.study, "source": t.source,
            "setting": t.setting, "disease": t.disease, "use": t.use, "note": t.note,
        }  # fmt: skip
        for field, grade, time, value in t.rows():
            rows.append({**common, "field": field, "grade": grade, "time": time, "value": value})
    frame = pd.DataFrame(rows, columns=list(TARGET_FRAME_COLUMNS))
    frame["n"] = frame["n"].astype("Int64")
    frame["time"] = frame["time"].astype(float)
    frame["value"] = frame["value"].astype(float)
    return frame
