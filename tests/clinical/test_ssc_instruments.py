"""Systemic sclerosis instruments: thresholds on both sides, validation and properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immunoreset.clinical import REGISTRY, InstrumentInputError
from immunoreset.clinical.ssc import acr_eular_2013, criss, eustar, mrss

SITES = tuple(mrss.MrssSites.model_fields)


def sites(**scores: int) -> dict[str, int]:
    return {site: scores.get(site, 0) for site in SITES}


def field_of(score: Any, record: Any) -> str:
    with pytest.raises(InstrumentInputError) as info:
        score(record)
    return info.value.field


# --- mRSS -------------------------------------------------------------------------------------


def test_mrss_has_17_sites_and_range_0_to_51() -> None:
    assert len(SITES) == 17
    assert mrss.score({"sites": sites()})["mrss"] == 0
    assert mrss.score({"sites": {site: 3 for site in SITES}})["mrss"] == 51


def test_mrss_missing_site_is_an_error_by_default() -> None:
    partial = sites()
    del partial["feet_l"]
    assert field_of(mrss.score, {"sites": partial}) == "sites.feet_l"
    assert field_of(mrss.score, {"sites": {**partial, "feet_l": None}}) == "sites.feet_l"


def test_mrss_allow_partial_gives_none_never_a_partial_sum() -> None:
    partial = {**sites(face=3), "feet_l": None}
    result = mrss.score({"sites": partial, "options": {"allow_partial": True}})
    assert result["mrss"] is None
    assert result.options == {"allow_partial": True}
    assert result.components["missing_sites"] == ["feet_l"]
    assert mrss.score({"sites": sites()}).options == {"allow_partial": False}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"sites": sites(face=-1)}, "sites.face"),
        ({"sites": sites(hands_r=1.5)}, "sites.hands_r"),
        ({"sites": sites(abdomen=True)}, "sites.abdomen"),
        ({"sites": {**sites(), "nose": 1}}, "sites.nose"),
        ({"sites": sites(), "colour": "red"}, "colour"),
        ({}, "sites"),
    ],
)
def test_mrss_rejects_impossible_input(record: dict[str, Any], field: str) -> None:
    assert field_of(mrss.score, record) == field


@given(st.fixed_dictionaries({site: st.integers(0, 3) for site in SITES}), st.sampled_from(SITES))
def test_mrss_raising_one_site_never_lowers_the_total(scores: dict[str, int], site: str) -> None:
    raised = {**scores, site: min(scores[site] + 1, 3)}
    before = mrss.score({"sites": scores})["mrss"]
    assert mrss.score({"sites": raised})["mrss"] >= before
    assert before == sum(scores.values())


@given(
    st.sampled_from(SITES),
    st.one_of(st.integers(max_value=-1), st.integers(min_value=4), st.booleans()),
)
def test_mrss_impossible_site_score_names_the_site(site: str, value: Any) -> None:
    assert field_of(mrss.score, {"sites": sites(**{site: value})}) == f"sites.{site}"


# --- mRSS change over 12 months ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "followup", "improved", "progressed"),
    [
        (24, 18, True, False),  # 6 points, exactly 25 %
        (25, 19, False, False),  # 6 points, 24 %
        (24, 19, False, False),  # 5 points is not more than 5
        (20, 14, True, False),  # 6 points, 30 %
        (24, 30, False, True),  # rise of 6 points, exactly 25 %
        (25, 31, False, False),  # rise of 6 points, 24 %
        (40, 30, True, False),  # 10 points, exactly 25 %
        (40, 31, False, False),  # 9 points, 22.5 %
        (0, 6, False, True),  # from 0, any rise above 5 is progression
        (0, 5, False, False),
        (51, 0, True, False),
    ],
)
def test_mrss_change_thresholds(
    baseline: int, followup: int, improved: bool, progressed: bool
) -> None:
    result = mrss.score_change({"mrss_baseline": baseline, "mrss_12m": followup})
    assert result.outputs == {"improved": improved, "progressed": progressed}


def test_mrss_change_not_evaluable_and_invalid() -> None:
    result = mrss.score_change({"mrss_baseline": None, "mrss_12m": 10})
    assert result.outputs == {"improved": None, "progressed": None}
    assert field_of(mrss.score_change, {"mrss_baseline": 52, "mrss_12m": 10}) == "mrss_baseline"
    assert field_of(mrss.score_change, {"mrss_baseline": 10}) == "mrss_12m"


@given(st.integers(0, 51), st.integers(0, 51))
def test_mrss_change_matches_the_cross_multiplied_rule(baseline: int, followup: int) -> None:
    result = mrss.score_change({"mrss_baseline": baseline, "mrss_12m": followup})
    fall, rise = baseline - followup, followup - baseline
    assert result["improved"] is (fall > 5 and 4 * fall >= baseline)
    assert result["progressed"] is (rise > 5 and 4 * rise >= baseline)


# --- revised EUSTAR activity index ------------------------------------------------------------

QUIET = {"mrss": 10, "crp_mg_dl": 0.3, "dlco_pct_pred": 85}


def eustar_score(**items: Any) -> Any:
    return eustar.score({**QUIET, **items})


@pytest.mark.parametrize(
    ("items", "index", "active"),
    [
        ({"delta_skin": True, "dlco_pct_pred": 69.9}, 2.5, True),  # exactly on the cut-off
        ({"delta_skin": True, "dlco_pct_pred": 70}, 1.5, False),
        ({"tendon_friction_rubs": True}, 2.25, False),  # just below the cut-off
        ({"tendon_friction_rubs": True, "dlco_pct_pred": 50}, 3.25, True),
        ({"mrss": 18, "digital_ulcers": True}, 1.5, False),
        ({"mrss": 19, "digital_ulcers": True}, 3.0, True),
        ({"crp_mg_dl": 1.0, "delta_skin": True}, 1.5, False),
        ({"crp_mg_dl": 1.01}, 2.25, False),
        ({"crp_mg_dl": 1.01, "delta_skin": True}, 3.75, True),
        (
            {
                "delta_skin": True,
                "mrss": 51,
                "digital_ulcers": True,
                "tendon_friction_rubs": True,
                "crp_mg_dl": 9,
                "dlco_pct_pred": 30,
            },
            10.0,
            True,
        ),
    ],
)
def test_eustar_weighted_sum_at_cut_offs(items: dict[str, Any], index: float, active: bool) -> None:
    result = eustar_score(**items)
    assert result.outputs == {"score": index, "active": active}


@pytest.mark.parametrize(("crp_mg_l", "points"), [(10, 0.0), (10.1, 2.25), (Decimal("10.0"), 0.0)])
def test_eustar_crp_in_mg_per_litre(crp_mg_l: Any, points: float) -> None:
    record = {"mrss": 10, "crp_mg_l": crp_mg_l, "dlco_pct_pred": 85}
    assert eustar.score(record).components["points"]["crp_gt_1_mg_dl"] == points


def test_eustar_crp_must_be_given_in_exactly_one_unit() -> None:
    both = {**QUIET, "crp_mg_l": 3}
    assert field_of(eustar.score, both) == "crp_mg_l"
    assert field_of(eustar.score, {"mrss": 10, "dlco_pct_pred": 85}) == "crp_mg_dl"


def test_eustar_missing_measure_is_not_evaluable() -> None:
    result = eustar.score({**QUIET, "dlco_pct_pred": None, "delta_skin": True})
    assert result.outputs == {"score": None, "active": None}
    assert result.components["points"]["delta_skin"] == 1.5


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({"mrss": 52}, "mrss"),
        ({"crp_mg_dl": -0.1}, "crp_mg_dl"),
        ({"dlco_pct_pred": -1}, "dlco_pct_pred"),
        ({"dlco_pct_pred": float("nan")}, "dlco_pct_pred"),
        ({"digital_ulcers": "sometimes"}, "digital_ulcers"),
        ({"digital_ulcers": None}, "digital_ulcers"),
        ({"esr": 30}, "esr"),
    ],
)
def test_eustar_rejects_impossible_input(items: dict[str, Any], field: str) -> None:
    assert field_of(eustar.score, {**QUIET, **items}) == field


EUSTAR_RECORDS = st.fixed_dictionaries(
    {
        "delta_skin": st.booleans(),
        "mrss": st.integers(0, 51),
        "digital_ulcers": st.booleans(),
        "tendon_friction_rubs": st.booleans(),
        "crp_mg_dl": st.decimals(0, 20, places=2),
        "dlco_pct_pred": st.decimals(0, 150, places=1),
    }
)


def worsen(record: dict[str, Any], item: str, step: Decimal) -> dict[str, Any]:
    """The same visit with one item worse: a flag set, mRSS or CRP higher, DLCO lower."""
    value = record[item]
    if isinstance(value, bool):
        return {**record, item: True}
    if item == "mrss":
        return {**record, item: min(value + int(step * 10), 51)}
    if item == "dlco_pct_pred":
        return {**record, item: max(value - step, Decimal(0))}
    return {**record, item: value + step}


@given(
    EUSTAR_RECORDS,
    st.sampled_from(
        [
            "delta_skin",
            "digital_ulcers",
            "tendon_friction_rubs",
            "mrss",
            "crp_mg_dl",
            "dlco_pct_pred",
        ]
    ),
    st.decimals(0, 5, places=2),
)
def test_eustar_worsening_an_item_never_lowers_the_index(
    record: dict[str, Any], item: str, step: Decimal
) -> None:
    before = eustar.score(record)
    after = eustar.score(worsen(record, item, step))
    assert after["score"] >= before["score"]
    assert after["active"] >= before["active"]
    assert after["active"] is (after["score"] >= 2.5)


@given(
    EUSTAR_RECORDS,
    st.sampled_from(["mrss", "crp_mg_dl", "dlco_pct_pred"]),
    st.integers(-1000, -1),
)
def test_eustar_impossible_measure_names_the_field(
    record: dict[str, Any], item: str, value: int
) -> None:
    assert field_of(eustar.score, {**record, item: value}) == item


# --- 2013 ACR/EULAR classification ------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "total", "classified"),
    [
        ({"sclerodactyly": True, "raynaud": True, "telangiectasia": True}, 9, True),
        ({"puffy_fingers": True, "raynaud": True, "anticentromere": True}, 8, False),
        ({"sclerodactyly": True, "puffy_fingers": True}, 4, False),  # highest item only
        ({"pitting_scars": True, "digital_tip_ulcers": True}, 3, False),
        ({"digital_tip_ulcers": True}, 2, False),
        ({"pah": True, "ild": True}, 2, False),
        (
            {
                "anticentromere": True,
                "anti_topoisomerase_i": True,
                "anti_rna_polymerase_iii": True,
            },
            3,
            False,
        ),
        ({}, 0, False),
    ],
)
def test_ssc_2013_categories_and_cut_off(
    items: dict[str, bool], total: int, classified: bool
) -> None:
    result = acr_eular_2013.score(items)
    assert result.outputs == {"applicable": True, "score": total, "classified_ssc": classified}


def test_ssc_2013_maximum_is_24() -> None:
    everything = {name: True for name in acr_eular_2013.AcrEular2013SscRecord.model_fields}
    for name in acr_eular_2013.EXCLUSIONS:
        everything[name] = False
    assert acr_eular_2013.score(everything)["score"] == 24


def test_ssc_2013_not_applicable_differs_from_negative() -> None:
    result = acr_eular_2013.score({"skin_proximal_to_mcp": True, "better_explained_by_mimic": True})
    assert result.outputs == {"applicable": False, "score": None, "classified_ssc": None}
    assert result.components == {"excluded_by": ["better_explained_by_mimic"]}


def test_ssc_2013_rejects_unknown_item() -> None:
    assert field_of(acr_eular_2013.score, {"morphea": True}) == "morphea"


# --- ACR-CRISS --------------------------------------------------------------------------------

NO_CHANGE = {"d_mrss": 0, "d_fvc_pct": 0, "d_pt_global": 0, "d_md_global": 0, "d_haq": 0}


@pytest.mark.parametrize(
    "step1",
    [
        {"new_renal_crisis": True},
        {"new_lv_failure_lvef_le45_requiring_treatment": True},
        {"new_pah_requiring_treatment": True},
        {"fvc_decline": {"baseline": 80, "followup": 68, "confirmed": True, "hrct_ild": True}},
    ],
)
def test_criss_step1_event_forces_probability_zero(step1: dict[str, Any]) -> None:
    result = criss.score({**NO_CHANGE, "d_mrss": -20, "step1": step1})
    assert result.outputs == {"probability": 0.0, "improved": False}
    assert result.provisional == ()


@pytest.mark.parametrize(
    "fvc",
    [
        {"baseline": 80, "followup": 68.1, "confirmed": True, "hrct_ild": True},  # 14.9 % decline
        {"baseline": 100, "followup": 80, "confirmed": True, "hrct_ild": True},  # FVC not < 80
        {"baseline": 80, "followup": 60, "confirmed": False, "hrct_ild": True},
        {"baseline": 80, "followup": 60, "confirmed": True},  # no ILD on HRCT
    ],
)
def test_criss_fvc_decline_that_does_not_trigger_step1(fvc: dict[str, Any]) -> None:
    assert criss.step1_events(criss.CrissStep1(fvc_decline=fvc)) == []


@pytest.mark.parametrize(
    ("d_mrss", "improved"),
    [("-7.34", False), ("-7.3401", True)],  # L = 0.4054, 0.405481 around ln 1.5 = 0.4054651
)
def test_criss_cut_off_is_applied_to_the_exact_logit(d_mrss: str, improved: bool) -> None:
    result = criss.score({**NO_CHANGE, "d_mrss": d_mrss})
    assert result["improved"] is improved
    assert result["probability"] == pytest.approx(0.6, abs=1e-4)


def test_criss_relies_on_provisional_p6_coefficient_signs() -> None:
    result = criss.score(NO_CHANGE)
    assert result.provisional == ("P6",)
    assert REGISTRY["acr_criss"].provisional_items == ("P6",)
    assert "P6" in (criss.__doc__ or "")


def test_criss_missing_change_is_not_evaluable() -> None:
    result = criss.score({**NO_CHANGE, "d_haq": None})
    assert result.outputs == {"probability": None, "improved": None}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**NO_CHANGE, "d_pt_global": 11}, "d_pt_global"),
        ({**NO_CHANGE, "d_haq": -3.5}, "d_haq"),
        ({**NO_CHANGE, "d_mrss": 60}, "d_mrss"),
        (
            {**NO_CHANGE, "step1": {"fvc_decline": {"baseline": 0, "followup": 50}}},
            "step1.fvc_decline.baseline",
        ),
        ({**NO_CHANGE, "step1": {"scleroderma_crisis": True}}, "step1.scleroderma_crisis"),
        ({k: v for k, v in NO_CHANGE.items() if k != "d_fvc_pct"}, "d_fvc_pct"),
    ],
)
def test_criss_rejects_impossible_input(record: dict[str, Any], field: str) -> None:
    assert field_of(criss.score, record) == field
