"""Laboratory instruments: both sides of every cut-off, validation, and invariance properties."""

from __future__ import annotations

import math
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunoreset.clinical import InstrumentInputError, score

BCELL = "b_cell_aplasia_reconstitution"


def raises_on(key: str, record: Any) -> str:
    """Score ``record`` expecting an input error; return the field it names."""
    with pytest.raises(InstrumentInputError) as raised:
        score(key, record)
    return raised.value.field


def bcell(samples: list[list[Any]], **options: Any) -> dict[str, Any]:
    return score(BCELL, {"samples": samples, **options}).outputs


# --- B-cell aplasia and reconstitution -------------------------------------------------------


@pytest.mark.parametrize(("value", "onset"), [(1.0, None), (0.99, 7), ("<LLOQ", 7), (0, 7)])
def test_bcell_aplasia_is_strictly_below_threshold(value: Any, onset: int | None) -> None:
    """CONVENTION: aplastic iff value < 1 cell/uL; <LLOQ counts as 0."""
    assert bcell([[0, 100], [7, value], [14, 50], [21, 60]])["aplasia_onset_day"] == onset


def test_bcell_never_aplastic_has_no_times() -> None:
    outputs = bcell([[0, 100], [7, 1.0], [14, 50]])
    assert outputs == dict.fromkeys(
        ("aplasia_onset_day", "reconstitution_day", "aplasia_duration_days", "censored")
    )


@pytest.mark.parametrize(("value", "recovered"), [(5, True), (4.99, False)])
def test_bcell_recovery_is_at_or_above_threshold(value: float, recovered: bool) -> None:
    outputs = bcell([[0, 80], [7, 0], [60, value], [70, value], [80, 0]], recovery_threshold=5)
    assert (outputs["reconstitution_day"] == 60) is recovered
    assert outputs["censored"] is not recovered


def test_bcell_single_high_value_is_a_blip() -> None:
    outputs = bcell([[0, 80], [7, 0], [30, 4], [45, 0.5], [60, 3], [90, 8]])
    assert outputs == {
        "aplasia_onset_day": 7,
        "reconstitution_day": 60,
        "aplasia_duration_days": 53,
        "censored": False,
    }


def test_bcell_rise_on_last_sample_cannot_be_confirmed() -> None:
    outputs = bcell([[0, 80], [7, 0], [60, 0], [90, 25]])
    assert outputs["reconstitution_day"] is None
    assert outputs["aplasia_duration_days"] == 83
    assert outputs["censored"] is True


def test_bcell_drops_pre_infusion_samples_and_sorts() -> None:
    ordered = bcell([[0, 80], [7, 0], [60, 3], [70, 4]])
    assert bcell([[70, 4], [-5, 0], [60, 3], [7, 0], [0, 80]]) == ordered


def test_bcell_days_and_values_layout_matches_samples() -> None:
    samples = [[0, 150], [7, "<LLOQ"], [110, 3], [120, 12]]
    split = {"days": [d for d, _ in samples], "values": [v for _, v in samples]}
    assert score(BCELL, split).outputs == bcell(samples)


def test_bcell_reports_thresholds_and_units() -> None:
    result = score(
        BCELL,
        {
            "samples": [[0, 20], [7, 0.5], [60, 2], [70, 3]],
            "unit": "percent_of_lymphocytes",
            "aplasia_threshold": 1,
            "recovery_threshold": 2,
        },
    )
    assert result["reconstitution_day"] == 60
    assert result.options == {
        "unit": "percent_of_lymphocytes",
        "aplasia_threshold": 1,
        "recovery_threshold": 2,
    }


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"samples": [[0, 10], [0, 5]]}, "samples"),
        ({"days": [0, 7, 7], "values": [10, 5, 2]}, "days"),
        ({"samples": [[0, -1]]}, "samples.0.1"),
        ({"samples": [[0, "<LOQ"]]}, "samples.0.1"),
        ({"samples": [[0, True]]}, "samples.0.1"),
        ({"samples": [[0, 5]], "days": [0], "values": [5]}, "samples"),
        ({}, "samples"),
        ({"days": [0, 7]}, "values"),
        ({"days": [0, 7], "values": [5]}, "values"),
        ({"samples": [[0, 5]], "recovery_threshold": 0.5}, "recovery_threshold"),
        ({"samples": [[0, 5]], "aplasia_threshold": 0}, "aplasia_threshold"),
        ({"samples": [[0, 120]], "unit": "percent_of_lymphocytes"}, "samples.0"),
        ({"samples": [[0, 5]], "unit": "cells_per_L"}, "unit"),
    ],
)
def test_bcell_rejects_invalid_input(record: dict[str, Any], field: str) -> None:
    assert raises_on(BCELL, record) == field


