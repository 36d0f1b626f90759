"""Myositis instruments: band edges on both sides, validation, PROVISIONAL items and properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immunoreset.clinical import REGISTRY, InstrumentInputError
from immunoreset.clinical.iim import doi, eular_acr_2017, mmt8, tis

STEADY = {
    "mdga": [5, 5],
    "ptga": [5, 5],
    "mmt": [60, 60],
    "haq": [1.5, 1.5],
    "enzyme": [2000, 2000],
    "extramuscular": [4, 4],
}
"""Six core set measures without any change."""


def field_of(score: Any, record: Any) -> str:
    with pytest.raises(InstrumentInputError) as info:
        score(record)
    return info.value.field


def tis_record(population: str = "adult", mmt_max: int = 80, **measures: Any) -> dict[str, Any]:
    return {**STEADY, **measures, "mmt_max": mmt_max, "population": population}


# --- Total Improvement Score --------------------------------------------------------------------


def pair_improving_by(name: str, percent: Decimal) -> list[float]:
    """A ``[baseline, follow-up]`` pair whose TIS improvement percentage is exactly ``percent``."""
    if name == "mmt":  # range mmt_max = 80, higher is better
        return [0.0, float(percent * Decimal("0.8"))]
    if name == "enzyme":  # relative to a baseline of 1000
        return [1000.0, float(1000 - percent * 10)]
    scale = Decimal(3) if name == "haq" else Decimal(10)
    return [float(scale), float(scale - percent * scale / 100)]


EDGE_CASES = [
    (name, edges[index], bump, index + (bump > 0))
    for name in tis.POINTS
    for edges in [tis.MMT_LEVEL_EDGES if name == "mmt" else tis.LEVEL_EDGES]
    for index in range(4)
    for bump in (Decimal(0), Decimal("0.1"))
]


@pytest.mark.parametrize(("name", "edge", "bump", "level"), EDGE_CASES)
def test_tis_level_edges_are_closed_above(name: str, edge: int, bump: Decimal, level: int) -> None:
    """An improvement exactly on a band edge stays in the lower level; 0.1 % more moves up."""
    result = tis.score(tis_record(**{name: pair_improving_by(name, edge + bump)}))
    assert result.components["measures"][name]["level"] == level
    assert result["tis"] == float(tis.POINTS[name][level])


@pytest.mark.parametrize(
    ("population", "total", "category"),
    [
        ("adult", "17.5", "none"),
        ("adult", "20", "minimal"),
        ("adult", "37.5", "minimal"),
        ("adult", "40", "moderate"),
        ("adult", "57.5", "moderate"),
        ("adult", "60", "major"),
        ("juvenile", "27.5", "none"),
        ("juvenile", "30", "minimal"),
        ("juvenile", "42.5", "minimal"),
        ("juvenile", "45", "moderate"),
        ("juvenile", "67.5", "moderate"),
        ("juvenile", "70", "major"),
    ],
)
def test_tis_category_cut_offs(population: str, total: str, category: str) -> None:
    assert tis.category(Decimal(total), population) == category


@pytest.mark.parametrize(
    ("measures", "total", "category"),
    [
        ({"mdga": [8, 2]}, 20.0, "minimal"),  # 60 % -> 20 points, exactly on the cut-off
        ({"mdga": [8, 4]}, 17.5, "none"),  # 40 % -> 17.5 points
        ({"mdga": [8, 2], "extramuscular": [8, 2]}, 40.0, "moderate"),
        ({"mdga": [8, 2], "extramuscular": [8, 2], "mmt": [40, 52]}, 60.0, "major"),
        (
            {"mdga": [8, 2], "extramuscular": [8, 4], "mmt": [40, 52], "ptga": [5, 4]},
            57.5,
            "moderate",
        ),
    ],
)
def test_tis_total_on_either_side_of_adult_cut_offs(
    measures: dict[str, Any], total: float, category: str
) -> None:
    result = tis.score(tis_record(**measures))
    assert result.outputs == {"tis": total, "category": category}


def test_tis_worsening_never_subtracts() -> None:
    worse = tis_record(mdga=[2, 9], ptga=[1, 10], mmt=[80, 0], haq=[0, 3], enzyme=[100, 9000])
    assert tis.score(worse).outputs == {"tis": 0.0, "category": "none"}


def test_tis_missing_measure_gives_none_unless_option_set() -> None:
    record = {**tis_record(mdga=[8, 2]), "haq": [1.0, None]}
    assert tis.score(record).outputs == {"tis": None, "category": None}
    assert tis.score(record).options == {"score_available_items": False}
    result = tis.score({**record, "options": {"score_available_items": True}})
    assert result.outputs == {"tis": 20.0, "category": "minimal"}
    assert result.flags == ("scored_available_items_only",)
    assert result.components["missing_measures"] == ["haq"]


def test_tis_with_no_measure_at_all_is_not_evaluable() -> None:
    record = {"mmt_max": 80, "population": "adult", "options": {"score_available_items": True}}
    assert tis.score(record).outputs == {"tis": None, "category": None}


def test_tis_relies_on_provisional_p7_formulas_and_p8_for_150_points() -> None:
    assert tis.score(tis_record()).provisional == ("P7",)
    bilateral = tis_record(mmt_max=150, mmt=[120, 135])
    assert tis.score(bilateral).provisional == ("P7", "P8")
    assert REGISTRY["myositis_tis_2016"].provisional_items == ("P7", "P8")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (tis_record(mmt=[60, 81]), "mmt.1"),
        (tis_record(mmt_max=100), "mmt_max"),
        (tis_record(population="child"), "population"),
        (tis_record(enzyme=[0, 100]), "enzyme.0"),
        (tis_record(enzyme=[-5, 100]), "enzyme.0"),
        (tis_record(mdga=[5, 11]), "mdga.1"),
        (tis_record(haq=[3.1, 1]), "haq.0"),
        (tis_record(ptga=[5]), "ptga.1"),
        ({**tis_record(), "cmas": [40, 45]}, "cmas"),
        ({k: v for k, v in tis_record().items() if k != "mmt_max"}, "mmt_max"),
    ],
)
def test_tis_rejects_impossible_input(record: dict[str, Any], field: str) -> None:
    assert field_of(tis.score, record) == field


VAS_MEASURES = ("mdga", "ptga", "extramuscular")


@given(
    st.sampled_from(VAS_MEASURES),
    st.decimals(0, 10, places=1),
    st.decimals(0, 10, places=1),
    st.decimals(0, 10, places=1),
)
def test_tis_lower_follow_up_vas_never_lowers_the_score(
    name: str, baseline: Decimal, followup: Decimal, better: Decimal
) -> None:
    lower = min(followup, better)
    before = tis.score(tis_record(**{name: [baseline, followup]}))["tis"]
    assert tis.score(tis_record(**{name: [baseline, lower]}))["tis"] >= before


@given(
    st.sampled_from(VAS_MEASURES),
    st.sampled_from([0, 1]),
    st.one_of(
        st.decimals(min_value=Decimal("10.01"), allow_nan=False, allow_infinity=False),
        st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False),
    ),
)
def test_tis_impossible_vas_names_the_measure(name: str, index: int, value: Decimal) -> None:
    pair = [5, 5]
    pair[index] = value
    assert field_of(tis.score, tis_record(**{name: pair})) == f"{name}.{index}"


# --- IMACS definition of improvement (2004) -----------------------------------------------------

IMPROVED_THREE = {**STEADY, "mdga": [5, 4], "ptga": [5, 4], "haq": [1.0, 0.8]}


@pytest.mark.parametrize(
    ("measures", "improved"),
    [
        ({}, True),  # three measures improved by exactly 20 %
        ({"haq": [1.0, 0.81]}, False),  # 19 %: only two improved
        ({"enzyme": [2000, 2500], "extramuscular": [4, 5]}, True),  # two worsened by 25 %
        ({"enzyme": [2000, 2500], "extramuscular": [4, 5], "mmt": [60, 60]}, True),
        ({"enzyme": [2000, 2500], "extramuscular": [4, 5], "mmt": [60, 45]}, False),  # three
        ({"mmt": [60, 45]}, False),  # MMT worsened by exactly 25 %
        ({"mmt": [60, 45.1]}, True),  # MMT worse by 24.8 %: not a worsening
        ({"extramuscular": [0, 0]}, True),  # 0 -> 0 neither improves nor worsens
    ],
)
def test_doi_thresholds(measures: dict[str, Any], improved: bool) -> None:
    assert doi.score({**IMPROVED_THREE, **measures})["improved"] is improved


@pytest.mark.parametrize(
    ("name", "pair", "status"),
    [
        ("mdga", [0, 0], (False, False)),  # cannot improve from 0
        ("mdga", [0, 0.1], (False, True)),  # any rise from 0 is a worsening
        ("mmt", [0, 10], (False, False)),
        ("enzyme", [1000, 1250], (False, True)),
        ("enzyme", [1000, 1249], (False, False)),
        ("mmt", [50, 60], (True, False)),
        ("mmt", [50, 59.9], (False, False)),
    ],
)
def test_doi_classify_measure(name: str, pair: list[float], status: tuple[bool, bool]) -> None:
    baseline, followup = (Decimal(str(value)) for value in pair)
    assert doi.classify(name, (baseline, followup)) == status


def test_doi_missing_measure_and_provisional_p9() -> None:
    result = doi.score({k: v for k, v in IMPROVED_THREE.items() if k != "enzyme"})
    assert result["improved"] is None
    assert result.provisional == ("P9",)
    assert result.options == {"baseline_zero_rule": "cannot_improve_any_rise_worsens"}
    assert REGISTRY["imacs_doi_2004"].provisional_items == ("P9",)


@pytest.mark.parametrize(
    ("measures", "field"),
    [
        ({"enzyme": [1000, -1]}, "enzyme.1"),
        ({"mmt": [151, 60]}, "mmt.0"),
        ({"cmas": [1, 2]}, "cmas"),
    ],
)
def test_doi_rejects_impossible_input(measures: dict[str, Any], field: str) -> None:
    assert field_of(doi.score, {**IMPROVED_THREE, **measures}) == field


# --- 2017 EULAR/ACR IIM classification ----------------------------------------------------------


@pytest.mark.parametrize(
    ("biopsy", "age", "items", "total", "category"),
    [
        (False, 45, ["neck_flexors_weaker_than_extensors", "elevated_enzymes"], "5.3", "possible"),
        (
            False,
            30,
            [
                "neck_flexors_weaker_than_extensors",
                "dysphagia_or_esophageal_dysmotility",
                "elevated_enzymes",
            ],
            "5.2",
            "not_iim",
        ),
        (False, 30, ["legs_proximal_weaker_than_distal", "gottron_sign"], "5.5", "probable"),
        (
            False,
            30,
            ["gottron_papules", "dysphagia_or_esophageal_dysmotility", "elevated_enzymes"],
            "5.4",
            "possible",
        ),
        (  # float summation in this order gives 7.499999999999999
            False,
            30,
            [
                "weak_prox_upper",
                "legs_proximal_weaker_than_distal",
                "gottron_sign",
                "elevated_enzymes",
            ],
            "7.5",
            "definite",
        ),
        (
            False,
            30,
            ["legs_proximal_weaker_than_distal", "anti_jo1", "elevated_enzymes"],
            "7.4",
            "probable",
        ),
        (True, 30, ["anti_jo1", "elevated_enzymes"], "6.7", "probable"),  # float: 6.699999999999999
        (
            True,
            45,
            ["weak_prox_lower", "gottron_papules", "bx_perimysial_or_perivascular_infiltrate"],
            "6.6",
            "possible",
        ),
        (True, 45, ["neck_flexors_weaker_than_extensors", "gottron_papules"], "6.5", "possible"),
        (
            True,
            45,
            [
                "dysphagia_or_esophageal_dysmotility",
                "bx_endomysial_infiltrate",
                "bx_perifascicular_atrophy",
            ],
            "6.4",
            "not_iim",
        ),
        (
            True,
            45,
            [
                "neck_flexors_weaker_than_extensors",
                "gottron_sign",
                "bx_perimysial_or_perivascular_infiltrate",
            ],
            "8.7",
            "definite",
        ),
        (
            True,
            45,
            ["elevated_enzymes", "bx_perifascicular_atrophy", "bx_rimmed_vacuoles"],
            "8.6",
            "probable",
        ),
    ],
)
def test_iim_score_cut_offs_on_both_sides(
    biopsy: bool, age: int, items: list[str], total: str, category: str
) -> None:
    result = eular_acr_2017.score({"biopsy": biopsy, "age_at_onset": age, "items": items})
    assert result["score"] == float(Decimal(total))
    assert result["category_by_score"] == category


@pytest.mark.parametrize(
    ("age", "biopsy", "points"),
    [
        (17.99, False, "0"),
        (18, False, "1.3"),
        (39.9, True, "1.5"),
        (40, False, "2.1"),
        (40, True, "2.2"),
    ],
)
def test_iim_age_bands(age: float, biopsy: bool, points: str) -> None:
    result = eular_acr_2017.score({"biopsy": biopsy, "age_at_onset": age})
    assert result.components["age_points"] == float(Decimal(points))


@pytest.mark.parametrize(
    ("biopsy", "items", "required"),
    [
        (False, ["weak_prox_upper", "anti_jo1"], True),
        (False, ["gottron_sign"], False),
        (True, ["weak_prox_upper", "bx_rimmed_vacuoles"], False),
        (True, [], True),
    ],
)
def test_iim_biopsy_required_flag(biopsy: bool, items: list[str], required: bool) -> None:
    result = eular_acr_2017.score({"biopsy": biopsy, "age_at_onset": 50, "items": items})
    assert result["biopsy_required_for_classification"] is required


def test_iim_unknown_age_is_not_evaluable() -> None:
    result = eular_acr_2017.score({"biopsy": False, "age_at_onset": None, "items": ["anti_jo1"]})
    assert result.outputs == {
        "score": None,
        "category_by_score": None,
        "biopsy_required_for_classification": True,
    }


def test_iim_probability_is_provisional_p10_and_information_only() -> None:
    result = eular_acr_2017.score({"biopsy": False, "age_at_onset": 45, "items": ["heliotrope"]})
    assert result.provisional == ("P10",)
    assert "probability" not in result.outputs
    assert result.components["probability"] == pytest.approx(1 / (1 + 2.718281828459045**0.13))


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"biopsy": False, "age_at_onset": 50, "items": ["bx_rimmed_vacuoles"]}, "items"),
        ({"biopsy": True, "age_at_onset": 50, "items": ["heliotrope", "heliotrope"]}, "items"),
        ({"biopsy": True, "age_at_onset": 50, "items": ["anti_mda5"]}, "items.0"),
        ({"biopsy": True, "age_at_onset": -1}, "age_at_onset"),
        ({"age_at_onset": 50}, "biopsy"),
    ],
)
def test_iim_rejects_impossible_input(record: dict[str, Any], field: str) -> None:
    assert field_of(eular_acr_2017.score, record) == field


@given(st.text(min_size=1).filter(lambda text: text not in eular_acr_2017.WEIGHTS))
def test_iim_unknown_item_names_the_items_field(item: str) -> None:
    record = {"biopsy": True, "age_at_onset": 50, "items": ["heliotrope", item]}
    assert field_of(eular_acr_2017.score, record) == "items.1"


# --- MMT-8 -------------------------------------------------------------------------------------

UNILATERAL = dict.fromkeys(mmt8.FORM_GROUPS["unilateral"], 10)
BILATERAL = dict.fromkeys(mmt8.FORM_GROUPS["bilateral"], 10)


def test_mmt8_unilateral_total_is_80_points_and_verified() -> None:
    result = mmt8.score({**UNILATERAL, "quadriceps": 7, "side": "right"})
    assert result.outputs == {"mmt_total": 77, "mmt_max": 80}
    assert result.provisional == ()


def test_mmt8_bilateral_total_is_provisional_p8() -> None:
    result = mmt8.score({**BILATERAL, "form": "bilateral"})
    assert len(BILATERAL) == 15
    assert result.outputs == {"mmt_total": 150, "mmt_max": 150}
    assert result.provisional == ("P8",)


def test_mmt8_missing_group_gives_none() -> None:
    result = mmt8.score({**UNILATERAL, "biceps": None})
    assert result["mmt_total"] is None
    assert result.components["missing_groups"] == ["biceps"]


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**UNILATERAL, "deltoid": 11}, "deltoid"),
        ({**UNILATERAL, "deltoid": True}, "deltoid"),
        ({**UNILATERAL, "deltoid": 7.5}, "deltoid"),
        ({**UNILATERAL, "deltoid_r": 8}, "deltoid_r"),
        ({**BILATERAL, "form": "bilateral", "biceps": 8}, "biceps"),
        ({**BILATERAL, "form": "bilateral", "side": "left"}, "side"),
        ({**UNILATERAL, "form": "both"}, "form"),
        ({**UNILATERAL, "hamstrings": 9}, "hamstrings"),
    ],
)
def test_mmt8_rejects_impossible_input(record: dict[str, Any], field: str) -> None:
    assert field_of(mmt8.score, record) == field
