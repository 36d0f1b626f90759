"""The six IMACS core set measures of myositis activity, as baseline/follow-up pairs.

Both response definitions (the 2016 Total Improvement Score and the 2004 definition of improvement)
read the same six measures, each given as ``[baseline, follow-up]``:

* ``mdga`` physician global activity, 0-10 cm VAS (lower is better);
* ``ptga`` patient/parent global activity, 0-10 cm VAS (lower is better);
* ``mmt`` MMT-8 total, 0-80 or 0-150 (higher is better; see :mod:`.mmt8`);
* ``haq`` HAQ-DI (CHAQ in children), 0-3 (lower is better);
* ``enzyme`` the most abnormal muscle enzyme, same enzyme and unit at both visits, > 0
  (lower is better);
* ``extramuscular`` extramuscular activity (MDAAT VAS), 0-10 cm (lower is better).

A measure, or one of its two values, given as ``None`` is missing.
Miller FW et al., Rheumatology 2001;40:1262-73 (IMACS core set).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from immunoreset.clinical.core import FieldSpec, Record
from immunoreset.clinical.iim.mmt8 import MMT_MAX
from immunoreset.clinical.units import lab

Vas = Annotated[Decimal, Field(ge=0, le=10)]
Haq = Annotated[Decimal, Field(ge=0, le=3)]
Enzyme = lab("muscle_enzyme")
MmtTotal = Annotated[Decimal, Field(ge=0, le=max(MMT_MAX.values()))]

HIGHER_IS_BETTER = frozenset({"mmt", "cmas", "chq_phs"})
"""Measures where a rise is an improvement (MMT-8, and the juvenile CMAS and CHQ physical summary)."""

Pair = tuple[Decimal, Decimal]


class CoreSetMeasures(Record):
    """The six core set measures, each ``[baseline, follow-up]``; omitted or ``None`` = missing."""

    mdga: tuple[Vas | None, Vas | None] | None = None
    ptga: tuple[Vas | None, Vas | None] | None = None
    mmt: tuple[MmtTotal | None, MmtTotal | None] | None = None
    haq: tuple[Haq | None, Haq | None] | None = None
    enzyme: tuple[Enzyme | None, Enzyme | None] | None = None
    extramuscular: tuple[Vas | None, Vas | None] | None = None


MEASURES = tuple(CoreSetMeasures.model_fields)


def complete_pairs(rec: CoreSetMeasures) -> dict[str, Pair | None]:
    """Each measure's ``(baseline, follow-up)``; ``None`` when the measure or a value is missing."""
    pairs: dict[str, Pair | None] = {}
    for name in MEASURES:
        pair = getattr(rec, name)
        complete = pair is not None and None not in pair
        pairs[name] = (pair[0], pair[1]) if complete else None
    return pairs


def gain(name: str, pair: Pair) -> Decimal:
    """Change in the better direction: follow-up minus baseline where higher is better (MMT, CMAS,
    CHQ physical summary), baseline minus follow-up otherwise."""
    baseline, followup = pair
    return followup - baseline if name in HIGHER_IS_BETTER else baseline - followup


_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "mdga": ("physician global activity", "0-10 cm"),
    "ptga": ("patient/parent global activity", "0-10 cm"),
    "mmt": ("MMT-8 total, higher is stronger", "0-80 or 0-150 points"),
    "haq": ("HAQ-DI (CHAQ for juveniles)", "0-3"),
    "enzyme": ("most abnormal muscle enzyme, same enzyme and unit at both visits", "> 0"),
    "extramuscular": ("extramuscular activity (MDAAT VAS)", "0-10 cm"),
}


def measure_fields() -> tuple[FieldSpec, ...]:
    """CSV columns of the six measures: ``baseline;follow-up`` in one ``list[number]`` cell."""
    return tuple(
        FieldSpec(
            name=name,
            kind="list[number]",
            allowed=f"two values, baseline;follow-up, each {scale}",
            description=f"{label}, [baseline, follow-up]; missing if omitted",
        )
        for name, (label, scale) in _DESCRIPTIONS.items()
    )
