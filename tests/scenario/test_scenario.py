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

EXAMPLES = ("stein2019_typical.yaml", "park2025_sle_typical.yaml", "park2025_sle_population.yaml")


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_valid(examples_dir: Path, name: str) -> None:
    load_scenario(examples_dir / name)


def _base(examples_dir: Path) -> dict:
    return yaml.safe_load((examples_dir / "park2025_sle_typical.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "field", "allowed"),
    [
        (lambda d: d.update(colour="red"), "colour", "unknown keys are rejected"),
        (lambda d: d["product"]["dose"].update(value=-1.0), "product.dose.value", "greater than 0"),
        (lambda d: d["product"]["dose"].update(value=float("nan")), "product.dose.value", "finite"),
        (lambda d: d["product"]["dose"].update(unit="mg"), "product.dose.unit", "cells/kg"),
        (lambda d: d.pop("model"), "model", "required"),
        (lambda d: d.update(model="nope"), "model", "park2025"),
        (lambda d: d["population"].update(size=0), "population.size", "greater than or equal to 1"),
        (lambda d: d["population"].update(size=10**9), "population.size", "less than or equal"),
        (lambda d: d["population"].update(size="ten"), "population.size", "integer"),
        (lambda d: d["population"]["parameters"].update(wt=70), "population.parameters.wt", "kexp"),
        (lambda d: d.update(outputs=["b_cells_blood", "il6"]), "outputs[1]", "car_t_blood"),
        (
            lambda d: d["regimen"]["lymphodepletion"][0].update(amount_mg=-5),
            "amount_mg",
            "greater than or equal to 0",
        ),
        (lambda d: d.update(horizon_days=0), "horizon_days", "greater than 0"),
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
    with pytest.raises(ScenarioError, match="output times requested"):
        parse_scenario(data, "s.yaml")
