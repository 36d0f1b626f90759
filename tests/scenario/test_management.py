"""The scenario's management section: validation and its mapping onto the policy parameters."""

from __future__ import annotations

import pytest

from immunoreset.scenario.load import (
    ScenarioError,
    check_scenario,
    parameter_overrides,
    parse_scenario,
)

BASE = {
    "model": "integrated",
    "product": {"catalogue": "cd19-41bb-erlangen"},
    "horizon_days": 30,
}


def _checked(**extra):
    scenario = parse_scenario({**BASE, **extra})
    check_scenario(scenario, "s.yaml")
    return scenario


def test_policy_maps_onto_the_model_parameters() -> None:
    scenario = _checked(
        management={
            "tocilizumab": {"at_crs_grade": None, "prophylactic_day": -0.5},
            "corticosteroids": {"at_icans_grade": 3},
        }
    )
    policy = {k: v for k, v in parameter_overrides(scenario).items() if k.startswith("policy_")}
    assert policy == {
        "policy_toci_crs_grade": 0.0,
        "policy_toci_prophylaxis": 1.0,
        "policy_toci_prophylaxis_day": -0.5,
        "policy_steroid_crs_grade": 3.0,
        "policy_steroid_icans_grade": 3.0,
        "policy_steroid_prophylaxis": 0.0,
        "policy_steroid_prophylaxis_day": 0.0,
    }


def test_without_a_section_the_model_defaults_apply() -> None:
    assert not any(k.startswith("policy_") for k in parameter_overrides(_checked()))


@pytest.mark.parametrize(
    ("management", "field", "allowed"),
    [
        ({"tocilizumab": {"at_crs_grade": 5}}, "management.tocilizumab.at_crs_grade", "<= 4"),
        ({"corticosteroids": {"at_icans_grade": 0}}, "at_icans_grade", ">= 1"),
        ({"toci": {}}, "management.toci", "no such key"),
    ],
)
def test_bad_policy_names_the_field(management, field, allowed) -> None:
    with pytest.raises(ScenarioError) as err:
        _checked(management=management)
    assert field in str(err.value) and allowed in str(err.value)


def test_model_without_a_policy_rejects_the_section() -> None:
    with pytest.raises(ScenarioError) as err:
        _checked(
            model="park2025",
            product={"dose": {"value": 1e6, "unit": "cells/kg"}},
            management={"tocilizumab": {"at_crs_grade": 1}},
        )
    message = str(err.value)
    assert "management" in message and "park2025" in message and "integrated" in message
