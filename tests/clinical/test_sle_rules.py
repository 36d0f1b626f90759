"""SLE instruments at each threshold, on both sides, and under each configurable option."""

from __future__ import annotations

from typing import Any

import pytest

from immunoreset.clinical import InstrumentInputError, score
from immunoreset.clinical.sle.classification import CRITERIA, domain_points
from immunoreset.clinical.sle.common import meets, three_valued_and
from immunoreset.clinical.sle.lldas import standard_maintenance
from immunoreset.clinical.sle.sledai import (
    CLINICAL_SLEDAI_MAX,
    SLEDAI_2K_MAX,
    SLEDAI_WEIGHTS,
    sledai_points,
)

# --- SLEDAI-2K -------------------------------------------------------------------------------


def sledai(**record: Any) -> int:
    return score("sledai_2k", {"items": [], **record})["sledai_2k"]


def test_sledai_weight_table() -> None:
    weights = sorted(SLEDAI_WEIGHTS.values(), reverse=True)
    assert weights == [8] * 8 + [4] * 6 + [2] * 7 + [1] * 3
    assert (SLEDAI_2K_MAX, CLINICAL_SLEDAI_MAX) == (105, 101)


@pytest.mark.parametrize(
    ("raw", "points"),
    [
        ({"temp_c": 38.0}, 0),
        ({"temp_c": 38.1}, 1),
        ({"platelets_1e9_L": 100}, 0),
        ({"platelets_1e9_L": 99.9}, 1),
        ({"wbc_1e9_L": 3.0}, 0),
        ({"wbc_1e9_L": 2.99}, 1),
        ({"proteinuria_g_24h": 0.5}, 0),
        ({"proteinuria_g_24h": 0.501}, 4),
        ({"rbc_per_hpf": 5}, 0),
        ({"rbc_per_hpf": 6}, 4),
        ({"wbc_per_hpf": 5}, 0),
        ({"wbc_per_hpf": 5.5}, 4),
        ({"inflamed_joint_count": 1}, 0),
        ({"inflamed_joint_count": 2}, 4),
    ],
)
def test_sledai_raw_thresholds_are_strict(raw: dict[str, Any], points: int) -> None:
    assert sledai(raw=raw) == points


@pytest.mark.parametrize(("joints", "points"), [(2, 0), (3, 4)])
def test_sledai_arthritis_rule_of_1992_wording(joints: int, points: int) -> None:
    result = score(
        "sledai_2k",
        {"items": [], "raw": {"inflamed_joint_count": joints}, "options": {"arthritis_rule": ">2"}},
    )
    assert result["sledai_2k"] == points
    assert result.options["arthritis_rule"] == ">2"


def test_sledai_raw_values_never_switch_an_item_off() -> None:
    assert sledai(items=["fever", "proteinuria"], raw={"temp_c": 36.6}) == 5
    assert sledai(items=["proteinuria"], raw={"proteinuria_g_24h": 2.0}) == 4


def test_sledai_duplicates_count_once() -> None:
    assert sledai(items=["rash", "rash", "arthritis"], raw={"inflamed_joint_count": 4}) == 6


@pytest.mark.parametrize("window_days", [10, 30])
def test_sledai_window_option_is_reported_and_leaves_weights(window_days: int) -> None:
    result = score("sledai_2k", {"items": ["seizure"], "options": {"window_days": window_days}})
    assert result["sledai_2k"] == 8
    assert result.options == {
        "arthritis_rule": ">=2",
        "window_days": window_days,
        "variant": "SLEDAI-2K",
    }


def test_sledai_window_other_than_10_or_30_is_rejected() -> None:
    with pytest.raises(InstrumentInputError) as raised:
        sledai(options={"window_days": 14})
    assert raised.value.field == "options.window_days"


def test_sledai_points_helper() -> None:
    items = ["low_complement", "increased_dna_binding", "myositis"]
    assert sledai_points(items) == 8
    assert sledai_points(items, clinical=True) == 4
    with pytest.raises(InstrumentInputError) as raised:
        sledai_points(["nephritis"])
    assert raised.value.field == "items"


# --- DORIS 2021 ------------------------------------------------------------------------------


