"""Calling the clinical instruments from endpoint code.

Endpoints never grade anything themselves: they turn table values into an instrument record and
call the registered instrument, so a simulated patient and a charted patient are scored by the
same code. This module adds the configured fixed inputs to each record and turns an invalid record
into a note instead of stopping the whole calculation.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from immunoreset.clinical import InstrumentInputError, InstrumentResult, score
from immunoreset.endpoints.config import EndpointConfig


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``, nested mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def score_record(
    key: str, record: Mapping[str, Any], config: EndpointConfig, notes: list[str], where: str
) -> InstrumentResult | None:
    """Score ``record`` (with the configured inputs of ``key``); ``None`` and a note if invalid."""
    try:
        return score(key, merged(config.instrument_inputs.get(key, {}), record))
    except InstrumentInputError as exc:
        notes.append(f"{where}: {key}: {exc}")
        return None


def plain(value: Any) -> Any:
    """An instrument output as a table value: exact numbers become floats, the rest is unchanged."""
    return float(value) if isinstance(value, Decimal | Fraction) else value


def outputs(result: InstrumentResult | None, names: Mapping[str, str]) -> dict[str, Any]:
    """Output ``name -> column`` of ``result`` as table values (all ``None`` without a result)."""
    return {
        column: None if result is None else plain(result.outputs.get(name))
        for name, column in names.items()
    }
