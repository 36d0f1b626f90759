"""SLE instruments against the worked examples and their registry entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from immunoreset.clinical import REGISTRY, InstrumentInputError, Status, score
from immunoreset.clinical.csvio import unflatten

VECTORS = Path(__file__).resolve().parents[1] / "data" / "instrument_vectors.json"
SLE_KEYS = ("sledai_2k", "doris_2021", "lldas", "sri_4", "bicla", "eular_acr_2019_sle")
SCORE_TOLERANCE = 1e-9


def _cases() -> list[Any]:
    instruments = json.loads(VECTORS.read_text())["instruments"]
    return [
        pytest.param(key, case, id=case["id"])
        for key in SLE_KEYS
        for case in instruments[key]["cases"]
    ]


def _assert_value(actual: Any, expected: Any) -> None:
    if expected is None or isinstance(expected, bool):
        assert actual is expected
    elif isinstance(expected, int | str):
        assert type(actual) is type(expected)
        assert actual == expected
    else:
        assert float(actual) == pytest.approx(expected, abs=SCORE_TOLERANCE)


@pytest.mark.parametrize(("key", "case"), _cases())
def test_worked_example(key: str, case: dict[str, Any]) -> None:
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(InstrumentInputError) as raised:
            score(key, case["input"])
        assert raised.value.field.split(".")[-1] in expected["error"]
        return
    result = score(key, case["input"])
    assert result.instrument == key
    for name, value in expected.items():
        _assert_value(result.outputs[name], value)


# Values for the required columns; every other column takes its documented default.
REQUIRED_SAMPLE: dict[str, dict[str, Any]] = {
    "sledai_2k": {"items": []},
    "doris_2021": {"clinical_sledai": 0, "pga": 0, "prednisolone_mg_day": 0},
    "lldas": {"sledai_items": [], "previous_sledai_items": [], "pga": 0, "prednisolone_mg_day": 0},
    "sri_4": {"sledai_baseline": 0, "sledai_followup": 0, "pga_baseline": 0, "pga_followup": 0},
    "bicla": {"sledai_baseline": 0, "sledai_followup": 0, "pga_baseline": 0, "pga_followup": 0},
    "eular_acr_2019_sle": {"criteria": [], "ana_titer_denominator": 80},
}


@pytest.mark.parametrize("key", SLE_KEYS)
def test_field_specs_describe_a_scorable_csv_row(key: str) -> None:
    instrument = REGISTRY[key]
    specs = (*instrument.fields, *instrument.option_fields)
    sample = REQUIRED_SAMPLE[key]
    assert {s.name for s in specs if s.required} <= sample.keys()
    row = {s.name: sample.get(s.name, s.default) for s in specs}
    result = score(key, unflatten(row))
    assert result.options == {
        s.name.removeprefix("options."): s.default for s in instrument.option_fields
    }


def test_registry_entries() -> None:
    for key in SLE_KEYS:
        instrument = REGISTRY[key]
        assert instrument.key == key
        assert instrument.record.model_config["extra"] == "forbid"
        assert instrument.source
    assert REGISTRY["sri_4"].status is Status.PROVISIONAL
    assert {REGISTRY[k].status for k in SLE_KEYS if k != "sri_4"} == {Status.VERIFIED}


def test_sri4_bilag_component_is_provisional_p5() -> None:
    """PROVISIONAL P5: the SRI-4 BILAG rule (no new A, at most one new B) awaits Furie 2009."""
    assert REGISTRY["sri_4"].provisional_items == ("P5",)
    case = {
        "sledai_baseline": 10,
        "sledai_followup": 6,
        "pga_baseline": 1,
        "pga_followup": 1,
        "bilag_baseline": {},
        "bilag_followup": {},
    }
    assert score("sri_4", case).provisional == ("P5",)
    assert all(not REGISTRY[k].provisional_items for k in SLE_KEYS if k != "sri_4")