def doris(**record: Any) -> tuple[bool, bool]:
    base = {"clinical_sledai": 0, "pga": 0, "prednisolone_mg_day": 0}
    result = score("doris_2021", {**base, **record})
    return result["doris_remission_on_treatment"], result["doris_remission_off_treatment"]


@pytest.mark.parametrize(
    ("dose", "rule", "on_treatment"),
    [(5.0, "<=5", True), (5.1, "<=5", False), (5.0, "<5", False), (4.9, "<5", True)],
)
def test_doris_prednisolone_limit(dose: float, rule: str, on_treatment: bool) -> None:
    options = {"steroid_rule": rule}
    assert doris(prednisolone_mg_day=dose, options=options) == (on_treatment, False)


@pytest.mark.parametrize(
    ("pga", "rule", "on_treatment", "off_treatment"),
    [
        (0.4, "<0.5", True, True),
        (0.5, "<0.5", False, True),
        (0.5, "<=0.5", True, True),
        (0.6, "<=0.5", False, False),
        (0.6, "<0.5", False, False),
    ],
)
def test_doris_pga_limit(pga: float, rule: str, on_treatment: bool, off_treatment: bool) -> None:
    """On treatment: the 2021 definition, "cSLEDAI=0 and PhGA <0.5" (final recommendation, Table 2
    of van Vollenhoven 2021), or the option. Off treatment is the 2017 framework's category and
    keeps its wording, "SELENA-SLEDAI PGA <=0.5 (scale 0-3)" (DORIS definitions as tabulated in
    Table 1 of doi:10.1093/rheumatology/keaa420, PMC7719036): a drug-free PGA of exactly 0.5 is
    in remission off treatment although not in the 2021 on-treatment remission."""
    assert doris(pga=pga, options={"pga_rule": rule}) == (on_treatment, off_treatment)


def test_doris_off_treatment_allows_antimalarials_only() -> None:
    assert doris(antimalarial="stable") == (True, True)
    assert doris(immunosuppressive="stable") == (True, False)
    assert doris(biologic="stable") == (True, False)
    assert doris(antimalarial="changed") == (False, False)


def test_doris_ignores_serology_and_informational_total() -> None:
    assert doris(sledai_2k_total_for_info=4) == (True, True)
    assert doris(clinical_sledai=1) == (False, False)


# --- LLDAS -----------------------------------------------------------------------------------


def lldas(**record: Any) -> bool | None:
    base = {"sledai_items": [], "previous_sledai_items": [], "pga": 0, "prednisolone_mg_day": 0}
    return score("lldas", {**base, **record})["lldas"]


@pytest.mark.parametrize(
    ("field", "passing", "failing"),
    [("pga", 1.0, 1.1), ("prednisolone_mg_day", 7.5, 7.6)],
)
def test_lldas_limits(field: str, passing: float, failing: float) -> None:
    assert lldas(**{field: passing}) is True
    assert lldas(**{field: failing}) is False


def test_lldas_sledai_at_most_4_serology_allowed() -> None:
    serology = ["low_complement", "increased_dna_binding"]
    assert lldas(sledai_items=serology, previous_sledai_items=serology) is True
    items = ["arthritis", "leukopenia"]
    assert lldas(sledai_items=items, previous_sledai_items=items) is False


@pytest.mark.parametrize("item", ["fever", "pleurisy", "vasculitis", "hematuria", "cva"])
def test_lldas_any_major_organ_item_fails(item: str) -> None:
    assert lldas(sledai_items=[item], previous_sledai_items=[item]) is False


def test_lldas_major_organ_mapping_is_an_option() -> None:
    record = {
        "sledai_items": ["fever"],
        "previous_sledai_items": ["fever"],
        "pga": 0,
        "prednisolone_mg_day": 0,
        "options": {"major_organ_items": ["cva"]},
    }
    result = score("lldas", record)
    assert result["lldas"] is True
    assert result.options == {"major_organ_items": ("cva",)}


@pytest.mark.parametrize("flag", ["hemolytic_anemia", "gi_activity", "investigational_drug"])
def test_lldas_true_flags_fail(flag: str) -> None:
    assert lldas(**{flag: True}) is False


