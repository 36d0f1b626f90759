"""Toxicity instruments: both sides of every cut-off, validation, and monotonicity properties."""

from __future__ import annotations

import string
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunoreset.clinical import InstrumentInputError, score
from immunoreset.clinical.toxicity.icans import DOMAIN_GRADES
from immunoreset.clinical.units import QUANTITIES


def grade(key: str, record: dict[str, Any]) -> Any:
    return score(key, record)["grade"]


def raises_on(key: str, record: Any) -> str:
    """Score ``record`` expecting an input error; return the field it names."""
    with pytest.raises(InstrumentInputError) as raised:
        score(key, record)
    return raised.value.field


# --- ASTCT CRS -------------------------------------------------------------------------------


@pytest.mark.parametrize(("temp", "expected"), [(37.9, 0), (38.0, 1), (38.1, 1)])
def test_crs_fever_threshold(temp: float, expected: int) -> None:
    assert grade("astct_crs", {"temp_c": temp}) == expected


def test_crs_fever_explained_otherwise_is_not_crs() -> None:
    assert grade("astct_crs", {"temp_c": 39.5, "fever_other_cause": True}) == 0


@pytest.mark.parametrize(("flow", "expected"), [(0, 2), (6.0, 2), (6.01, 3), (6.1, 3), (40, 3)])
def test_crs_nasal_cannula_low_flow_boundary(flow: float, expected: int) -> None:
    record = {"temp_c": 38.5, "oxygen_device": "nasal_cannula", "oxygen_flow_l_min": flow}
    assert grade("astct_crs", record) == expected


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("none", 1),
        ("blow_by", 2),
        ("hfnc", 3),
        ("facemask", 3),
        ("non_rebreather", 3),
        ("venturi", 3),
        ("cpap", 4),
        ("bipap", 4),
        ("mechanical_ventilation", 4),
    ],
)
def test_crs_oxygen_devices(device: str, expected: int) -> None:
    assert grade("astct_crs", {"temp_c": 38.5, "oxygen_device": device}) == expected


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        ([], 1),
        (["vasopressin"], 3),
        (["norepinephrine"], 3),
        (["norepinephrine", "norepinephrine"], 3),
        (["norepinephrine", "vasopressin"], 3),
        (["norepinephrine", "phenylephrine"], 4),
        (["dopamine", "epinephrine", "vasopressin"], 4),
    ],
)
def test_crs_vasopressors(agents: list[str], expected: int) -> None:
    assert grade("astct_crs", {"temp_c": 38.5, "vasopressors": agents}) == expected


def test_crs_worst_component_decides_without_summing() -> None:
    record = {
        "temp_c": 38.5,
        "vasopressors": ["norepinephrine"],
        "oxygen_device": "nasal_cannula",
        "oxygen_flow_l_min": 2,
    }
    assert grade("astct_crs", record) == 3


def test_crs_support_without_fever_is_grade_0_and_flagged() -> None:
    result = score("astct_crs", {"temp_c": 37.0, "hypotension": True, "oxygen_device": "bipap"})
    assert result["grade"] == 0
    assert result.flags == ("hypotension_or_hypoxia_without_fever",)
    assert score("astct_crs", {"temp_c": 37.0}).flags == ()


def test_crs_after_anticytokine_therapy_fever_is_not_required() -> None:
    treated = {"temp_c": 37.0, "prior_antipyretic_or_anticytokine_for_crs": True}
    assert grade("astct_crs", treated) == 0
    assert grade("astct_crs", {**treated, "hypotension": True}) == 2
    assert grade("astct_crs", {**treated, "temp_c": 38.0}) == 1


def test_crs_death_is_grade_5() -> None:
    assert grade("astct_crs", {"temp_c": 37.0, "death_due_to_crs": True}) == 5


