"""Clinical grading, activity, response and classification instruments.

Each instrument is a pure function over a validated record (see :mod:`immunoreset.clinical.core`)
and is listed in :data:`REGISTRY` under the key used throughout the documentation
(``astct_crs``, ``sledai_2k``, ...). Instruments know nothing about models or solvers: they score
records, whether those come from a patient chart or from a simulated trajectory.
"""

from immunoreset.clinical import iim, laboratory, sle, ssc, toxicity
from immunoreset.clinical.core import (
    REGISTRY,
    FieldSpec,
    Instrument,
    InstrumentInputError,
    InstrumentResult,
    Record,
    Status,
)

__all__ = [
    "REGISTRY",
    "FieldSpec",
    "Instrument",
    "InstrumentInputError",
    "InstrumentResult",
    "Record",
    "Status",
    "iim",
    "laboratory",
    "sle",
    "ssc",
    "toxicity",
]


def score(key: str, record: object) -> InstrumentResult:
    """Score ``record`` with the instrument registered as ``key``."""
    if key not in REGISTRY:
        raise InstrumentInputError("instrument", key, "one of " + ", ".join(sorted(REGISTRY)))
    return REGISTRY[key].score(record)
