"""Calling the clinical instruments from endpoint code.

Endpoints never grade anything themselves: they turn table values into an instrument record and
call the registered instrument, so a simulated patient and a charted patient are scored by the
same code. This module adds the configured fixed inputs to each record and turns an invalid record
into a note instead of stopping the whole calculation. Scoring, not reading the table, is most of
the cost of a large trial's endpoints, so it also lets a family score a repeated record once
(:func:`score_record`) and convert the output times that all patients share once
(:func:`exact_series`); long series of levels go to an instrument as float arrays, which it decides
as the exact numbers they stand for (:mod:`immunoreset.clinical.float_series`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from immunoreset.clinical import InstrumentInputError, InstrumentResult, score
from immunoreset.clinical.float_series import decimal_of
from immunoreset.endpoints.config import EndpointConfig


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``, nested mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        # ``key in out`` first: most records meet no configured input, and isinstance on an ABC
        # costs more than the rest of the merge.
        if key in out and isinstance(out[key], Mapping) and isinstance(value, Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


Outcome = InstrumentResult | InstrumentInputError
"""What scoring a record gives: the result, or the error that rejected the record."""

Memo = dict[tuple[str, str], Outcome]
"""Outcomes by instrument key and record repr (see :func:`score_record`)."""


def attempt(key: str, record: Mapping[str, Any], config: EndpointConfig) -> Outcome:
    """Score ``record`` with the configured inputs of ``key``; the error if the record is invalid."""
    try:
        return score(key, merged(config.instrument_inputs.get(key, {}), record))
    except InstrumentInputError as exc:
        return exc


def score_record(
    key: str,
    record: Mapping[str, Any],
    config: EndpointConfig,
    notes: list[str],
    where: str,
    memo: Memo | None = None,
) -> InstrumentResult | None:
    """Score ``record`` (with the configured inputs of ``key``); ``None`` and a note if invalid.

    ``memo`` (kept by the caller for one configuration) scores a record seen before only once,
    for families whose records repeat (the SLEDAI-2K descriptors of one visit and the next):
    instruments are pure functions of their record, and the record's repr identifies it (floats
    print exactly, ``True`` differs from ``1``).
    """
    if memo is None:
        outcome = attempt(key, record, config)
    else:
        index = (key, repr(record))
        if index not in memo:
            memo[index] = attempt(key, record, config)
        outcome = memo[index]
    if isinstance(outcome, InstrumentInputError):
        notes.append(f"{where}: {key}: {outcome}")
        return None
    return outcome


def exact_series(values: np.ndarray) -> tuple[Decimal | float, ...]:
    """``values`` (floats) as the Decimals an instrument makes of them
    (:func:`~immunoreset.clinical.float_series.decimal_of`), for the output times that patients
    share.

    The patients of a table usually have the same output times, so the last few distinct series
    are remembered (by their bytes: ``-0.0`` keeps its sign) and handed to every record as they
    are; pydantic takes Decimals as given, so only the first patient pays for the conversion.
    """
    return _exact_series(values.tobytes())


@functools.lru_cache(maxsize=8)
def _exact_series(raw: bytes) -> tuple[Decimal | float, ...]:
    return tuple(decimal_of(value) for value in np.frombuffer(raw).tolist())


def plain(value: Any) -> Any:
    """An instrument output as a table value: exact numbers become floats, the rest is unchanged."""
    return float(value) if isinstance(value, Decimal | Fraction) else value


def outputs(result: InstrumentResult | None, names: Mapping[str, str]) -> dict[str, Any]:
    """Output ``name -> column`` of ``result`` as table values (all ``None`` without a result)."""
    return {
        column: None if result is None else plain(result.outputs.get(name))
        for name, column in names.items()
    }