# --- Hypogammaglobulinaemia ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "severe"),
    [
        ({"igg_g_L": 3.99}, True),
        ({"igg_g_L": 4.0}, False),
        ({"igg_g_L": 4.0, "severe_rule": "<="}, True),
        ({"igg_g_L": 4.01, "severe_rule": "<="}, False),
        ({"igg_mg_dL": 399}, True),
        ({"igg_mg_dL": 400}, False),
        ({"igg_g_L": 4.5, "severe_threshold_g_L": 5}, True),
    ],
)
def test_igg_severe_threshold(record: dict[str, Any], severe: bool) -> None:
    """VERIFIED 4.0 g/L (400 mg/dL); CONVENTION: strict < unless severe_rule is "<="."""
    assert score("hypogammaglobulinemia", record)["severe_hypogammaglobulinemia"] is severe


@pytest.mark.parametrize(
    ("record", "below"),
    [
        ({"igg_g_L": 6.99}, True),
        ({"igg_g_L": 7.0}, False),
        ({"igg_g_L": 7.5, "igg_lln_g_L": 8}, True),
    ],
)
def test_igg_below_lower_limit_of_normal(record: dict[str, Any], below: bool) -> None:
    assert score("hypogammaglobulinemia", record)["below_lln"] is below


@pytest.mark.parametrize(
    ("days", "window", "confounded"),
    [(None, 28, False), (0, 28, True), (28, 28, True), (29, 28, False), (29, 30, True)],
)
def test_igg_recent_replacement_confounds(days: int | None, window: int, confounded: bool) -> None:
    record = {"igg_g_L": 8, "days_since_ivig": days, "ivig_window_days": window}
    result = score("hypogammaglobulinemia", record)
    assert result["ivig_confounded"] is confounded
    assert result.options["ivig_window_days"] == window


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"igg_g_L": -1}, "igg_g_L"),
        ({"igg_mg_dL": -100}, "igg_mg_dL"),
        ({}, "igg_g_L"),
        ({"igg_g_L": 5, "igg_mg_dL": 500}, "igg_g_L"),
        ({"igg_g_L": 5, "severe_rule": "<<"}, "severe_rule"),
        ({"igg_g_L": 5, "days_since_ivig": -1}, "days_since_ivig"),
        ({"igg_g_L": 5, "days_since_ivig": True}, "days_since_ivig"),
        ({"igg_g_L": 5, "igg_lln_g_L": 0}, "igg_lln_g_L"),
    ],
)
def test_igg_rejects_invalid_input(record: dict[str, Any], field: str) -> None:
    assert raises_on("hypogammaglobulinemia", record) == field


# --- CAR-T cellular kinetics (NCA) -----------------------------------------------------------


def nca(times: list[float], levels: list[float], **extra: Any) -> dict[str, Any]:
    return score("car_pk_nca", {"times_d": times, "levels": levels, **extra}).outputs


LINEAR = {"options": {"auc_method": "linear"}}
"""Hand sums below are linear trapezoids; the default rule is linear-up/log-down."""


def test_pk_lloq_excludes_low_levels_from_cmax_and_clast() -> None:
    outputs = nca([0, 7, 14, 28, 35], [0, 1000, 500, 49, 60], lloq=50, **LINEAR)
    assert outputs["clast"] == 60
    assert outputs["tlast_d"] == 35
    # The level of 49 on day 28 is below the LLOQ and counts as 0 in the AUC.
    assert outputs["auc_0_28d"] == pytest.approx(3500 + 5250 + 250 * 14, abs=1e-6)
    assert nca([0, 7, 28], [0, 50, 50], lloq=50)["cmax"] == 50


def test_pk_without_quantifiable_level_is_not_evaluable() -> None:
    outputs = nca([0, 7, 28], [0, 10, 0], lloq=20)
    assert set(outputs.values()) == {None}


def test_pk_auc_needs_sampling_to_day_28() -> None:
    assert nca([0, 7, 27.9], [0, 100, 50])["auc_0_28d"] is None
    linear = nca([0, 7, 28], [0, 100, 50], **LINEAR)
    assert linear["auc_0_28d"] == pytest.approx(350 + 75 * 21, abs=1e-6)
    assert linear["auc_0_28d_method"] == "linear"


def test_pk_tmax_ties_take_the_earliest_time() -> None:
    assert nca([0, 7, 14, 28], [0, 900, 900, 10])["tmax_d"] == 7


def test_pk_input_order_is_irrelevant() -> None:
    assert nca([28, 0, 14, 7], [100, 0, 500, 1000]) == nca([0, 7, 14, 28], [0, 1000, 500, 100])


def test_pk_linear_up_log_down_is_the_default_and_matches_exponential_decline() -> None:
    """Default (as in the endpoints library): on a falling segment the log trapezoid is exact for
    exponential decay; the AUC output names the rule. Tolerance 1e-6 absolute: the log trapezoid
    and the closed form are both evaluated in doubles."""
    outputs = nca([0, 7, 14, 35], [0, 1600, 800, 100])
    k = math.log(2) / 7
    rise = 1600 * 7 / 2
    fall = 1600 * (1 - math.exp(-k * 21)) / k
    assert outputs["auc_0_28d"] == pytest.approx(rise + fall, abs=1e-6)
    assert outputs["auc_0_28d_method"] == "linear_up_log_down"
    linear = nca([0, 7, 14, 35], [0, 1600, 800, 100], **LINEAR)["auc_0_28d"]
    assert linear > outputs["auc_0_28d"]
    assert score("car_pk_nca", {"times_d": [0, 28], "levels": [0, 1]}).options == {
        "auc_method": "linear_up_log_down"
    }


