"""Digital twins: a population read from a CSV of real baseline characteristics.

One row per candidate; columns named as the covariates of a bundled covariate set (e.g.
``age_years``, ``weight_kg``, ``sledai_2k``), plus an optional ``subject_id`` kept as the subject
identifier. Every column is validated: a known covariate must be a number within the plausible
range the covariate set states (its truncation bounds), without blanks; an unknown column is an
error that lists the allowed ones. Body surface area is derived when height and weight are given.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from immunoreset.scenario.load import read_text_limited
from immunoreset.trial.covariates import DERIVED, CovariateSet, derive

MAX_TWIN_BYTES = 50_000_000
SUBJECT = "subject_id"


class TwinError(ValueError):
    """A digital-twin CSV is unreadable or has an invalid column or value (one line)."""


def read_twins(path: Path, cset: CovariateSet) -> pd.DataFrame:
    """``patient_id`` (row order), optional ``subject_id``, then the validated covariates."""
    text = read_text_limited(path, MAX_TWIN_BYTES, str(path))
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TwinError(f"{path}: not a CSV table ({' '.join(str(exc).split())})") from None
    if raw.empty:
        raise TwinError(f"{path}: no rows; allowed: one row per candidate")
    known = {c.name: c for c in cset.covariates}
    allowed = [SUBJECT, *known, *DERIVED]
    frame = pd.DataFrame({"patient_id": np.arange(len(raw), dtype=np.int64)})
    for column in raw.columns:
        if column not in allowed:
            raise TwinError(f"{path}: column {column!r}: unknown; allowed: {', '.join(allowed)}")
        if column == SUBJECT:
            frame[SUBJECT] = raw[column].str.strip()
            continue
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        low, high = (known[column].low, known[column].high) if column in known else (0, math.inf)
        bad = values.isna() | ~values.between(low, high)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise TwinError(
                f"{path}: line {row + 2}: {column}: got {raw[column].iat[row]!r}; "
                f"allowed: a number from {low:g} to {high:g}"
            )
        frame[column] = values.astype(float).to_numpy()
    return derive(frame)
