"""One patient's visits in time order, scored by instruments that compare a visit with earlier ones.

A clinic keeps one row per visit; several instruments need an earlier visit as well as the current
one. :func:`score_visits` takes the visits of one patient, oldest first, each a mapping of the
values recorded at that visit, builds each instrument record from the current and the earlier
visits, and scores it:

* ``lldas``: ``previous_sledai_items`` is the ``sledai_items`` of the previous visit unless the
  visit gives it (at the first visit it is not recorded, so LLDAS is not evaluable there);
* ``sri_4`` and ``bicla``: each visit gives ``sledai``, ``pga`` and ``bilag`` (domain -> grade);
  the first visit is the baseline of every later one;
* ``myositis_tis_2016`` and ``imacs_doi_2004``: each visit gives the core set measures as single
  values (``mdga``, ``mmt``, ...); the first visit is the baseline;
* ``doris_2021``: a drug class may be given as a dose per visit (``antimalarial_dose``,
  ``immunosuppressive_dose``, ``biologic_dose``; any unit, the same at every visit, 0 = not taken)
  instead of its status; the status is then ``none`` without the drug, ``changed`` when it was
  started or its dose raised since the previous visit, and ``stable`` otherwise (the CONVENTION of
  :mod:`immunoreset.clinical.sle.doris`). At the first visit a drug that is taken cannot be
  compared, so that visit is not scored.

A visit that only serves as the reference (a baseline, or a first visit without a comparison) is
not scored: its result is ``None`` and :func:`visit_records` says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from immunoreset.clinical import score
from immunoreset.clinical.core import FieldSpec, InstrumentInputError, InstrumentResult
from immunoreset.clinical.iim.core_set import MEASURES
from immunoreset.clinical.iim.tis import JUVENILE_ALTERNATIVES
from immunoreset.clinical.sle.response import BILAG_DOMAINS

BASELINE_FLAG = "baseline_visit"
NO_PREVIOUS_FLAG = "no_previous_visit_to_compare_doses"
DRUG_CLASSES = ("antimalarial", "immunosuppressive", "biologic")
DOSE_SUFFIX = "_dose"

Visit = Mapping[str, Any]
Built = tuple[dict[str, Any] | None, str]
"""A record to score (or ``None``) and the flag that explains a visit left unscored."""


@dataclass(frozen=True)
class Longitudinal:
    """How an instrument reads a patient's visits.

    Attributes:
        visit_fields: per-visit columns that are not fields of the record (``sledai``, ...).
        build: the record of visit ``index`` from all visits (oldest first).
    """

    visit_fields: tuple[FieldSpec, ...]
    build: Callable[[Sequence[Visit], int], Built]


def _previous_items(visits: Sequence[Visit], index: int) -> Built:
    record = dict(visits[index])
    if record.get("previous_sledai_items") is None and index > 0:
        record["previous_sledai_items"] = visits[index - 1].get("sledai_items", ())
    record.setdefault("previous_sledai_items", None)
    return record, ""


PAIRED_SLE = {"sledai": "sledai", "pga": "pga", "bilag": "bilag"}
"""Per-visit value -> stem of the ``<stem>_baseline`` / ``<stem>_followup`` fields of SRI/BICLA."""


def _paired_sle(visits: Sequence[Visit], index: int) -> Built:
    if index == 0:
        return None, BASELINE_FLAG
    baseline, current = visits[0], visits[index]
    record = {name: value for name, value in current.items() if name not in PAIRED_SLE}
    for name, stem in PAIRED_SLE.items():
        for role, visit in (("baseline", baseline), ("followup", current)):
            if name in visit:
                record[f"{stem}_{role}"] = visit[name]
    return record, ""


CORE_SET_VISIT = (*MEASURES, *sorted(JUVENILE_ALTERNATIVES))


def _core_set_pairs(visits: Sequence[Visit], index: int) -> Built:
    if index == 0:
        return None, BASELINE_FLAG
    baseline, current = visits[0], visits[index]
    record = {name: value for name, value in current.items() if name not in CORE_SET_VISIT}
    for name in CORE_SET_VISIT:
        if name in baseline or name in current:
            record[name] = [baseline.get(name), current.get(name)]
    return record, ""


def dose_status(previous: Decimal, dose: Decimal | None) -> str:
    """DORIS status of a drug class from its dose now and at the previous visit (0 = not taken)."""
    if not dose:
        return "none"
    return "changed" if dose > previous else "stable"


def _doris_doses(visits: Sequence[Visit], index: int) -> Built:
    current = visits[index]
    record = {name: value for name, value in current.items() if not name.endswith(DOSE_SUFFIX)}
    for drug in DRUG_CLASSES:
        column = drug + DOSE_SUFFIX
        if column not in current or current.get(drug) is not None:
            continue
        dose = current[column]
        if dose and index == 0:
            return None, NO_PREVIOUS_FLAG
        previous = visits[index - 1].get(column) if index else None
        record[drug] = dose_status(previous or Decimal(0), dose)
    return record, ""


def _number(name: str, description: str, allowed: str = ">= 0") -> FieldSpec:
    return FieldSpec(name, "number", allowed=allowed, description=description)


LONGITUDINAL: dict[str, Longitudinal] = {
    "lldas": Longitudinal((), _previous_items),
    **{
        key: Longitudinal(
            (
                FieldSpec(
                    "sledai", "integer", "points", "0-105", description="SLEDAI at the visit"
                ),
                _number("pga", "physician global assessment at the visit", "0-3"),
                *(
                    FieldSpec(f"bilag.{domain}", "enum", allowed="A, B, C, D, E")
                    for domain in BILAG_DOMAINS
                ),
            ),
            _paired_sle,
        )
        for key in ("sri_4", "bicla")
    },
    **{
        key: Longitudinal(
            tuple(_number(name, f"{name} at the visit") for name in CORE_SET_VISIT),
            _core_set_pairs,
        )
        for key in ("myositis_tis_2016", "imacs_doi_2004")
    },
    "doris_2021": Longitudinal(
        tuple(
            _number(drug + DOSE_SUFFIX, f"{drug} dose at the visit (0 = none)")
            for drug in DRUG_CLASSES
        ),
        _doris_doses,
    ),
}
"""The instruments that read earlier visits, and how."""


def visit_records(key: str, visits: Sequence[Visit]) -> list[Built]:
    """The record of each visit of one patient (oldest first), or ``None`` and a flag.

    An instrument that needs no earlier visit takes each visit as its record.
    """
    layout = LONGITUDINAL.get(key)
    if layout is None:
        return [(dict(visit), "") for visit in visits]
    return [layout.build(visits, index) for index in range(len(visits))]


def score_visits(key: str, visits: Sequence[Visit]) -> list[InstrumentResult | None]:
    """Score every visit of one patient (oldest first); ``None`` for a reference visit.

    Raises :class:`InstrumentInputError` for the first invalid visit, naming its position.
    """
    results: list[InstrumentResult | None] = []
    for number, (record, _) in enumerate(visit_records(key, visits), start=1):
        try:
            results.append(None if record is None else score(key, record))
        except InstrumentInputError as exc:
            field = f"visit {number}: {exc.field}"
            raise InstrumentInputError(field, exc.value, exc.allowed) from None
    return results
