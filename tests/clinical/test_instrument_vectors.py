"""Every instrument against the worked examples (tests/data/instrument_vectors.json), and the
registry entries every instrument must have.

Tolerances are those of the examples' meta section: exact for null, booleans, categories and
integers; probabilities 1e-4 absolute; CAR PK values 1e-6; other scores 1e-9. Every case is scored
from plain JSON floats (the float traps tis-07 and doi-01 must still land in the right band) and
from JSON parsed with ``parse_float=Decimal``. A case whose expected output is an error must raise
:class:`InstrumentInputError` naming the field (the example's message is indicative only).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from immunoreset.clinical import REGISTRY, InstrumentInputError, InstrumentResult, Record
from immunoreset.clinical.csvio import unflatten

VECTORS = Path(__file__).resolve().parents[1] / "data" / "instrument_vectors.json"
PROBABILITY_TOLERANCE = 1e-4
PK_TOLERANCE = 1e-6
SCORE_TOLERANCE = 1e-9
FIELD_KINDS = {
    "number", "integer", "bool", "enum", "text", "titre", "day", "list[text]", "list[number]",
    "list[day]",
}  # fmt: skip


def _cases(parse_float: type) -> list[tuple[str, dict[str, Any]]]:
    data = json.loads(VECTORS.read_text(), parse_float=parse_float)
    return [(key, case) for key, entry in data["instruments"].items() for case in entry["cases"]]


CASES = _cases(float)
IDS = [case["id"] for _, case in CASES]
DECIMAL_INPUTS = {case["id"]: case["input"] for _, case in _cases(Decimal)}


def _tolerance(key: str, output: str) -> float:
    if output == "probability":
        return PROBABILITY_TOLERANCE
    return PK_TOLERANCE if key == "car_pk_nca" else SCORE_TOLERANCE


def assert_outputs(key: str, result: InstrumentResult, expected: dict[str, Any]) -> None:
    """Compare outputs with the example's tolerances; keys absent from ``expected`` are free."""
    assert result.instrument == key
    for name, want in expected.items():
        got = result.outputs[name]
        if want is None or isinstance(want, bool):
            assert got is want, (name, got, want)
        elif isinstance(want, str):
            assert got == want, (name, got, want)
        elif isinstance(want, int) and not isinstance(got, float):
            assert not isinstance(got, bool) and got == want, (name, got, want)
        else:
            assert got is not None, name
            assert float(got) == pytest.approx(want, abs=_tolerance(key, name)), name


def check_case(key: str, record: dict[str, Any], expected: dict[str, Any]) -> None:
    if "error" in expected:
        with pytest.raises(InstrumentInputError) as info:
            REGISTRY[key].score(record)
        named = [part for part in info.value.field.split(".") if not part.isdigit()]
        assert any(part in expected["error"] for part in named), (info.value.field, expected)
    else:
        assert_outputs(key, REGISTRY[key].score(record), expected)


@pytest.mark.parametrize(("key", "case"), CASES, ids=IDS)
def test_worked_example_from_floats(key: str, case: dict[str, Any]) -> None:
    check_case(key, case["input"], case["expected"])


@pytest.mark.parametrize(("key", "case"), CASES, ids=IDS)
def test_worked_example_from_decimals(key: str, case: dict[str, Any]) -> None:
    check_case(key, DECIMAL_INPUTS[case["id"]], case["expected"])


def test_every_instrument_with_examples_is_registered() -> None:
    assert {key for key, _ in CASES} <= set(REGISTRY)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_registry_entry(key: str) -> None:
    instrument = REGISTRY[key]
    assert instrument.key == key
    assert issubclass(instrument.record, Record)
    assert instrument.record.model_config["extra"] == "forbid"
    assert instrument.source and instrument.score.__doc__ and instrument.record.__doc__
    specs = (*instrument.fields, *instrument.option_fields)
    assert {spec.kind for spec in specs} <= FIELD_KINDS
    names = [spec.name for spec in specs]
    assert len(names) == len(set(names))
    assert all(spec.description for spec in instrument.fields)


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
    "sledai_2k": {"items": []},
    "doris_2021": {"clinical_sledai": 0, "pga": 0, "prednisolone_mg_day": 0},
    "lldas": {"sledai_items": [], "previous_sledai_items": [], "pga": 0, "prednisolone_mg_day": 0},
    "sri_4": {"sledai_baseline": 0, "sledai_followup": 0, "pga_baseline": 0, "pga_followup": 0},
    "bicla": {"sledai_baseline": 0, "sledai_followup": 0, "pga_baseline": 0, "pga_followup": 0},
    "eular_acr_2019_sle": {"criteria": [], "ana_titer_denominator": 80},
}


@pytest.mark.parametrize("key", sorted(REQUIRED_SAMPLE))
def test_field_specs_describe_a_scorable_row(key: str) -> None:
    """The documented columns and defaults make a valid record; the result reports the options."""
    instrument = REGISTRY[key]
    specs = (*instrument.fields, *instrument.option_fields)
    sample = REQUIRED_SAMPLE[key]
    assert {spec.name for spec in specs if spec.required} <= sample.keys()
    row = {spec.name: sample.get(spec.name, spec.default) for spec in specs}
    row = {name: value for name, value in row.items() if value is not None}
    result = REGISTRY[key].score(unflatten(row))
    defaults = {
        spec.name.removeprefix("options."): spec.default for spec in instrument.option_fields
    }
    assert result.options.keys() >= defaults.keys()
    assert all(
        result.options[name] == value for name, value in defaults.items() if value is not None
    )


# Families whose examples use exactly the registered columns (nested objects as dotted names).
FLAT_KEYS = {
    "mrss", "mrss_skin_change", "eustar_ai_revised", "acr_eular_2013_ssc", "acr_criss",
    "myositis_tis_2016", "imacs_doi_2004", "eular_acr_2017_iim",
}  # fmt: skip
FLAT_CASES = [(key, case) for key, case in CASES if key in FLAT_KEYS]


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted column names; lists stay whole (one ``;``-separated cell)."""
    row: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, dict):
            row.update(flatten(value, f"{prefix}{name}."))
        else:
            row[f"{prefix}{name}"] = value
    return row


@pytest.mark.parametrize(("key", "case"), FLAT_CASES, ids=[c["id"] for _, c in FLAT_CASES])
def test_registered_fields_cover_example_inputs(key: str, case: dict[str, Any]) -> None:
    instrument = REGISTRY[key]
    columns = {spec.name for spec in (*instrument.fields, *instrument.option_fields)}
    row = flatten(case["input"])
    assert set(row) <= columns
    check_case(key, unflatten(row), case["expected"])
