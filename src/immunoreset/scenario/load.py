"""Reading and checking scenario files; turning a scenario into simulation inputs.

Every problem becomes a :class:`ScenarioError` whose message is one line naming the file, the field
path, the offending value and what is allowed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from immunoreset.model.core import Model
from immunoreset.model.registry import MODELS, get_model
from immunoreset.scenario.schema import MAX_OUTPUT_TIMES, ManagementSpec, Scenario
from immunoreset.therapy.products import Product, ProductError, load_product
from immunoreset.therapy.regimen import (
    CAR_INPUT,
    CHEMOTHERAPY_AGENTS,
    CONDITIONING_PRESETS,
    LYMPHODEPLETION_INPUT,
    ChemotherapyDose,
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


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and not part.startswith("function-"):
            out += ("." if out else "") + part
    return out or "<file>"


def _bound(ctx: dict[str, Any], key: str) -> str:
    value = ctx.get(key)
    return f"{value:g}" if isinstance(value, float) else str(value)


def allowed_text(err: Any) -> str:
    """What a field allows, in the project's words, from one pydantic error record."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    words = {
        "extra_forbidden": "no such key here (unknown keys are rejected)",
        "missing": "a value (this key is required)",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "finite_number": "a finite number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "string_type": "text",
        "dict_type": "a mapping of keys to values",
        "list_type": "a list",
        "model_type": "a mapping of keys to values",
        "model_attributes_type": "a mapping of keys to values",
    }
    if kind in words:
        return words[kind]
    bounds = {
        "greater_than": ("a number > ", "gt"),
        "greater_than_equal": ("a number >= ", "ge"),
        "less_than": ("a number < ", "lt"),
        "less_than_equal": ("a number <= ", "le"),
    }
    if kind in bounds:
        text, key = bounds[kind]
        return text + _bound(ctx, key)
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", "the listed values")).replace("'", "")
    msg = str(err.get("msg", "a valid value"))
    return msg.removeprefix("Value error, ").removeprefix("Input should be ")


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
        value = err.get("input") if err.get("type") != "missing" else None
        raise ScenarioError(
            source, field_path(tuple(err.get("loc", ()))), value, allowed_text(err)
        ) from None
    check_scenario(scenario, source)
    return scenario


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that rejects a key given twice in one mapping (plain YAML keeps the last)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def read_text_limited(path: Path, limit: int, source: str) -> str:
    """Read at most ``limit`` bytes of UTF-8 text; a longer input (or an endless device such as
    ``/dev/zero``) is refused without reading the rest."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(
            source, "<file>", str(path), f"a readable file ({exc.strerror or exc})"
        ) from None
    if len(data) > limit:
        raise ScenarioError(
            source, "<file>", f"more than {limit} bytes", f"a file under {limit} bytes"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(source, "<file>", "binary data", "a UTF-8 text file") from None


def read_yaml(text: str, source: str, error: type[ScenarioError] = ScenarioError) -> Any:
    """Parse YAML text with the safe loader, rejecting a key given twice; a syntax error is
    ``error`` naming the line (scenario and trial files share this)."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<file>"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error(source, where, problem, "well-formed YAML with unique keys") from None


