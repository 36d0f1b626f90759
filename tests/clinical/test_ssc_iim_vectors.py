"""Worked examples of the SSc and myositis instruments (tests/data/instrument_vectors.json).

Every case is scored twice: from plain JSON floats (the float traps tis-07 and doi-01 must still
land in the right band) and from JSON parsed with ``parse_float=Decimal``. Each case is also written
as a flat CSV-style row using the registered field names and unflattened again, which checks that
the registered fields describe every input the examples use.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from immunoreset.clinical import REGISTRY, InstrumentInputError, InstrumentResult

VECTORS = Path(__file__).resolve().parents[1] / "data" / "instrument_vectors.json"
KEYS = (
    "mrss",
    "mrss_skin_change",
    "eustar_ai_revised",
    "acr_eular_2013_ssc",
    "acr_criss",
    "myositis_tis_2016",
    "imacs_doi_2004",
    "eular_acr_2017_iim",
)
PROBABILITY_TOLERANCE = 1e-4
SCORE_TOLERANCE = 1e-9


def _cases(parse_float: type) -> list[tuple[str, dict[str, Any]]]:
    data = json.loads(VECTORS.read_text(), parse_float=parse_float)
    return [(key, case) for key in KEYS for case in data["instruments"][key]["cases"]]


CASES = _cases(float)
DECIMAL_INPUTS = {case["id"]: case["input"] for _, case in _cases(Decimal)}


def assert_outputs(result: InstrumentResult, expected: dict[str, Any]) -> None:
    """Compare outputs with the vector tolerances; keys absent from ``expected`` are free."""
    for name, want in expected.items():
        got = result.outputs[name]
        if want is None or isinstance(want, bool):
            assert got is want, (name, got, want)
        elif isinstance(want, str | int):
            assert got == want, (name, got, want)
        else:
            tolerance = PROBABILITY_TOLERANCE if name == "probability" else SCORE_TOLERANCE
            assert got is not None and abs(got - want) <= tolerance, (name, got, want)


def check_case(key: str, record: dict[str, Any], expected: dict[str, Any]) -> None:
    score = REGISTRY[key].score
    if "error" in expected:
        with pytest.raises(InstrumentInputError) as info:
            score(record)
        named = [part for part in info.value.field.split(".") if not part.isdigit()]
        assert any(part in expected["error"] for part in named), (info.value.field, expected)
    else:
        assert_outputs(score(record), expected)


@pytest.mark.parametrize(("key", "case"), CASES, ids=[case["id"] for _, case in CASES])
def test_vector_from_floats(key: str, case: dict[str, Any]) -> None:
    check_case(key, case["input"], case["expected"])


@pytest.mark.parametrize(("key", "case"), CASES, ids=[case["id"] for _, case in CASES])
def test_vector_from_decimals(key: str, case: dict[str, Any]) -> None:
    check_case(key, DECIMAL_INPUTS[case["id"]], case["expected"])


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted column names; lists stay whole (one ``;``-separated cell)."""
    row: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, dict):
            row.update(flatten(value, f"{prefix}{name}."))
        else:
            row[f"{prefix}{name}"] = value
    return row


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """Split column names on '.' back into nested objects."""
    record: dict[str, Any] = {}
    for column, value in row.items():
        *parents, leaf = column.split(".")
        node = record
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return record


@pytest.mark.parametrize(("key", "case"), CASES, ids=[case["id"] for _, case in CASES])
def test_registered_fields_cover_vector_inputs(key: str, case: dict[str, Any]) -> None:
    instrument = REGISTRY[key]
    columns = {spec.name for spec in (*instrument.fields, *instrument.option_fields)}
    row = flatten(case["input"])
    assert set(row) <= columns
    check_case(key, unflatten(row), case["expected"])


@pytest.mark.parametrize("key", (*KEYS, "mmt8"))
def test_registration(key: str) -> None:
    instrument = REGISTRY[key]
    assert instrument.key == key
    assert instrument.source
    assert instrument.record.__doc__
    assert instrument.score.__doc__
    names = [spec.name for spec in (*instrument.fields, *instrument.option_fields)]
    assert len(names) == len(set(names))
    assert all(spec.description for spec in instrument.fields)