@pytest.mark.parametrize(("sbp", "cut_off", "expected"), [(89, 90, 2), (90, 90, 1), (95, 100, 2)])
def test_crs_hypotension_from_systolic_pressure(sbp: int, cut_off: int, expected: int) -> None:
    """CONVENTION: hypotension iff SBP < hypotension_sbp_mmHg (default 90); reported as option."""
    record = {"temp_c": 38.5, "sbp_mmHg": sbp, "hypotension_sbp_mmHg": cut_off}
    result = score("astct_crs", record)
    assert result["grade"] == expected
    assert result.options == {"hypotension_sbp_mmHg": cut_off}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"temp_c": 60}, "temp_c"),
        ({"temp_c": 20}, "temp_c"),
        ({}, "temp_c"),
        ({"temp_c": 38.5, "oxygen_device": "nasal_cannula"}, "oxygen_flow_l_min"),
        ({"temp_c": 38.5, "oxygen_device": "helmet"}, "oxygen_device"),
        ({"temp_c": 38.5, "oxygen_flow_l_min": -1}, "oxygen_flow_l_min"),
        ({"temp_c": 38.5, "vasopressors": ["Vasopressin"]}, "vasopressors.0"),
        ({"temp_c": 38.5, "hypotension": "maybe"}, "hypotension"),
        ({"temp_c": 38.5, "sbp_mmHg": 400}, "sbp_mmHg"),
        ({"temp_c": 38.5, "grade": 2}, "grade"),
    ],
)
def test_crs_rejects_impossible_input(record: dict[str, Any], field: str) -> None:
    assert raises_on("astct_crs", record) == field


# --- ICE score -------------------------------------------------------------------------------

ICE_FULL = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}


@pytest.mark.parametrize("item", sorted(ICE_FULL))
def test_ice_item_ranges(item: str) -> None:
    top = ICE_FULL[item]
    assert score("ice_score", {**ICE_FULL, item: 0})["ice"] == 10 - top
    assert raises_on("ice_score", {**ICE_FULL, item: top + 1}) == item
    assert raises_on("ice_score", {**ICE_FULL, item: -1}) == item
    assert raises_on("ice_score", {**ICE_FULL, item: True}) == item


def test_ice_reports_items() -> None:
    assert score("ice_score", ICE_FULL).components == ICE_FULL


# --- ASTCT ICANS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ice", "expected"),
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3), (None, 4)],
)
def test_icans_ice_bands(ice: int | None, expected: int) -> None:
    """ICE 0 in an awake patient is grade 3; only unable-to-perform (null) is grade 4."""
    assert grade("astct_icans", {"age_years": 30, "ice": ice}) == expected


@pytest.mark.parametrize(("capd", "expected"), [(0, 0), (1, 1), (8, 1), (9, 3), (32, 3), (None, 4)])
def test_icans_capd_bands_are_provisional_p4(capd: int | None, expected: int) -> None:
    """PROVISIONAL P4: CAPD 0 / 1-8 / >= 9 / unable -> 0 / 1 / 3 / 4."""
    result = score("astct_icans", {"age_years": 6, "capd": capd})
    assert result["grade"] == expected
    assert result.provisional == ("P4",)
    assert result.components["tool"] == "CAPD"


def test_icans_adult_ice_path_does_not_rely_on_p4() -> None:
    assert score("astct_icans", {"age_years": 30, "ice": 8}).provisional == ()


@pytest.mark.parametrize(
    ("age", "rule", "tool"),
    [
        (11.9, "<12", "CAPD"),
        (12, "<12", "ICE"),
        (12, "<=12", "CAPD"),
        (12.5, "<=12", "ICE"),
    ],
)
def test_icans_capd_age_rule(age: float, rule: str, tool: str) -> None:
    """PROVISIONAL P4 / CONVENTION: CAPD below 12 years by default, up to 12 under "<=12"."""
    record = {"age_years": age, "ice": 10, "capd": 0, "options": {"capd_age_rule": rule}}
    result = score("astct_icans", record)
    assert result.components["tool"] == tool
    assert result.options == {"capd_age_rule": rule}
    assert ("P4" in result.provisional) is (tool == "CAPD" or age == 12)


