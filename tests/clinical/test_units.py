"""Every laboratory field has a unit, a plausible range and a hint for values in another unit.

Conversions are exact decimal products (1 x10^9/L = 1,000 cells/uL, 1 g/L = 100 mg/dL of IgG,
1 g/dL = 10 g/L), so the expected values are compared exactly.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from immunoreset.clinical import REGISTRY, InstrumentInputError, score
from immunoreset.clinical.csvio import columns
from immunoreset.clinical.units import QUANTITIES, field_quantity, foreign_unit, normalise

LAB_FIELDS: dict[str, set[str]] = {
    "car_hematotox": {
        "platelets_per_uL", "anc_per_uL", "hb_g_dl", "crp_mg_dl", "crp_mg_l", "ferritin_ng_ml",
    },
    "icaht_early": {"anc_per_uL"},
    "icaht_late": {"anc_per_uL"},
    "sledai_2k": {
        "raw.platelets_1e9_L", "raw.wbc_1e9_L", "raw.proteinuria_g_24h", "raw.rbc_per_hpf",
        "raw.wbc_per_hpf",
    },
    "hypogammaglobulinemia": {"igg_g_L", "igg_mg_dL", "igg_lln_g_L", "severe_threshold_g_L"},
    "eustar_ai_revised": {"crp_mg_dl", "crp_mg_l"},
    "car_pk_nca": {"levels", "lloq"},
    "myositis_tis_2016": {"enzyme", "enzyme_uln"},
    "imacs_doi_2004": {"enzyme"},
    "eular_acr_2019_sle": {"ana_titer_denominator"},
}  # fmt: skip
"""The laboratory fields of each instrument (B-cell values take their unit from an option and are
checked in the instrument)."""


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_laboratory_fields_are_exactly_the_listed_ones(key: str) -> None:
    instrument = REGISTRY[key]
    found = {
        path for path in columns(instrument) if field_quantity(instrument.record, path.split("."))
    }
    assert found == LAB_FIELDS.get(key, set())


DOCS = (Path(__file__).parents[2] / "docs" / "instruments.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted({p for paths in LAB_FIELDS.values() for p in paths}))
def test_every_laboratory_field_is_in_the_units_table_of_the_docs(path: str) -> None:
    assert f"`{path}`" in DOCS


@pytest.mark.parametrize("key", sorted(QUANTITIES))
def test_every_quantity_has_a_range_and_a_unit_hint(key: str) -> None:
    quantity = QUANTITIES[key]
    assert quantity.unit.label
    assert 0 <= quantity.low < quantity.high
    assert quantity.typical[0] <= quantity.typical[1]
    assert quantity.unit.label in quantity.allowed()
    for unit in quantity.others:
        assert unit.factor > 0 and unit.label != quantity.unit.label


@pytest.mark.parametrize(
    ("key", "record", "field", "likely"),
    [
        ("car_hematotox", {"platelets_per_uL": 150}, "platelets_per_uL", "x10^9/L"),
        ("car_hematotox", {"anc_per_uL": 2.5}, "anc_per_uL", "x10^9/L"),
        ("car_hematotox", {"hb_g_dl": 120}, "hb_g_dl", "g/L"),
        ("sledai_2k", {"items": [], "raw": {"platelets_1e9_L": 50000}}, "raw.platelets_1e9_L",
         "cells/uL"),
        ("hypogammaglobulinemia", {"igg_g_L": 700}, "igg_g_L", "mg/dL"),
        ("hypogammaglobulinemia", {"igg_g_L": 7, "igg_lln_g_L": 700}, "igg_lln_g_L", "mg/dL"),
        ("icaht_late", {"anc_per_uL": [1.2]}, "anc_per_uL.0", "x10^9/L"),
    ],
)  # fmt: skip
def test_a_value_in_another_unit_is_refused_with_the_likely_unit(
    key: str, record: dict, field: str, likely: str
) -> None:
    base = {
        "car_hematotox": {
            "platelets_per_uL": 200000, "anc_per_uL": 2000, "hb_g_dl": 12, "crp_mg_dl": 1,
            "ferritin_ng_ml": 100,
        },
    }.get(key, {})  # fmt: skip
    with pytest.raises(InstrumentInputError) as info:
        score(key, {**base, **record})
    assert info.value.field == field
    assert f"looks like a value in {likely}" in info.value.allowed


def test_zero_is_the_same_in_every_unit() -> None:
    assert score("icaht_late", {"anc_per_uL": [0]})["grade"] == 4
    assert score("hypogammaglobulinemia", {"igg_g_L": 0})["severe_hypogammaglobulinemia"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("x10^9/L", "10^9/l"), ("10E9/L", "10^9/l"), ("× 10*9/L", "10^9/l"), ("µmol/L", "umol/l")],
)
def test_unit_spellings_are_normalised(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_foreign_unit_needs_two_values_all_typical_of_the_other_unit() -> None:
    igg = QUANTITIES["igg_mg_dL"]
    as_g_l = [Decimal(7), Decimal("8.5")]
    assert foreign_unit(igg, as_g_l) is not None
    assert foreign_unit(igg, as_g_l[:1]) is None  # a single low value can be real
    assert foreign_unit(igg, [*as_g_l, Decimal(850)]) is None
    assert foreign_unit(igg, [Decimal(0), Decimal(7)]) is None  # zeros do not count
