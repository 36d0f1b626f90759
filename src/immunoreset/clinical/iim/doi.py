"""IMACS preliminary definition of improvement (DOI, 2004) for myositis.

Status: PROVISIONAL as a whole (register item P9): the 20 % / 25 % thresholds, the 3-of-6 rule, the
limit of two worsened measures and the MMT rule were not verified in a stored primary source.

Each of the six core set measures is compared with its own baseline (MMT: higher is better; the
other five: lower is better). A measure *improved* when it moved in the better direction by at least
20 % of baseline, and *worsened* when it moved in the worse direction by at least 25 % of baseline.
The patient improved when at least three measures improved, at most two worsened, and the MMT is
not among the worsened. CONVENTION: a measure at 0 at baseline cannot improve, and any rise from 0
is a worsening. A missing measure makes the result ``None``. Superseded by the Total Improvement
Score for trials but still reported.
Rider LG et al., Arthritis Rheum 2004;50:2281-90.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from immunoreset.clinical.core import (
    Instrument,
    InstrumentResult,
    Status,
    parse_record,
    register,
)
from immunoreset.clinical.exact import reaches_percent
from immunoreset.clinical.iim.core_set import (
    CoreSetMeasures,
    Pair,
    complete_pairs,
    gain,
    measure_fields,
)

PROVISIONAL_DEFINITION = "P9"
"""PROVISIONAL: the whole 2004 definition."""

IMPROVED_PERCENT = 20
WORSENED_PERCENT = 25
MIN_IMPROVED = 3
MAX_WORSENED = 2
BASELINE_ZERO_RULE = "cannot_improve_any_rise_worsens"
"""CONVENTION for a baseline of 0 (fixed; reported with every result)."""


class ImacsDoiRecord(CoreSetMeasures):
    """The six core set measures as ``[baseline, follow-up]``; no ``mmt_max`` is needed."""


def classify(name: str, pair: Pair) -> tuple[bool, bool]:
    """``(improved, worsened)`` for one measure, relative to its baseline."""
    baseline = pair[0]
    change = gain(name, pair)
    improved = baseline > 0 and reaches_percent(change, baseline, IMPROVED_PERCENT)
    worsened = change < 0 and reaches_percent(-change, baseline, WORSENED_PERCENT)
    return improved, worsened


def score(record: Mapping[str, Any] | ImacsDoiRecord) -> InstrumentResult:
    """Whether the patient ``improved`` by the IMACS 2004 definition."""
    rec = parse_record(ImacsDoiRecord, record)
    pairs = complete_pairs(rec)
    missing = [name for name, pair in pairs.items() if pair is None]
    status = {name: classify(name, pair) for name, pair in pairs.items() if pair is not None}
    improved_measures = [name for name, (up, _) in status.items() if up]
    worsened_measures = [name for name, (_, down) in status.items() if down]
    improved = (
        None
        if missing
        else len(improved_measures) >= MIN_IMPROVED
        and len(worsened_measures) <= MAX_WORSENED
        and "mmt" not in worsened_measures
    )
    return InstrumentResult(
        instrument="imacs_doi_2004",
        outputs={"improved": improved},
        components={
            "improved_measures": improved_measures,
            "worsened_measures": worsened_measures,
            "missing_measures": missing,
        },
        options={"baseline_zero_rule": BASELINE_ZERO_RULE},
        provisional=(PROVISIONAL_DEFINITION,),
    )


register(
    Instrument(
        key="imacs_doi_2004",
        title="IMACS preliminary definition of improvement (2004)",
        score=score,
        record=ImacsDoiRecord,
        fields=measure_fields(),
        status=Status.PROVISIONAL,
        source="Rider LG et al., Arthritis Rheum 2004;50:2281-90",
        provisional_items=(PROVISIONAL_DEFINITION,),
    )
)