def test_lldas_nonstandard_maintenance_fails() -> None:
    assert lldas(immunosuppressants_standard_maintenance=False) is False


def test_lldas_first_visit_is_not_evaluable_unless_another_criterion_fails() -> None:
    result = score(
        "lldas",
        {"sledai_items": [], "previous_sledai_items": None, "pga": 0, "prednisolone_mg_day": 0},
    )
    assert result["lldas"] is None
    assert result.flags == ("no_previous_assessment",)
    assert lldas(previous_sledai_items=None, pga=2) is False


def test_lldas_previous_items_are_required() -> None:
    with pytest.raises(InstrumentInputError) as raised:
        score("lldas", {"sledai_items": [], "pga": 0, "prednisolone_mg_day": 0})
    assert raised.value.field == "previous_sledai_items"


@pytest.mark.parametrize(
    ("doses", "within"),
    [
        ({"methotrexate": 30, "hydroxychloroquine": 400}, True),
        ({"methotrexate": 30.5}, False),
        ({"mycophenolic_acid": 2160}, True),
        ({"mycophenolate_mofetil": 3001}, False),
        ({}, True),
    ],
)
def test_golder_maintenance_doses(doses: dict[str, float], within: bool) -> None:
    assert standard_maintenance(doses) is within


@pytest.mark.parametrize(
    ("doses", "field"),
    [({"rituximab": 1000}, "doses_mg.rituximab"), ({"azathioprine": -50}, "doses_mg.azathioprine")],
)
def test_golder_helper_rejects_unknown_drugs_and_negative_doses(
    doses: dict[str, float], field: str
) -> None:
    with pytest.raises(InstrumentInputError) as raised:
        standard_maintenance(doses)
    assert raised.value.field == field


# --- SRI-4 -----------------------------------------------------------------------------------


def sri(**record: Any) -> bool:
    base = {
        "sledai_baseline": 10,
        "sledai_followup": 6,
        "pga_baseline": 1.0,
        "pga_followup": 1.0,
        "bilag_baseline": {},
        "bilag_followup": {},
    }
    return score("sri_4", {**base, **record})["sri4"]


@pytest.mark.parametrize(("followup", "responds"), [(7, False), (6, True), (0, True)])
def test_sri4_sledai_reduction_of_4(followup: int, responds: bool) -> None:
    assert sri(sledai_followup=followup) is responds


def test_sri_min_reduction_option() -> None:
    assert sri(options={"min_reduction": 5}) is False
    assert sri(sledai_followup=5, options={"min_reduction": 5}) is True


def test_sri4_baseline_below_4_cannot_respond() -> None:
    assert sri(sledai_baseline=3, sledai_followup=0) is False


@pytest.mark.parametrize(("pga_followup", "responds"), [(1.29, True), (1.3, False)])
def test_sri4_pga_worsening_below_0_3(pga_followup: float, responds: bool) -> None:
    assert sri(pga_followup=pga_followup) is responds


def test_sri4_bilag_one_new_b_allowed_p5() -> None:
    """PROVISIONAL P5: one new B is tolerated, a second new B or any new A is not."""
    assert sri(bilag_followup={"renal": "B"}) is True
    assert sri(bilag_followup={"renal": "B", "musculoskeletal": "B"}) is False
    assert sri(bilag_followup={"ophthalmic": "A"}) is False
    assert sri(bilag_baseline={"renal": "A"}, bilag_followup={"renal": "A"}) is True


# --- BICLA -----------------------------------------------------------------------------------


def bicla(**record: Any) -> bool | None:
    base = {
        "bilag_baseline": {"renal": "A"},
        "bilag_followup": {"renal": "C"},
        "sledai_baseline": 8,
        "sledai_followup": 8,
        "pga_baseline": 2.0,
        "pga_followup": 2.0,
    }
    return score("bicla", {**base, **record})["bicla"]


@pytest.mark.parametrize(
    ("baseline", "followup", "responds"),
    [(2.0, 2.2, True), (2.0, 2.21, False), (1.0, 1.1, True), (0, 0.1, False), (0, 0, True)],
)
def test_bicla_pga_rise_at_most_10pct(baseline: float, followup: float, responds: bool) -> None:
    assert bicla(pga_baseline=baseline, pga_followup=followup) is responds