def test_icans_developmental_delay_uses_capd_at_any_age() -> None:
    assert grade("astct_icans", {"age_years": 30, "developmental_delay": True, "capd": 10}) == 3


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"age_years": 30}, "ice"),
        ({"age_years": 30, "capd": 3}, "ice"),
        ({"age_years": 5, "ice": 10}, "capd"),
        ({"age_years": 30, "ice": 11}, "ice"),
        ({"age_years": 5, "capd": 33}, "capd"),
        ({"age_years": -1, "ice": 10}, "age_years"),
        ({"age_years": 30, "ice": 10, "seizure": "absence"}, "seizure"),
        (
            {"age_years": 30, "ice": 10, "options": {"capd_age_rule": "<13"}},
            "options.capd_age_rule",
        ),
    ],
)
def test_icans_rejects_invalid_input(record: dict[str, Any], field: str) -> None:
    assert raises_on("astct_icans", record) == field


@pytest.mark.parametrize(
    ("domain", "value", "expected"),
    [
        ("consciousness", "awakens_spontaneously", 1),
        ("consciousness", "awakens_to_voice", 2),
        ("consciousness", "awakens_only_to_tactile", 3),
        ("consciousness", "unarousable", 4),
        ("seizure", "rapidly_resolving_or_eeg_responsive", 3),
        ("seizure", "prolonged_or_repetitive", 4),
        ("motor", "deep_focal_weakness", 4),
        ("icp", "focal_edema", 3),
        ("icp", "diffuse_edema_or_posturing_cn6_papilledema_cushing", 4),
    ],
)
def test_icans_domains(domain: str, value: str, expected: int) -> None:
    assert grade("astct_icans", {"age_years": 30, "ice": 10, domain: value}) == expected


def test_icans_death_is_grade_5() -> None:
    assert grade("astct_icans", {"age_years": 30, "ice": 10, "death_due_to_icans": True}) == 5


# --- CAR-HEMATOTOX ---------------------------------------------------------------------------

HT_BASE = {
    "platelets_per_uL": 250000,
    "anc_per_uL": 3000,
    "hb_g_dl": 13.0,
    "crp_mg_dl": 0.5,
    "ferritin_ng_ml": 300,
}


@pytest.mark.parametrize(
    ("field", "value", "points"),
    [
        ("platelets_per_uL", 175001, 0),
        ("platelets_per_uL", 175000, 1),
        ("platelets_per_uL", 75000, 1),
        ("platelets_per_uL", 74999, 2),
        ("anc_per_uL", 1200, 0),
        ("anc_per_uL", 1199, 1),
        ("hb_g_dl", 9.0, 0),
        ("hb_g_dl", 8.9, 1),
        ("crp_mg_dl", 3.0, 0),
        ("crp_mg_dl", 3.1, 1),
        ("ferritin_ng_ml", 649, 0),
        ("ferritin_ng_ml", 650, 1),
        ("ferritin_ng_ml", 2000, 1),
        ("ferritin_ng_ml", 2001, 2),
    ],
)
def test_hematotox_cutoffs_are_provisional_p1(field: str, value: float, points: int) -> None:
    """PROVISIONAL P1: the numeric cut-offs and the defaults for values exactly on them."""
    result = score("car_hematotox", {**HT_BASE, field: value})
    assert result["score"] == points
    assert result["risk"] == ("high" if points >= 2 else "low")
    assert result.provisional == ("P1",)


@pytest.mark.parametrize(("crp_mg_l", "points"), [(30, 0), (31, 1)])
def test_hematotox_crp_in_mg_per_l(crp_mg_l: float, points: int) -> None:
    record = {**HT_BASE, "crp_mg_dl": None, "crp_mg_l": crp_mg_l}
    assert score("car_hematotox", record)["score"] == points


@pytest.mark.parametrize(
    ("option", "field", "value", "points"),
    [
        ("platelets_175000_points", "platelets_per_uL", 175000, 0),
        ("platelets_75000_points", "platelets_per_uL", 75000, 2),
        ("anc_1200_points", "anc_per_uL", 1200, 1),
        ("hb_9_points", "hb_g_dl", 9.0, 1),
        ("crp_3_points", "crp_mg_dl", 3.0, 1),
        ("ferritin_650_points", "ferritin_ng_ml", 650, 0),
        ("ferritin_2000_points", "ferritin_ng_ml", 2000, 2),
    ],
)
def test_hematotox_exact_cutoff_options(option: str, field: str, value: float, points: int) -> None:
    """CONVENTION: each exact cut-off can be moved to the other band and is reported."""
    result = score("car_hematotox", {**HT_BASE, field: value, "options": {option: points}})
    assert result["score"] == points
    assert result.options[option] == points