def test_pk_default_matches_the_endpoints_default() -> None:
    from immunoreset.clinical.laboratory.pk_nca import PkOptions
    from immunoreset.endpoints.config import EndpointConfig

    assert PkOptions().auc_method == EndpointConfig().car_auc_method


@pytest.mark.parametrize(
    ("points", "expected"),
    [([14, 21], None), ([14, 21, 28, 35], 7.0), ([21, 28, 35], 7.0)],
)
def test_pk_half_life(points: list[int], expected: float | None) -> None:
    outputs = nca([0, 7, 14, 21, 28, 35], [0, 1600, 800, 400, 200, 100], half_life_points=points)
    if expected is None:
        assert outputs["t_half_d"] is None
    else:
        assert outputs["t_half_d"] == pytest.approx(expected, abs=1e-6)


def test_pk_half_life_of_a_rising_tail_is_none() -> None:
    outputs = nca([0, 7, 14, 21, 28], [0, 1600, 10, 20, 40], half_life_points=[14, 21, 28])
    assert outputs["t_half_d"] is None


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"times_d": [0, 7], "levels": [0]}, "levels"),
        ({"times_d": [0, 7, 7], "levels": [0, 1, 2]}, "times_d"),
        ({"times_d": [0, 7], "levels": [0, -1]}, "levels.1"),
        ({"times_d": [0, 7], "levels": [0, "n/a"]}, "levels.1"),
        ({"times_d": [0, 7], "levels": [0, 1], "lloq": 0}, "lloq"),
        (
            {"times_d": [0, 7], "levels": [0, 1], "options": {"auc_method": "log"}},
            "options.auc_method",
        ),
        (
            {"times_d": [0, 7, 14, 21], "levels": [0, 9, 5, 2], "half_life_points": [7, 14, 21]},
            "half_life_points.0",
        ),
        (
            {"times_d": [0, 7, 14, 21], "levels": [0, 9, 5, 2], "half_life_points": [14, 21, 30]},
            "half_life_points.2",
        ),
        (
            {"times_d": [0, 7, 14, 21], "levels": [0, 9, 5, 0], "half_life_points": [14, 14, 21]},
            "half_life_points.1",
        ),
    ],
)
def test_pk_rejects_invalid_input(record: dict[str, Any], field: str) -> None:
    assert raises_on("car_pk_nca", record) == field


# --- Properties ------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)
levels = st.one_of(st.just(0), st.decimals(min_value=0, max_value=10000, places=2))
profiles = st.dictionaries(st.integers(-7, 60), levels, min_size=1, max_size=12)


@PROPERTY_SETTINGS
@given(profiles, st.randoms(use_true_random=False))
def test_pk_and_bcell_do_not_depend_on_input_order(profile: dict[int, Any], rng: Any) -> None:
    pairs = list(profile.items())
    shuffled = rng.sample(pairs, len(pairs))
    for key, record in (
        ("car_pk_nca", lambda p: {"times_d": [t for t, _ in p], "levels": [c for _, c in p]}),
        (BCELL, lambda p: {"samples": [list(pair) for pair in p]}),
    ):
        assert score(key, record(pairs)).outputs == score(key, record(shuffled)).outputs


@PROPERTY_SETTINGS
@given(profiles)
def test_pk_auc_is_bounded_by_cmax(profile: dict[int, Any]) -> None:
    outputs = nca(list(profile), list(profile.values()))
    if outputs["auc_0_28d"] is not None:
        assert 0 <= outputs["auc_0_28d"] <= 28 * outputs["cmax"] + 1e-6


VALID: dict[str, dict[str, Any]] = {
    BCELL: {"samples": [[0, 100], [7, 0]], "aplasia_threshold": 1},
    "hypogammaglobulinemia": {"igg_g_L": 6, "igg_lln_g_L": 7},
    "car_pk_nca": {"times_d": [0, 7], "levels": [0, 10], "lloq": 1},
}
nonsense = st.one_of(
    st.just(-1),
    st.just(-0.5),
    st.just(float("nan")),
    st.just(float("-inf")),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=5),
    st.just({"x": 1}),
)
FIELDS: dict[str, tuple[str, ...]] = {
    BCELL: ("samples", "aplasia_threshold"),
    "hypogammaglobulinemia": ("igg_g_L", "igg_lln_g_L"),
    "car_pk_nca": ("times_d", "levels", "lloq"),
}
LISTS = {"samples", "times_d", "levels"}


@PROPERTY_SETTINGS
@given(st.data())
def test_impossible_input_always_names_the_field(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(VALID)))
    field = data.draw(st.sampled_from(FIELDS[key]))
    # A negative sample time is valid (a pre-infusion sample, dropped), so not drawn for times_d.
    value = data.draw(nonsense.filter(lambda v: field != "times_d" or v not in (-1, -0.5)))
    if field == "samples":
        value = [[0, 100], [7, value]]
    elif field in LISTS:
        value = [value, 10]
    assert raises_on(key, {**VALID[key], field: value}).split(".")[0] == field
