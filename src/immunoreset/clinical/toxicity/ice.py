"""Immune effector Cell-associated Encephalopathy (ICE) score.

Source: Lee DW et al., ASTCT consensus grading for cytokine release syndrome and neurologic toxicity
associated with immune effector cells, Biol Blood Marrow Transplant 2019;25:625-638.

Status: VERIFIED. The ICE score is a 10-point bedside screen: orientation to year, month, city and
hospital (1 point each), naming three objects (1 each), following a simple command, writing a
standard sentence and counting down from 100 in tens (1 each). The score is the sum; 10 is normal.
Each item is checked against its own range, so an impossible item names itself in the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from immunoreset.clinical.core import (
    FieldSpec,
    Instrument,
    InstrumentResult,
    Integer,
    Record,
    Status,
    parse_record,
    register,
)

KEY = "ice_score"
SOURCE = "Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638 (ASTCT consensus)"

ICE_MAX = 10
ITEM_MAX: dict[str, int] = {
    "orientation": 4,
    "naming": 3,
    "commands": 1,
    "writing": 1,
    "attention": 1,
}
ITEM_CONTENT: dict[str, str] = {
    "orientation": "correct answers for year, month, city, hospital",
    "naming": "objects named correctly (of three)",
    "commands": "follows simple commands",
    "writing": "writes a standard sentence",
    "attention": "counts down from 100 by ten",
}


class IceRecord(Record):
    """The five ICE items (integers; booleans are refused)."""

    orientation: Annotated[Integer, Field(ge=0, le=ITEM_MAX["orientation"])]
    naming: Annotated[Integer, Field(ge=0, le=ITEM_MAX["naming"])]
    commands: Annotated[Integer, Field(ge=0, le=ITEM_MAX["commands"])]
    writing: Annotated[Integer, Field(ge=0, le=ITEM_MAX["writing"])]
    attention: Annotated[Integer, Field(ge=0, le=ITEM_MAX["attention"])]


def score(record: Mapping[str, Any] | IceRecord) -> InstrumentResult:
    """Sum the five ICE items (0-10; 10 = normal)."""
    rec = parse_record(IceRecord, record)
    items = {name: getattr(rec, name) for name in ITEM_MAX}
    return InstrumentResult(instrument=KEY, outputs={"ice": sum(items.values())}, components=items)


register(
    Instrument(
        key=KEY,
        title="ICE score (immune effector cell-associated encephalopathy)",
        score=score,
        record=IceRecord,
        fields=tuple(
            FieldSpec(name, "integer", "points", f"0-{top}", True, None, ITEM_CONTENT[name])
            for name, top in ITEM_MAX.items()
        ),
        status=Status.VERIFIED,
        source=SOURCE,
    )
)