def test_hematotox_maximum_is_7() -> None:
    worst = {
        "platelets_per_uL": 0,
        "anc_per_uL": 0,
        "hb_g_dl": 5,
        "crp_mg_l": 100,
        "ferritin_ng_ml": 5000,
    }
    assert score("car_hematotox", worst).outputs == {"score": 7, "risk": "high"}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**HT_BASE, "crp_mg_l": 5}, "crp_mg_dl"),
        ({**HT_BASE, "crp_mg_dl": None}, "crp_mg_dl"),
        ({**HT_BASE, "anc_per_uL": -1}, "anc_per_uL"),
        ({**HT_BASE, "ferritin_ng_ml": "high"}, "ferritin_ng_ml"),
        ({**HT_BASE, "options": {"anc_1200_points": 2}}, "options.anc_1200_points"),
    ],
)
def test_hematotox_rejects_invalid_input(record: dict[str, Any], field: str) -> None:
    assert raises_on("car_hematotox", record) == field


# --- ICAHT early -----------------------------------------------------------------------------

WELL = 2000


def early(series: list[Any], **options: Any) -> dict[str, Any]:
    return score("icaht_early", {"anc_per_uL": series, "options": options}).outputs


def dip(start: int, length: int, value: int = 400, total: int = 31) -> list[int]:
    """A daily series at 2000/uL with ``length`` days at ``value`` from day ``start``."""
    return [value if start <= day < start + length else WELL for day in range(total)]


@pytest.mark.parametrize(("value", "days"), [(500, 7), (501, 0)])
def test_icaht_early_neutropenia_threshold(value: int, days: int) -> None:
    assert early(dip(5, 7, value))["dur_le500"] == days


@pytest.mark.parametrize(("value", "days"), [(100, 7), (101, 0)])
def test_icaht_early_profound_threshold(value: int, days: int) -> None:
    assert early(dip(5, 7, value))["dur_le100"] == days


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (25, 3)]
)
def test_icaht_early_duration_bands_are_provisional_p2(length: int, expected: int) -> None:
    """PROVISIONAL P2: <= 500/uL for 1-6 / 7-13 / 14-30 days -> grade 1 / 2 / 3."""
    result = score("icaht_early", {"anc_per_uL": dip(5, length)})
    assert result["grade"] == expected
    assert result.provisional == ("P2",)


@pytest.mark.parametrize(("length", "expected"), [(6, 1), (7, 3), (13, 3), (14, 4)])
def test_icaht_early_profound_duration_bands(length: int, expected: int) -> None:
    assert early(dip(5, length, value=50))["grade"] == expected


def test_icaht_early_31_days_is_grade_4() -> None:
    assert early([400] * 30 + [600])["grade"] == 3
    assert early([400] * 31) == {"dur_le500": 31, "dur_le100": 0, "grade": 4}


@pytest.mark.parametrize(("start", "expected"), [(3, 4), (4, 3)])
def test_icaht_early_never_recovered_starts_by_day_3(start: int, expected: int) -> None:
    """PROVISIONAL P2: neutropenia from day <= 3 lasting to the last value is grade 4."""
    assert early(dip(start, 30, total=20))["grade"] == expected


def test_icaht_early_short_final_recovery_counts_as_recovered() -> None:
    assert early([WELL] + [400] * 15 + [WELL])["grade"] == 3


@pytest.mark.parametrize(("gap", "joined"), [(2, True), (3, False)])
def test_icaht_early_recoveries_shorter_than_3_days_join_runs(gap: int, joined: bool) -> None:
    series = [WELL] * 5 + [400] * 5 + [WELL] * gap + [400] * 5 + [WELL] * 10
    assert early(series)["dur_le500"] == (10 + gap if joined else 5)
    assert early(series, join_gap_days=gap - 1)["dur_le500"] == 5


