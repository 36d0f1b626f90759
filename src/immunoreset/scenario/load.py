"""Reading and checking scenario files; turning a scenario into simulation inputs.

Every problem becomes a :class:`ScenarioError` whose message is one line naming the file, the field
path, the offending value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from immunoreset.model.core import Model
from immunoreset.model.registry import MODELS, get_model
from immunoreset.scenario.schema import Scenario
from immunoreset.therapy.regimen import (
    CAR_INPUT,
    LYMPHODEPLETION_INPUT,
    Infusion,
    LymphodepletionDose,
    ProductDose,
    Regimen,
)

MAX_FILE_BYTES = 1_000_000


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid."""

    def __init__(self, source: str, field: str, value: Any, allowed: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{source}: {field}: got {shown}; allowed: {allowed}")


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not part.startswith("function-"):
            out += ("." if out else "") + part
    return out or "<file>"


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a parsed YAML document into a :class:`Scenario` and check it against its model."""
    if not isinstance(data, dict):
        raise ScenarioError(
            source, "<file>", type(data).__name__, "a YAML mapping of scenario keys"
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            allowed = "no such key here (unknown keys are rejected)"
        elif kind == "missing":
            allowed = "a value (this key is required)"
        else:
            msg = str(err.get("msg", "a valid value"))
            allowed = msg.removeprefix("Value error, ").removeprefix("Input should be ")
        value = err.get("input") if kind != "missing" else None
        raise ScenarioError(source, _path(tuple(err.get("loc", ()))), value, allowed) from None
    check_against_model(scenario, source)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    p = Path(path)
    source = str(p)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(source, "<file>", p.stat().st_size, "a file under 1 MB")
        text = p.read_text(encoding="utf-8")
    except ScenarioError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "<file>", str(p), f"a readable UTF-8 file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<file>"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(source, where, problem, "well-formed YAML") from None
    return parse_scenario(data, source)


def check_against_model(scenario: Scenario, source: str) -> None:
    """Checks that need the model: names of parameters, outputs and dosing inputs."""
    if scenario.model not in MODELS:
        raise ScenarioError(source, "model", scenario.model, ", ".join(sorted(MODELS)))
    model = get_model(scenario.model)
    names = set(model.parameter_names)
    for section, mapping in (
        ("product.composition", scenario.product.composition),
        ("population.parameters", scenario.population.parameters),
    ):
        for key, value in mapping.items():
            if key not in names:
                raise ScenarioError(
                    source, f"{section}.{key}", value, f"a parameter of {model.name}: "
                    + ", ".join(model.parameter_names)
                )  # fmt: skip
            if value <= 0 and model.parameter(key).value > 0:
                raise ScenarioError(source, f"{section}.{key}", value, "a positive number")
    if scenario.outputs is not None:
        for i, name in enumerate(scenario.outputs):
            if name not in model.observables:
                raise ScenarioError(
                    source, f"outputs[{i}]", name, f"an output of {model.name}: "
                    + ", ".join(model.observables)
                )  # fmt: skip
    inputs = {i.name for i in model.inputs}
    if scenario.regimen.infusions and CAR_INPUT not in inputs:
        raise ScenarioError(source, "regimen.infusions", "...", f"none for model {model.name}")
    if scenario.regimen.lymphodepletion and LYMPHODEPLETION_INPUT not in inputs:
        raise ScenarioError(
            source, "regimen.lymphodepletion", "...",
            f"an empty list: model {model.name} has no lymphodepletion input",
        )  # fmt: skip
    for i, inf in enumerate(scenario.regimen.infusions):
        if inf.day > scenario.horizon_days:
            raise ScenarioError(source, f"regimen.infusions[{i}].day", inf.day, "<= horizon_days")


def output_times(scenario: Scenario) -> np.ndarray:
    ot = scenario.output_times
    if ot.days is not None:
        return np.array(ot.days, dtype=float)
    assert ot.every_days is not None
    return ot.start_day + ot.every_days * np.arange(scenario.n_output_times())


def regimen(scenario: Scenario) -> Regimen:
    r = scenario.regimen
    return Regimen(
        infusions=tuple(Infusion(i.day, i.fraction) for i in r.infusions),
        lymphodepletion=tuple(LymphodepletionDose(d.day, d.amount_mg) for d in r.lymphodepletion),
    )


def product_dose(scenario: Scenario) -> ProductDose:
    return ProductDose(scenario.product.dose.value, scenario.product.dose.unit)


def parameter_overrides(scenario: Scenario) -> dict[str, float]:
    """Typical-value overrides: product composition, then population-level settings."""
    return {**scenario.product.composition, **scenario.population.parameters}


def model_of(scenario: Scenario) -> Model:
    return get_model(scenario.model)
