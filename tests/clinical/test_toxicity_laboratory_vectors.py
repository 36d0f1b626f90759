"""Toxicity and laboratory instruments against the worked examples, and their registry entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from immunoreset.clinical import REGISTRY, InstrumentInputError, Record, Status, score
from immunoreset.clinical.csvio import unflatten

VECTORS = Path(__file__).resolve().parents[1] / "data" / "instrument_vectors.json"
TOXICITY_KEYS = (
    "astct_crs",
    "ice_score",
    "astct_icans",
    "car_hematotox",
    "icaht_early",
    "icaht_late",
)
LABORATORY_KEYS = ("b_cell_aplasia_reconstitution", "hypogammaglobulinemia", "car_pk_nca")
KEYS = TOXICITY_KEYS + LABORATORY_KEYS
# Tolerances of the worked examples (their meta section): PK values abs 1e-6, other scores 1e-9.
TOLERANCE = {"car_pk_nca": 1e-6}
SCORE_TOLERANCE = 1e-9


def _cases() -> list[Any]:
    instruments = json.loads(VECTORS.read_text())["instruments"]
    return [
        pytest.param(key, case, id=case["id"]) for key in KEYS for case in instruments[key]["cases"]
    ]


def _assert_value(actual: Any, expected: Any, tolerance: float) -> None:
    """Exact for null, booleans, categories and whole-number counts; otherwise within tolerance."""
    if expected is None or isinstance(expected, bool):
        assert actual is expected
    elif isinstance(expected, str):
        assert actual == expected
    elif isinstance(expected, int) and isinstance(actual, int):
        assert type(actual) is int
        assert actual == expected
    else:
        assert float(actual) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize(("key", "case"), _cases())
def test_worked_example(key: str, case: dict[str, Any]) -> None:
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(InstrumentInputError) as raised:
            score(key, case["input"])
        # The indicative message starts with the field it is about (e.g. "orientation out of ...").
        assert expected["error"].startswith(raised.value.field)
        return
    result = score(key, case["input"])
    assert result.instrument == key
    for name, value in expected.items():
        _assert_value(result.outputs[name], value, TOLERANCE.get(key, SCORE_TOLERANCE))


def test_counts_and_grades_are_integers() -> None:
    """Grades, points and day counts are reported as ``int`` (exact comparison in the vectors)."""
    grade = score("astct_crs", {"temp_c": 38.0})["grade"]
    days = score("icaht_early", {"anc_per_uL": [400] * 5 + [2000] * 3})["dur_le500"]
    onset = score("b_cell_aplasia_reconstitution", {"samples": [[0, 50], [7, 0]]})
    assert type(grade) is int
    assert type(days) is int
    assert type(onset["aplasia_onset_day"]) is int


# Values for the required columns; every other column takes its documented default.
REQUIRED_SAMPLE: dict[str, dict[str, Any]] = {
    "astct_crs": {"temp_c": 37.0},
    "ice_score": {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1},
    "astct_icans": {"age_years": 40, "ice": 10},
    "car_hematotox": {
        "platelets_per_uL": 200000,
        "anc_per_uL": 2000,
        "hb_g_dl": 12,
        "crp_mg_dl": 1,
        "ferritin_ng_ml": 100,
    },
    "icaht_early": {"anc_per_uL": [2000] * 31},
    "icaht_late": {"anc_per_uL": [2000]},
    "b_cell_aplasia_reconstitution": {"days": [0, 7, 14], "values": [100, 0, "<LLOQ"]},
    "hypogammaglobulinemia": {"igg_g_L": 8.0},
    "car_pk_nca": {"times_d": [0, 7, 28], "levels": [0, 100, 10]},
}


@pytest.mark.parametrize("key", KEYS)
def test_field_specs_describe_a_scorable_row(key: str) -> None:
    """The documented columns and defaults make a valid record; the result reports the options."""
    instrument = REGISTRY[key]
    specs = (*instrument.fields, *instrument.option_fields)
    sample = REQUIRED_SAMPLE[key]
    assert {spec.name for spec in specs if spec.required} <= sample.keys()
    row = {spec.name: sample.get(spec.name, spec.default) for spec in specs}
    row = {name: value for name, value in row.items() if value is not None}
    result = score(key, unflatten(row))
    defaults = {
        spec.name.removeprefix("options."): spec.default for spec in instrument.option_fields
    }
    assert result.options.keys() == defaults.keys()
    assert all(
        result.options[name] == value for name, value in defaults.items() if value is not None
    )


@pytest.mark.parametrize("key", KEYS)
def test_registry_entry(key: str) -> None:
    instrument = REGISTRY[key]
    assert instrument.key == key
    assert issubclass(instrument.record, Record)
    assert instrument.record.model_config["extra"] == "forbid"
    assert instrument.source
    kinds = {"number", "integer", "bool", "enum", "text", "list[text]", "list[number]"}
    assert {spec.kind for spec in (*instrument.fields, *instrument.option_fields)} <= kinds


def test_statuses_and_provisional_register() -> None:
    """Section 25 register: P1 CAR-HEMATOTOX, P2 early ICAHT, P3 late ICAHT, P4 CAPD (ICANS)."""
    expected = {
        "astct_crs": (Status.VERIFIED, ()),
        "ice_score": (Status.VERIFIED, ()),
        "astct_icans": (Status.VERIFIED, ("P4",)),
        "car_hematotox": (Status.PROVISIONAL, ("P1",)),
        "icaht_early": (Status.PROVISIONAL, ("P2",)),
        "icaht_late": (Status.PROVISIONAL, ("P3",)),
        "b_cell_aplasia_reconstitution": (Status.CONVENTION, ()),
        "hypogammaglobulinemia": (Status.CONVENTION, ()),
        "car_pk_nca": (Status.CONVENTION, ()),
    }
    for key, (status, provisional) in expected.items():
        assert (REGISTRY[key].status, REGISTRY[key].provisional_items) == (status, provisional)