def test_icaht_early_cumulative_duration_option() -> None:
    series = [WELL] * 3 + [400] * 5 + [WELL] * 5 + [400] * 4 + [WELL] * 14
    assert early(series)["dur_le500"] == 5
    assert early(series, duration_mode="cumulative") == {
        "dur_le500": 9,
        "dur_le100": 0,
        "grade": 2,
    }


def test_icaht_early_interpolates_interior_gaps() -> None:
    # Day 5 measured 600 and day 9 measured 200: days 6-8 interpolate to 500, 400, 300.
    series: list[int | None] = [WELL] * 5 + [600, None, None, None, 200] + [WELL] * 21
    result = score("icaht_early", {"anc_per_uL": series})
    assert result["dur_le500"] == 4
    assert result.components["interpolated_days"] == 3


@pytest.mark.parametrize(
    ("series", "evaluable"),
    [
        ([WELL] + [None] * 7 + [WELL] * 23, True),
        ([WELL] + [None] * 8 + [WELL] * 22, False),
        ([None] * 8 + [WELL] * 23, False),
        ([], False),
        ([None, None], False),
    ],
)
def test_icaht_early_not_evaluable(series: list[int | None], evaluable: bool) -> None:
    outputs = early(series)
    assert (outputs["grade"] is not None) is evaluable
    if not evaluable:
        assert outputs == {"dur_le500": None, "dur_le100": None, "grade": None}


def test_icaht_early_window_and_trailing_gaps() -> None:
    """Entries after day 30 are ignored; trailing unmeasured days end the series."""
    assert early([WELL] * 31 + [50] * 20)["grade"] == 0
    assert early([WELL, 300, 300, 300, 300, None, None])["grade"] == 4


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"anc_per_uL": [WELL, -5]}, "anc_per_uL.1"),
        ({"anc_per_uL": [WELL, "low"]}, "anc_per_uL.1"),
        ({"anc_per_uL": [WELL], "options": {"duration_mode": "sum"}}, "options.duration_mode"),
        ({"anc_per_uL": [WELL], "options": {"join_gap_days": -1}}, "options.join_gap_days"),
        ({}, "anc_per_uL"),
    ],
)
def test_icaht_early_rejects_invalid_input(record: dict[str, Any], field: str) -> None:
    assert raises_on("icaht_early", record) == field


# --- ICAHT late ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nadir", "expected"),
    [(1501, 0), (1500, 1), (1001, 1), (1000, 2), (501, 2), (500, 3), (101, 3), (100, 4), (0, 4)],
)
def test_icaht_late_thresholds(nadir: int, expected: int) -> None:
    assert grade("icaht_late", {"anc_per_uL": [nadir]}) == expected
    assert grade("icaht_late", {"anc_per_uL": [3000, nadir, 1500]}) == expected


@pytest.mark.parametrize(("second", "expected"), [(1501, 0), (1500, 4)])
def test_icaht_late_confirmation_is_provisional_p3(second: int, expected: int) -> None:
    """PROVISIONAL P3: one low value with the second-lowest above 1500/uL is a transient dip."""
    result = score("icaht_late", {"anc_per_uL": [second, 50, 4000]})
    assert result["grade"] == expected
    assert result.provisional == ("P3",)
    unconfirmed = {"anc_per_uL": [second, 50], "options": {"require_confirmation": False}}
    assert grade("icaht_late", unconfirmed) == 4


def test_icaht_late_rejects_missing_values_inside_the_list() -> None:
    assert raises_on("icaht_late", {"anc_per_uL": [500, None]}) == "anc_per_uL.1"


# --- Properties ------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)

OXYGEN_LADDER: list[dict[str, Any]] = [
    {"oxygen_device": "none"},
    {"oxygen_device": "blow_by"},
    {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2},
    {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 6.0},
    {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 6.1},
    {"oxygen_device": "hfnc"},
    {"oxygen_device": "venturi"},
    {"oxygen_device": "cpap"},
    {"oxygen_device": "mechanical_ventilation"},
]
VASOPRESSOR_LADDER: list[list[str]] = [
    [],
    ["vasopressin"],
    ["norepinephrine", "vasopressin"],
    ["norepinephrine", "epinephrine"],
    ["norepinephrine", "epinephrine", "dopamine"],
]
temperatures = st.decimals(min_value=35, max_value=42, places=1)