@pytest.mark.parametrize(("followup", "responds"), [(1.29, True), (1.3, False)])
def test_bicla_absolute_pga_rule(followup: float, responds: bool) -> None:
    options = {"pga_rule": "absolute_0_3"}
    assert bicla(pga_baseline=1.0, pga_followup=followup, options=options) is responds


@pytest.mark.parametrize(("followup", "responds"), [(8, True), (9, False)])
def test_bicla_sledai_must_not_rise(followup: int, responds: bool) -> None:
    assert bicla(sledai_followup=followup) is responds


@pytest.mark.parametrize(
    ("baseline", "followup", "responds"),
    [("A", "B", True), ("A", "A", False), ("B", "C", True), ("B", "B", False), ("A", "E", True)],
)
def test_bicla_every_active_domain_improves(baseline: str, followup: str, responds: bool) -> None:
    assert bicla(bilag_baseline={"renal": baseline}, bilag_followup={"renal": followup}) is responds


def test_bicla_new_flares_and_treatment_failure() -> None:
    assert bicla(bilag_followup={"renal": "C", "ophthalmic": "B"}) is True
    assert bicla(bilag_followup={"renal": "C", "ophthalmic": "B", "constitutional": "B"}) is False
    assert bicla(bilag_followup={"renal": "C", "ophthalmic": "A"}) is False
    assert bicla(treatment_failure=True) is False


def test_bicla_not_applicable_without_baseline_a_or_b() -> None:
    record = {
        "bilag_baseline": {"renal": "C"},
        "bilag_followup": {"renal": "D"},
        "sledai_baseline": 8,
        "sledai_followup": 2,
        "pga_baseline": 1,
        "pga_followup": 0,
    }
    result = score("bicla", record)
    assert result["bicla"] is None
    assert result.flags == ("no_baseline_a_or_b_domain",)


# --- EULAR/ACR 2019 --------------------------------------------------------------------------


def classify(**record: Any) -> dict[str, Any]:
    return score("eular_acr_2019_sle", record).outputs


@pytest.mark.parametrize(("titer", "entry"), [(40, False), (80, True), (0, False)])
def test_sle2019_entry_titre(titer: int, entry: bool) -> None:
    assert classify(ana_titer_denominator=titer, criteria=[])["entry_criterion"] is entry


def test_sle2019_equivalent_positive_test_enters() -> None:
    outputs = classify(ana_equivalent_positive=True, criteria=["lupus_nephritis_class_III_or_IV"])
    assert outputs["entry_criterion"] is True
    assert outputs["classified_sle"] is True


def test_sle2019_only_the_highest_criterion_per_domain_counts() -> None:
    criteria = ["non_scarring_alopecia", "oral_ulcers", "acute_cutaneous_lupus"]
    assert domain_points(criteria) == {"mucocutaneous": 6}
    assert classify(ana_titer_denominator=80, criteria=criteria)["score"] == 6
    assert sum(domain_points(c.key for c in CRITERIA).values()) == 51


def test_sle2019_immunological_points_alone_never_classify() -> None:
    criteria = ["antiphospholipid_antibodies", "low_c3_and_low_c4", "anti_dsdna_or_anti_smith"]
    outputs = classify(ana_titer_denominator=1280, criteria=criteria)
    assert outputs["score"] == 12
    assert outputs["has_clinical_criterion"] is False
    assert outputs["classified_sle"] is False


def test_sle2019_needs_one_ana_field() -> None:
    with pytest.raises(InstrumentInputError) as raised:
        classify(criteria=["fever"])
    assert raised.value.field == "ana_titer_denominator"


# --- shared helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule", "holds"),
    [(5, "<=5", True), (5, "<5", False), (2, ">=2", True), (2, ">2", False), (38, ">38", False)],
)
def test_meets(value: int, rule: str, holds: bool) -> None:
    assert meets(value, rule) is holds


@pytest.mark.parametrize(
    ("values", "combined"),
    [((True, True), True), ((True, None), None), ((None, False), False), ((), True)],
)
def test_three_valued_and(values: tuple[bool | None, ...], combined: bool | None) -> None:
    assert three_valued_and(values) is combined
