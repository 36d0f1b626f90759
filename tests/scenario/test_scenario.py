"""Scenario files: the examples are valid; each kind of mistake gets a one-line error naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from immunoreset.scenario.load import (
    ScenarioError,
    load_scenario,
    output_times,
    parse_scenario,
)

EXAMPLES = (
    "stein2019_typical.yaml",
    "park2025_sle_typical.yaml",
    "park2025_sle_population.yaml",
    "integrated_population_endpoints.yaml",
)


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_valid(examples_dir: Path, name: str) -> None:
    load_scenario(examples_dir / name)


def _base(examples_dir: Path) -> dict:
    return yaml.safe_load((examples_dir / "park2025_sle_typical.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "field", "allowed"),
    [
        (lambda d: d.update(colour="red"), "colour", "unknown keys are rejected"),
        (lambda d: d["product"]["dose"].update(value=-1.0), "product.dose.value", "a number > 0"),
        (lambda d: d["product"]["dose"].update(value=float("nan")), "product.dose.value", "finite"),
        (lambda d: d["product"]["dose"].update(unit="mg"), "product.dose.unit", "cells/kg"),
        (lambda d: d.pop("model"), "model", "required"),
        (lambda d: d.update(model="nope"), "model", "park2025"),
        (lambda d: d["population"].update(size=0), "population.size", "a number >= 1"),
        (lambda d: d["population"].update(size=10**9), "population.size", "a number <= 10000000"),
        (lambda d: d["population"].update(size="ten"), "population.size", "a whole number"),
        (lambda d: d["population"]["parameters"].update(wt=70), "population.parameters.wt", "kexp"),
        (lambda d: d.update(outputs=["b_cells_blood", "il6"]), "outputs[1]", "car_t_blood"),
        (
            lambda d: d["regimen"]["lymphodepletion"][0].update(amount_mg=-5),
            "amount_mg",
            "a number >= 0",
        ),
        (lambda d: d.update(horizon_days=0), "horizon_days", "a number > 0"),
        (lambda d: d.update(output_times={"every_days": 1, "days": [1]}), "output_times", "one of"),
    ],
)
def test_errors_name_field_value_and_allowed(examples_dir: Path, edit, field: str,
                                             allowed: str) -> None:  # fmt: skip
    data = _base(examples_dir)
    edit(data)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "s.yaml")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("s.yaml: ")
    assert field in msg
    assert allowed.lower() in msg.lower()


def test_stein_has_no_lymphodepletion_input(examples_dir: Path) -> None:
    data = yaml.safe_load((examples_dir / "stein2019_typical.yaml").read_text())
    data["regimen"]["lymphodepletion"] = [{"day": -3, "amount_mg": 100}]
    with pytest.raises(ScenarioError, match=r"regimen\.lymphodepletion"):
        parse_scenario(data)


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: park2025\nproduct: [unclosed\n")
    with pytest.raises(ScenarioError, match="well-formed YAML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="readable"):
        load_scenario(tmp_path / "missing.yaml")


def test_output_times(examples_dir: Path) -> None:
    s = load_scenario(examples_dir / "stein2019_typical.yaml")
    np.testing.assert_array_equal(output_times(s), np.arange(0.0, 366.0))
    data = _base(examples_dir)
    data["output_times"] = {"days": [0, 7, 28, 90]}
    assert list(output_times(parse_scenario(data))) == [0, 7, 28, 90]


def test_tiny_output_step_is_a_clear_error(examples_dir: Path) -> None:
    data = _base(examples_dir)
    data["output_times"] = {"every_days": 5e-324}
    expected = r"output_times\.every_days: got 5e-324; allowed: a grid of at most 100000"
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(data, "s.yaml")


def test_messages_use_the_projects_words(examples_dir: Path) -> None:
    """No pydantic phrasing ("Input should be", "validation error") reaches the user."""
    data = _base(examples_dir)
    data["population"]["variability"] = "maybe"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "s.yaml")
    assert str(info.value).endswith("allowed: true or false")
    assert "Input should" not in str(info.value)


def test_duplicate_yaml_key_is_rejected(tmp_path: Path, examples_dir: Path) -> None:
    text = (examples_dir / "park2025_sle_typical.yaml").read_text()
    path = tmp_path / "dup.yaml"
    path.write_text(text + "\nhorizon_days: 10\n")
    with pytest.raises(ScenarioError, match="'horizon_days' is given twice"):
        load_scenario(path)


def test_fractions_above_the_dose_are_rejected(examples_dir: Path) -> None:
    data = _base(examples_dir)
    data["regimen"]["infusions"] = [{"day": 0, "fraction": 0.5}, {"day": 7, "fraction": 0.6}]
    with pytest.raises(ScenarioError, match=r"fractions adding to 1\.1"):
        parse_scenario(data, "s.yaml")
    data["regimen"]["infusions"] = [{"day": 0, "fraction": 0.5}, {"day": 7, "fraction": 0.5}]
    parse_scenario(data, "s.yaml")


def test_cd4_cd8_shares_above_100_percent_are_rejected(examples_dir: Path) -> None:
    data = _base(examples_dir)
    data["product"]["composition"] = {"pct_cd4": 80.0}
    with pytest.raises(ScenarioError, match=r"product\.composition: got 'pct_cd4 80, pct_cd8 23"):
        parse_scenario(data, "s.yaml")


@pytest.mark.parametrize(
    ("infusions", "field"),
    [
        ([{"day": 14}], r"regimen\.infusions\[0\]\.day: got 14\.0"),
        ([{"day": 0, "fraction": 0.3}], r"regimen\.infusions\[0\]\.fraction"),
        ([{"day": 0, "fraction": 0.3}, {"day": 0, "fraction": 0.3}], r"regimen\.infusions: got"),
    ],
)
def test_stein_accepts_only_its_single_dose(examples_dir: Path, infusions, field: str) -> None:
    """Stein 2019 switches to contraction at absolute day Tmax and seeds a fixed level per
    infusion: a later or split infusion would silently give wrong kinetics."""
    data = yaml.safe_load((examples_dir / "stein2019_typical.yaml").read_text())
    data["regimen"]["infusions"] = infusions
    with pytest.raises(ScenarioError, match=field) as info:
        parse_scenario(data, "s.yaml")
    assert "single-dose model" in str(info.value)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_devices_are_refused_quickly(device: str) -> None:
    with pytest.raises(ScenarioError, match="a file under 1000000 bytes"):
        load_scenario(device)