def scenario_from_text(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text (duplicate keys rejected) into a :class:`Scenario`."""
    return parse_scenario(read_yaml(text, source), source)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file (at most 1 MB)."""
    p = Path(path)
    if p.is_dir():
        raise ScenarioError(str(p), "<file>", str(p), "a scenario file, not a folder")
    return scenario_from_text(read_text_limited(p, MAX_FILE_BYTES, str(p)), str(p))


def check_scenario(scenario: Scenario, source: str) -> None:
    """Checks across fields, and checks that need the model."""
    ot = scenario.output_times
    if scenario.n_output_times() > MAX_OUTPUT_TIMES:
        field, value = ("output_times.every_days", ot.every_days)
        if ot.days is not None:
            field, value = ("output_times.days", f"{len(ot.days)} days")
        raise ScenarioError(
            source, field, value,
            f"a grid of at most {MAX_OUTPUT_TIMES} output times up to horiz_days "
            f"{scenario.horizon_days:g} (a larger every_days)",
        )  # fmt: skip
    if ot.days is not None and ot.days[-1] > scenario.horizon_days:
        raise ScenarioError(
            source, f"output_times.days[{len(ot.days) - 1}]", ot.days[-1], "<= horizon_days"
        )
    if ot.start_day > scenario.horizon_days:
        raise ScenarioError(source, "output_times.start_day", ot.start_day, "<= horizon_days")
    if scenario.endpoints is not None and scenario.store != "endpoints":
        raise ScenarioError(
            source, "endpoints", scenario.endpoints.model_dump(), "only with 'store: endpoints' (a"
            " run that keeps endpoints"
            " only); for stored trajectories give these settings to 'immunoreset endpoints'",
        )  # fmt: skip
    if scenario.endpoints is not None:
        last = scenario.endpoints.visits[-1]
        if last > scenario.horizon_days:
            where = f"endpoints.visits[{len(scenario.endpoints.visits) - 1}]"
            raise ScenarioError(source, where, last, "visit days <= horizon_days")
    total = sum(i.fraction for i in scenario.regimen.infusions)
    if total > 1.0 + 1e-9:
        raise ScenarioError(
            source, "regimen.infusions[].fraction", f"fractions adding to {total:g}",
            "fractions of the product dose adding to at most 1 (the dose is the total given)",
        )  # fmt: skip
    check_against_model(scenario, source)


def check_against_model(scenario: Scenario, source: str) -> None:
    """Checks that need the model: names of parameters, outputs and dosing inputs."""
    if scenario.model not in MODELS:
        raise ScenarioError(source, "model", scenario.model, ", ".join(sorted(MODELS)))
    model = get_model(scenario.model)
    product = _catalogue_product(scenario, source)
    if product is not None and product.model != model.name:
        raise ScenarioError(
            source, "product.catalogue", scenario.product.catalogue,
            f"a product written for model {model.name} (this one is for {product.model})",
        )  # fmt: skip
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
            if model.parameter(key).omega2_scale == "logit" and not 0 < value < 1:
                raise ScenarioError(
                    source, f"{section}.{key}", value, "a share between 0 and 1 (exclusive)"
                )
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
    for agent in CHEMOTHERAPY_AGENTS:
        if agent not in inputs and (
            getattr(scenario.regimen, agent) or scenario.regimen.conditioning not in (None, "none")
        ):
            field = agent if getattr(scenario.regimen, agent) else "conditioning"
            raise ScenarioError(
                source, f"regimen.{field}", "...",
                f"none for model {model.name}: it has no {agent} input"
                + (" (use 'lymphodepletion')" if LYMPHODEPLETION_INPUT in inputs else ""),
            )  # fmt: skip
    if scenario.regimen.lymphodepletion and LYMPHODEPLETION_INPUT not in inputs:
        raise ScenarioError(
            source, "regimen.lymphodepletion", "...",
            f"an empty list: model {model.name} has no lymphodepletion input",
        )  # fmt: skip
    for i, inf in enumerate(scenario.regimen.infusions):
        if inf.day > scenario.horizon_days:
            raise ScenarioError(source, f"regimen.infusions[{i}].day", inf.day, "<= horizon_days")
    if scenario.management is not None:
        missing = set(scenario.management.parameters()) - names
        if missing:
            with_policy = [m for m in sorted(MODELS) if _has_policy(m)]
            given = scenario.management.model_dump(exclude_defaults=True) or "the default policy"
            raise ScenarioError(
                source, "management", given,
                f"none for model {model.name}: it has no management policy (models with one: "
                f"{', '.join(with_policy)})",
            )  # fmt: skip
    _check_regimen_limits(scenario, model, source)
    _check_shares(scenario, model, source)


def _has_policy(name: str) -> bool:
    names = set(get_model(name).parameter_names)
    return all(key in names for key in ManagementSpec().parameters())


def _check_regimen_limits(scenario: Scenario, model: Model, source: str) -> None:
    limits = model.regimen_limits
    infusions = scenario.regimen.infusions
    why = f" ({limits.reason})" if limits.reason else ""
    if limits.max_infusions is not None and len(infusions) > limits.max_infusions:
        raise ScenarioError(
            source, "regimen.infusions", f"{len(infusions)} infusions",
            f"at most {limits.max_infusions} for model {model.name}{why}",
        )  # fmt: skip
    for i, inf in enumerate(infusions):
        if limits.infusion_days is not None and inf.day not in limits.infusion_days:
            days = ", ".join(f"{d:g}" for d in limits.infusion_days)
            raise ScenarioError(
                source, f"regimen.infusions[{i}].day", inf.day,
                f"day {days} for model {model.name}{why}",
            )  # fmt: skip
        if limits.whole_dose_only and inf.fraction != 1.0:
            raise ScenarioError(
                source, f"regimen.infusions[{i}].fraction", inf.fraction,
                f"1 (the whole dose) for model {model.name}{why}",
            )  # fmt: skip


SHARE_GROUPS = (("pct_cd4", "pct_cd8"), ("pct_tn", "pct_tcm", "pct_tem", "pct_tef"))
"""Product composition parameters (percent) that split one whole and so add to at most 100. (The
integrated model normalises its phenotype mix, so its published shares summing to 100.06 % are
accepted as given.)"""


def _check_shares(scenario: Scenario, model: Model, source: str) -> None:
    overrides = parameter_overrides(scenario)
    for group in SHARE_GROUPS:
        if not all(name in model.parameter_names for name in group):
            continue
        if not any(name in overrides for name in group):
            continue
        values = {name: overrides.get(name, model.parameter(name).value) for name in group}
        total = sum(values.values())
        if total > 100.0 + 1e-9:
            given = ", ".join(f"{k} {v:g}" for k, v in values.items())
            raise ScenarioError(
                source, "product.composition", f"{given} (sum {total:g} %)",
                f"shares adding to at most 100 % ({' + '.join(group)})",
            )  # fmt: skip


def output_times(scenario: Scenario) -> np.ndarray:
    ot = scenario.output_times
    if ot.days is not None:
        return np.array(ot.days, dtype=float)
    assert ot.every_days is not None
    return ot.start_day + ot.every_days * np.arange(scenario.n_output_times())


def regimen(scenario: Scenario) -> Regimen:
    r = scenario.regimen
    if r.conditioning is not None:
        chemo = tuple(ChemotherapyDose(*d) for d in CONDITIONING_PRESETS[r.conditioning])
    else:
        chemo = tuple(
            ChemotherapyDose(agent, d.day, d.mg_m2)
            for agent in CHEMOTHERAPY_AGENTS
            for d in getattr(r, agent)
        )
    return Regimen(
        infusions=tuple(Infusion(i.day, i.fraction) for i in r.infusions),
        lymphodepletion=tuple(LymphodepletionDose(d.day, d.amount_mg) for d in r.lymphodepletion),
        chemotherapy=chemo,
    )


@lru_cache(maxsize=64)
def _load_catalogue(name_or_path: str) -> Product:
    return load_product(name_or_path)


def _catalogue_product(scenario: Scenario, source: str = "<scenario>") -> Product | None:
    name = scenario.product.catalogue
    if name is None:
        return None
    try:
        return _load_catalogue(name)
    except ProductError as exc:
        raise ScenarioError(source, "product.catalogue", name, str(exc)) from None


def product_dose(scenario: Scenario) -> ProductDose:
    """The scenario's dose (or the catalogue product's default), split between product slots."""
    product = _catalogue_product(scenario)
    dose = scenario.product.dose
    if product is None:
        assert dose is not None  # the schema requires a dose without a catalogue product
        return ProductDose(dose.value, dose.unit)
    value, unit = (dose.value, dose.unit) if dose else (product.dose.value, product.dose.unit)
    return ProductDose(value, unit, product.dose_split())


def parameter_overrides(scenario: Scenario) -> dict[str, float]:
    """Typical-value overrides: catalogue product, product composition, management policy, then
    population-level settings (later ones win)."""
    product = _catalogue_product(scenario)
    catalogue = product.overrides() if product is not None else {}
    policy = scenario.management.parameters() if scenario.management is not None else {}
    return {**catalogue, **scenario.product.composition, **policy, **scenario.population.parameters}


def model_of(scenario: Scenario) -> Model:
    return get_model(scenario.model)