@st.composite
def crs_records(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "temp_c": draw(temperatures),
        "fever_other_cause": draw(st.booleans()),
        "hypotension": draw(st.booleans()),
        "vasopressors": draw(st.sampled_from(VASOPRESSOR_LADDER)),
        **draw(st.sampled_from(OXYGEN_LADDER)),
        "prior_antipyretic_or_anticytokine_for_crs": draw(st.booleans()),
        "death_due_to_crs": draw(st.booleans()),
    }


def _worse_on_ladder(ladder: list[Any], current: Any, draw: st.DrawFn) -> Any:
    return draw(st.sampled_from(ladder[ladder.index(current) :]))


@st.composite
def crs_worsenings(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A record and a copy that is worse in one input (higher temperature, more support, ...)."""
    base = draw(crs_records())
    oxygen = {k: v for k, v in base.items() if k.startswith("oxygen")}
    change: dict[str, Any] = draw(
        st.sampled_from(
            [
                {"temp_c": draw(st.decimals(min_value=base["temp_c"], max_value=42, places=1))},
                {"hypotension": True},
                {"vasopressors": _worse_on_ladder(VASOPRESSOR_LADDER, base["vasopressors"], draw)},
                _worse_on_ladder(OXYGEN_LADDER, oxygen, draw),
                {"death_due_to_crs": True},
            ]
        )
    )
    worse = {
        k: v for k, v in base.items() if not k.startswith("oxygen") or "oxygen_device" not in change
    }
    return base, {**worse, **change}


@PROPERTY_SETTINGS
@given(crs_worsenings())
def test_crs_grade_never_falls_when_one_input_worsens(pair: tuple[dict, dict]) -> None:
    base, worse = pair
    assert grade("astct_crs", worse) >= grade("astct_crs", base)


CONSCIOUSNESS = list(DOMAIN_GRADES["consciousness"])
ENUM_DOMAINS = {name: list(values) for name, values in DOMAIN_GRADES.items()}


@st.composite
def icans_worsenings(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    child = draw(st.booleans())
    tool, top, worst_first = ("capd", 32, False) if child else ("ice", 10, True)
    score_value = draw(st.none() | st.integers(0, top))
    base: dict[str, Any] = {"age_years": 6 if child else 40, tool: score_value}
    base |= {name: draw(st.sampled_from(values)) for name, values in ENUM_DOMAINS.items()}
    domain = draw(st.sampled_from([tool, *ENUM_DOMAINS]))
    if domain != tool:
        worse_value = _worse_on_ladder(ENUM_DOMAINS[domain], base[domain], draw)
    elif score_value is None:
        worse_value = None
    elif worst_first:  # lower ICE is worse
        worse_value = draw(st.none() | st.integers(0, score_value))
    else:  # higher CAPD is worse
        worse_value = draw(st.none() | st.integers(score_value, top))
    return base, {**base, domain: worse_value}


@PROPERTY_SETTINGS
@given(icans_worsenings())
def test_icans_grade_never_falls_when_one_domain_worsens(pair: tuple[dict, dict]) -> None:
    base, worse = pair
    assert grade("astct_icans", worse) >= grade("astct_icans", base)


HT_DIRECTIONS: dict[str, int] = {
    "platelets_per_uL": -1,
    "anc_per_uL": -1,
    "hb_g_dl": -1,
    "crp_mg_dl": 1,
    "ferritin_ng_ml": 1,
}
"""Direction in which each CAR-HEMATOTOX input gets worse."""


def plausible(field: str, value: Decimal) -> Decimal:
    """``value`` moved into the plausible range of ``field`` (the scores only see such values)."""
    quantity = QUANTITIES[field]
    if value < quantity.low:
        return Decimal(0) if quantity.zero else quantity.low
    return min(value, quantity.high)


lab_values = st.decimals(min_value=0, max_value=400000, places=1)


@PROPERTY_SETTINGS
@given(
    st.fixed_dictionaries(dict.fromkeys(HT_DIRECTIONS, lab_values)),
    st.sampled_from(sorted(HT_DIRECTIONS)),
    st.decimals(min_value=0, max_value=400000, places=1),
)
def test_hematotox_score_never_falls_when_one_input_worsens(
    drawn: dict[str, Decimal], field: str, step: Decimal
) -> None:
    base = {name: plausible(name, value) for name, value in drawn.items()}
    worse = {**base, field: plausible(field, base[field] + HT_DIRECTIONS[field] * step)}
    assert score("car_hematotox", worse)["score"] >= score("car_hematotox", base)["score"]


anc_values = st.just(0) | st.integers(10, 3000)
"""Plausible daily ANC in cells/uL (non-zero counts below 10/uL are refused as a unit slip)."""
anc_series = st.lists(anc_values, min_size=1, max_size=35)


@PROPERTY_SETTINGS
@given(anc_series, st.data(), st.sampled_from(["longest_run", "cumulative"]))
def test_icaht_early_never_falls_when_a_count_drops(
    series: list[int], data: st.DataObject, mode: str
) -> None:
    day = data.draw(st.integers(0, len(series) - 1))
    lower = [*series]
    lower[day] = data.draw(anc_values.filter(lambda value: value <= series[day]))
    before, after = early(series, duration_mode=mode), early(lower, duration_mode=mode)
    for name in ("grade", "dur_le500", "dur_le100"):
        assert after[name] >= before[name]


@PROPERTY_SETTINGS
@given(st.lists(anc_values, min_size=1, max_size=10), st.data())
def test_icaht_late_never_falls_when_a_count_drops(values: list[int], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(values) - 1))
    lower = [*values]
    lower[index] = data.draw(anc_values.filter(lambda value: value <= values[index]))
    assert grade("icaht_late", {"anc_per_uL": lower}) >= grade("icaht_late", {"anc_per_uL": values})


def test_icaht_late_second_value_can_reveal_a_transient_dip() -> None:
    """Adding a measurement is not a worsening: a lone low value is graded until a second one
    above 1500/uL shows it was transient (PROVISIONAL P3)."""
    assert grade("icaht_late", {"anc_per_uL": [0]}) == 4
    assert grade("icaht_late", {"anc_per_uL": [0, 1501]}) == 0


VALID: dict[str, dict[str, Any]] = {
    "astct_crs": {"temp_c": 38.5, "oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 3},
    "ice_score": ICE_FULL,
    "astct_icans": {"age_years": 40, "ice": 8},
    "car_hematotox": HT_BASE,
    "icaht_early": {"anc_per_uL": [WELL] * 31},
    "icaht_late": {"anc_per_uL": [WELL]},
}
nonsense = st.one_of(
    st.just(-1),
    st.just(-0.5),
    st.just(1e9),
    st.just(float("nan")),
    st.just(float("inf")),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=5),
    st.just([1, 2]),
    st.just({"x": 1}),
)
IMPOSSIBLE: dict[str, dict[str, Callable[[Any], bool]]] = {
    # Which corruptions each field can accept (skip values that happen to be valid).
    "astct_crs": {"temp_c": lambda v: True, "oxygen_flow_l_min": lambda v: v != 1e9},
    "ice_score": dict.fromkeys(ICE_FULL, lambda v: True),
    "astct_icans": {"age_years": lambda v: True, "ice": lambda v: True},
    "car_hematotox": dict.fromkeys(HT_BASE, lambda v: v != 1e9),
    "icaht_early": {"anc_per_uL": lambda v: v != 1e9},
    "icaht_late": {"anc_per_uL": lambda v: v != 1e9},
}


@PROPERTY_SETTINGS
@given(st.data())
def test_impossible_input_always_names_the_field(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(VALID)))
    field = data.draw(st.sampled_from(sorted(IMPOSSIBLE[key])))
    value = data.draw(nonsense.filter(IMPOSSIBLE[key][field]))
    record = {**VALID[key], field: [value] if key.startswith("icaht") else value}
    assert raises_on(key, record).split(".")[0] == field
